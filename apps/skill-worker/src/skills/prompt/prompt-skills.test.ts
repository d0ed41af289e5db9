// Progressive disclosure, counted: the catalogue of 1,000 prompt skills is built from their front matter alone, and
// a skill's body is read once, on its first use.
import { OfflineProvider } from '@steward/llm';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPromptSkills, nodeSkillFiles, type SkillFiles } from './prompt-skills.js';

let dir: string;
const N = 1000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prompt-skills-'));
  for (let i = 0; i < N; i++) {
    const folder = join(dir, `skill-${String(i).padStart(4, '0')}`);
    await mkdir(folder);
    const body = `# Skill ${i}\n\n${'Follow these steps carefully. '.repeat(200)}\n`;
    await writeFile(join(folder, 'SKILL.md'), `---\nname: skill-${i}\ndescription: Generated skill number ${i} for the catalogue test.\ncategory: ${i % 2 === 0 ? 'ops' : 'docs'}\n---\n${body}`);
    if (i === 7) await writeFile(join(folder, 'checklist.md'), '- one\n- two\n');
  }
  const bad = join(dir, 'zz-broken');
  await mkdir(bad);
  await writeFile(join(bad, 'SKILL.md'), '---\nname: Not Valid!\n---\nbody');
  await mkdir(join(dir, 'zz-not-a-skill'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real file access, with every call counted. */
function counting(): { files: SkillFiles; reads: string[]; heads: number; lists: number } {
  const c = { reads: [] as string[], heads: 0, lists: 0, files: undefined as unknown as SkillFiles };
  c.files = {
    list: (d) => (c.lists++, nodeSkillFiles.list(d)),
    head: (p, n) => (c.heads++, nodeSkillFiles.head(p, n)),
    read: (p) => (c.reads.push(p), nodeSkillFiles.read(p)),
  };
  return c;
}

describe('prompt skills (Agent Skills folders)', () => {
  it('loads the catalogue of 1,000 skills from their front matter and reads no body until one is used', async () => {
    const c = counting();
    const provider = new OfflineProvider();
    const t0 = performance.now();
    const { skills, skipped } = await loadPromptSkills(dir, () => provider, c.files);
    const ms = performance.now() - t0;
    console.log(`catalogue of ${skills.length} prompt skills loaded in ${ms.toFixed(0)} ms`);
    expect(skills).toHaveLength(N);
    expect(c.reads).toEqual([]);
    expect(c.heads).toBe(N + 2);
    expect(skipped).toEqual([{ folder: 'zz-broken', reason: expect.stringMatching(/name/) as string }]);
    const s7 = skills.find((s) => s.name === 'docs.skill-7')!;
    expect(s7).toMatchObject({ category: 'docs', description: 'Generated skill number 7 for the catalogue test.', sideEffects: 'none' });

    const ctl = new AbortController();
    const out = await s7.run({ task: 'Summarise the release' }, { idempotencyKey: 'k', tenantId: 't1', taskId: 'task-1', attempt: 1, signal: ctl.signal });
    expect(out).toMatchObject({ offline: true });
    expect(c.reads).toEqual([join(dir, 'skill-0007', 'SKILL.md')]);
    await s7.run({ task: 'Again' }, { idempotencyKey: 'k2', tenantId: 't1', taskId: 'task-1', attempt: 1, signal: ctl.signal });
    expect(c.reads).toHaveLength(1); // cached after its first use
  });
});
