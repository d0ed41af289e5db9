// Prompt skills in the Agent Skills folder format: `<dir>/<skill>/SKILL.md` with YAML front matter (`name`,
// `description`, optional `category`, `timeout`, `side_effects`) and a Markdown body; files beside it are resources.
// Progressive disclosure: at start-up only the front matter is read (the head of each file, up to the closing `---`);
// the body and the resource list are read on first use and cached. The body is sent as a cacheable system prompt.
import type { LlmProvider } from '@steward/llm';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { defineSkill, SkillError, type CodeSkill } from '../skill.js';

/** What the loader reads; swapped in tests to count reads. */
export interface SkillFiles {
  list(dir: string): Promise<string[]>;
  /** Up to `maxBytes` from the start of a file (the front matter), or undefined when the file does not exist. */
  head(path: string, maxBytes: number): Promise<string | undefined>;
  read(path: string): Promise<string>;
}

export const nodeSkillFiles: SkillFiles = {
  list: async (dir) => (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() || e.isFile()).map((e) => e.name),
  head: async (path, maxBytes) => {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw err;
    }
    try {
      const buf = Buffer.alloc(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  },
  read: (path) => readFile(path, 'utf8'),
};

const FRONT_MATTER_MAX_BYTES = 8 * 1024;

/** The front matter: Agent Skills' `name` and `description`, plus Steward's optional routing and limits. */
export const SkillFrontMatter = z.looseObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and hyphens').max(64),
  description: z.string().min(1).max(1024),
  category: z.string().regex(/^[a-z][a-z0-9-]*$/).max(40).default('prompt'),
  side_effects: z.enum(['none', 'reversible', 'irreversible']).default('none'),
  timeout_ms: z.number().int().min(1000).max(3_600_000).default(120_000),
});
export type SkillFrontMatter = z.infer<typeof SkillFrontMatter>;

export const PromptSkillInput = z.object({
  task: z.string().min(1).max(100_000).describe('What to do, in words'),
  context: z.record(z.string(), z.unknown()).optional().describe('Data the skill works on'),
});
export const PromptSkillOutput = z.object({
  text: z.string().describe("The skill's answer"),
  offline: z.boolean().describe('True when no model was called (offline provider)'),
  model: z.string(),
});

export interface LoadedPromptSkills {
  skills: CodeSkill[];
  /** Folders that were skipped, and why (bad front matter, no SKILL.md). */
  skipped: { folder: string; reason: string }[];
}

/** Splits `---\n<yaml>\n---\n<body>`; undefined when the text has no complete front matter. */
export function splitFrontMatter(text: string): { yaml: string; bodyOffset: number } | undefined {
  const m = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  return m ? { yaml: m[1]!, bodyOffset: m[0].length } : undefined;
}

/**
 * Reads the catalogue of the prompt skills under `dir` (front matter only). A skill is named `<category>.<name>`
 * in Steward's catalogue, so it routes to its category's worker pool.
 */
export async function loadPromptSkills(dir: string, provider: () => LlmProvider, files: SkillFiles = nodeSkillFiles): Promise<LoadedPromptSkills> {
  const skills: CodeSkill[] = [];
  const skipped: LoadedPromptSkills['skipped'] = [];
  const folders = (await files.list(dir)).sort();
  for (const folder of folders) {
    const path = join(dir, folder, 'SKILL.md');
    const head = await files.head(path, FRONT_MATTER_MAX_BYTES);
    if (head === undefined) continue; // not a skill folder
    const split = splitFrontMatter(head);
    if (!split) {
      skipped.push({ folder, reason: `SKILL.md has no front matter (--- … ---) in its first ${FRONT_MATTER_MAX_BYTES} bytes` });
      continue;
    }
    let meta: SkillFrontMatter;
    try {
      const parsed = SkillFrontMatter.safeParse(parseYaml(split.yaml));
      if (!parsed.success) {
        skipped.push({ folder, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
        continue;
      }
      meta = parsed.data;
    } catch (err) {
      skipped.push({ folder, reason: `front matter is not YAML: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    skills.push(promptSkill(meta, join(dir, folder), path, provider, files));
  }
  return { skills, skipped };
}

function promptSkill(meta: SkillFrontMatter, folder: string, path: string, provider: () => LlmProvider, files: SkillFiles): CodeSkill {
  let body: Promise<string> | undefined;
  // First use reads the body and lists the resources; later uses reuse it (a failed read is tried again next time).
  const instructions = (): Promise<string> =>
    (body ??= (async () => {
      const text = await files.read(path);
      const split = splitFrontMatter(text);
      const resources = (await files.list(folder)).filter((f) => f !== 'SKILL.md').sort();
      const list = resources.length > 0 ? `\n\nResources in this skill's folder (ask for them by name): ${resources.join(', ')}` : '';
      return `${split ? text.slice(split.bodyOffset) : text}${list}`;
    })().catch((err: unknown) => {
      body = undefined;
      throw err;
    }));
  return defineSkill({
    name: `${meta.category}.${meta.name}`,
    category: meta.category,
    description: meta.description,
    sideEffects: meta.side_effects,
    timeoutMs: meta.timeout_ms,
    kind: 'prompt',
    input: PromptSkillInput,
    output: PromptSkillOutput,
    run: async (input, ctx) => {
      const llm = provider();
      let system: string;
      try {
        system = await instructions();
      } catch (err) {
        throw new SkillError('skill_unreadable', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, true);
      }
      const prompt = input.context === undefined ? input.task : `${input.task}\n\nContext (JSON):\n${JSON.stringify(input.context, null, 2)}`;
      const r = await llm.complete({
        system: `You are carrying out the skill "${meta.name}": ${meta.description}. Follow its instructions. Put your whole answer in "text".`,
        cacheableSystem: system,
        prompt,
        schema: z.object({ text: z.string() }),
        schemaName: 'skill_answer',
        signal: ctx.signal,
        taskId: ctx.taskId,
      });
      ctx.recordUsage?.(r.model, r.usage);
      return { text: r.value.text, offline: r.offline, model: r.model };
    },
  });
}
