import { describe, expect, it } from 'vitest';
import { compileDefinition, type CompileContext } from './compile.js';
import { compileTemplate } from './expressions.js';

const world: CompileContext = { skills: new Map([['echo', { required: [] }], ['dev.lint', { required: ['path'] }]]), workflows: new Set(['child.flow']) };

const messages = (raw: unknown) => {
  const r = compileDefinition(raw, world);
  if (r.ok) throw new Error('expected the definition to be refused');
  return r.issues;
};

describe('compileDefinition', () => {
  it('builds the graph from stages, parallel stages and depends_on, in a topological order', () => {
    const r = compileDefinition(
      {
        name: 'g.flow',
        version: 1,
        inputs: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
        stages: [
          { steps: [{ id: 'a', skill: 'echo' }, { id: 'b', skill: 'echo' }] },
          { parallel: true, steps: [{ id: 'c', skill: 'echo' }, { id: 'd', skill: 'echo', when: 'inputs.n > 2' }] },
          { steps: [{ id: 'e', skill: 'echo', depends_on: ['a'], with: { sum: '${{ steps.c.output.x + inputs.n }}', text: 'n=${{ inputs.n }}' } }] },
        ],
      },
      world,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const deps = Object.fromEntries(r.workflow.steps.map((s) => [s.id, s.deps]));
    expect(deps).toEqual({ a: [], b: ['a'], c: ['b'], d: ['b'], e: ['c', 'd', 'a'] });
    expect(r.workflow.lastStage).toEqual(['e']);
    expect(r.workflow.checkInput({ n: 1 })).toEqual([]);
    expect(r.workflow.checkInput({ n: 'x' })[0]).toMatch(/input.n must be integer/);
    const e = r.workflow.byId.get('e')!;
    expect(e.with!.render({ inputs: { n: 3 }, steps: { c: { output: { x: 4 }, status: 'completed' } } })).toEqual({ sum: 7, text: 'n=3' });
    expect(r.workflow.byId.get('d')!.when!.evaluate({ inputs: { n: 3 }, steps: {} })).toBe(true);
  });

  it('refuses a cycle, naming its steps', () => {
    const issues = messages({ name: 'g.cycle', version: 1, stages: [{ parallel: true, steps: [{ id: 'a', skill: 'echo', depends_on: ['c'] }, { id: 'b', skill: 'echo', depends_on: ['a'] }, { id: 'c', skill: 'echo', depends_on: ['b'] }] }] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/steps (a → b → c|b → c → a|c → a → b) → \w form a cycle/);
    expect(issues[0]!.path).toEqual(['stages', 0, 'steps', expect.any(Number), 'depends_on']);
  });

  it('refuses unknown skills, workflows and dependencies, and skills whose required input with does not give', () => {
    const issues = messages({
      name: 'g.unknown',
      version: 1,
      steps: [
        { id: 'a', skill: 'nope.skill' },
        { id: 'b', workflow: { name: 'missing.flow' } },
        { id: 'c', skill: 'echo', depends_on: ['zz'] },
      ],
    });
    expect(issues.map((i) => i.message)).toEqual(['step c depends on unknown step zz']);
    const later = messages({ name: 'g.unknown', version: 1, steps: [{ id: 'a', skill: 'nope.skill' }, { id: 'b', workflow: { name: 'missing.flow' } }, { id: 'l', skill: 'dev.lint', with: { fix: true } }] });
    expect(later.map((i) => [i.step, i.message])).toEqual([
      ['a', 'step a uses unknown skill nope.skill'],
      ['b', 'step b runs unknown workflow missing.flow'],
      ['l', 'step l: skill dev.lint requires input path, which with does not give'],
    ]);
    expect(later[0]!.path).toEqual(['steps', 0, 'skill']);
  });

  it('refuses bad expressions, reads of steps that do not run before, undeclared inputs and item outside for_each', () => {
    const issues = messages({
      name: 'g.expr',
      version: 1,
      inputs: { type: 'object', properties: { n: { type: 'integer' } } },
      stages: [
        {
          parallel: true,
          steps: [
            { id: 'a', skill: 'echo', when: 'inputs.n >' },
            { id: 'b', skill: 'echo', with: { x: '${{ steps.c.output }}' } },
            { id: 'c', skill: 'echo', with: { x: '${{ inputs.missing }}', y: '${{ item }}' } },
            { id: 'd', skill: 'echo', when: 'inputs.n + 1' },
          ],
        },
      ],
    });
    const byStep = Object.fromEntries(issues.map((i) => [`${i.step}:${i.message.slice(0, 40)}`, i.message]));
    expect(Object.values(byStep)).toEqual([
      expect.stringMatching(/^step a: expression `inputs.n >` does not parse/),
      'step b reads steps.c, which does not run before it (add it to depends_on)',
      'step c reads inputs.missing, which inputs does not declare',
      'step c reads item/index outside for_each',
      'step d: when must be a condition (true/false), not int',
    ]);
  });

  it('points schema errors at the step', () => {
    const issues = messages({ name: 'g.schema', version: 1, steps: [{ id: 'a', skill: 'echo' }, { id: 'Bad-Id', skill: 'echo' }, { id: 'c' }] });
    expect(issues.map((i) => i.step)).toEqual(['Bad-Id', 'c']);
    expect(issues[1]!.message).toMatch(/step c needs one of skill, workflow, decision, wait/);
  });
});

describe('templates', () => {
  it('keeps types of whole placeholders and interpolates text; plain values pass through', () => {
    const t = compileTemplate({ n: '${{ inputs.n * 2 }}', list: ['${{ inputs.xs.map(x, x + 1) }}'], s: 'a-${{ inputs.n }}-${{ inputs.o }}', k: 3, f: 1.5 });
    expect(t.render({ inputs: { n: 2, xs: [1, 2], o: { z: 1 } }, steps: {} })).toEqual({ n: 4, list: [[2, 3]], s: 'a-2-{"z":1}', k: 3, f: 1.5 });
  });
});
