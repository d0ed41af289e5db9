import { describe, expect, it } from 'vitest';
import { parseDefinitionText } from './register.js';
import { MAX_DEFINITION_DEPTH, lineAndColumn, yamlTooDeepAt } from './yaml-depth.js';

const flow = (d: number) => `${'['.repeat(d)}1${']'.repeat(d)}`;
const block = (d: number) => `${'- '.repeat(d)}x`;
const indented = (d: number) => `${Array.from({ length: d }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1`;

describe('yamlTooDeepAt', () => {
  it('lets a definition and YAML within the depth limit through', () => {
    expect(yamlTooDeepAt('name: a\nversion: 1\nsteps:\n  - id: a\n    skill: echo\n    with: { x: "${{ inputs.x }}", y: [1, [2, [3]]] }\n')).toBeUndefined();
    for (const make of [flow, block, indented]) expect(yamlTooDeepAt(make(MAX_DEFINITION_DEPTH))).toBeUndefined();
    expect(yamlTooDeepAt('')).toBeUndefined();
  });

  it('finds nesting far beyond the limit in every YAML form', () => {
    for (const make of [flow, block, indented]) {
      const text = make(make === indented ? 2000 : 100_000);
      expect(yamlTooDeepAt(text)).toBeGreaterThan(0);
    }
    const { line, column } = lineAndColumn(indented(500), yamlTooDeepAt(indented(500))!);
    expect(line).toBeGreaterThan(MAX_DEFINITION_DEPTH);
    expect(column).toBeGreaterThan(MAX_DEFINITION_DEPTH);
  });

  it('makes parseDefinitionText refuse such text with the place, and again (the second parse used to kill the process)', () => {
    for (let i = 0; i < 2; i++) expect(() => parseDefinitionText(flow(1000))).toThrow(/nests deeper than 100 levels \(at line 1, column 10[0-9]\)/);
  });
});
