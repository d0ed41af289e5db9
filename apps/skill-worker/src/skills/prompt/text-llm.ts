// Text skills backed by Claude, with an honest offline fallback: without a model they use plain heuristics (lead
// sentences, keyword matches, `key: value` lines) and say `offline: true` with the method they used.
import type { LlmProvider } from '@steward/llm';
import { z } from 'zod';
import { defineSkill, type CodeSkill } from '../skill.js';

const Text = z.string().min(1).max(200_000);
const Method = z.object({ offline: z.boolean(), method: z.string().describe('model id, or the heuristic used offline') });

const sentences = (text: string): string[] =>
  text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"'(])/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Lead-based extractive summary: the first sentences, up to `maxWords`. */
export function leadSummary(text: string, maxWords: number): string {
  const out: string[] = [];
  let words = 0;
  for (const s of sentences(text)) {
    const n = s.split(' ').length;
    if (out.length > 0 && words + n > maxWords) break;
    out.push(n > maxWords ? `${s.split(' ').slice(0, maxWords).join(' ')}…` : s);
    words += n;
  }
  return out.join(' ');
}

const tokens = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Keyword classifier: the label whose name and keywords occur most in the text (ties: the first label). */
export function keywordClassify(text: string, labels: { id: string; keywords?: string[] | undefined }[]): { label: string; score: number } {
  const counts = new Map<string, number>();
  for (const t of tokens(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
  let best = { label: labels[0]!.id, hits: -1 };
  let total = 0;
  for (const l of labels) {
    const words = new Set([...tokens(l.id), ...(l.keywords ?? []).flatMap(tokens)]);
    const hits = [...words].reduce((n, w) => n + (counts.get(w) ?? 0), 0);
    total += hits;
    if (hits > best.hits) best = { label: l.id, hits };
  }
  return { label: best.label, score: total === 0 ? 0 : best.hits / total };
}

/** `Field: value` / `field = value` lines, matched to the wanted fields case- and punctuation-insensitively. */
export function lineExtract(text: string, fields: string[]): Record<string, string | null> {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const found = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*[-*]?\s*([^:=]{1,80}?)\s*[:=]\s*(.+?)\s*$/.exec(line);
    if (m && !found.has(norm(m[1]!))) found.set(norm(m[1]!), m[2]!);
  }
  return Object.fromEntries(fields.map((f) => [f, found.get(norm(f)) ?? null]));
}

export function textLlmSkills(provider: () => LlmProvider): CodeSkill[] {
  const summarise = defineSkill({
    name: 'text.summarise',
    category: 'text',
    description: 'Summarises a text in at most `maxWords` words (Claude; offline: its lead sentences).',
    sideEffects: 'none',
    timeoutMs: 120_000,
    input: z.object({ text: Text, maxWords: z.number().int().min(5).max(2000).default(80) }),
    output: z.object({ summary: z.string() }).extend(Method.shape),
    run: async ({ text, maxWords }, ctx) => {
      const llm = provider();
      if (llm.kind === 'offline') return { summary: leadSummary(text, maxWords), offline: true, method: 'lead sentences' };
      const r = await llm.complete({ prompt: `Summarise in at most ${maxWords} words:\n\n${text}`, schema: z.object({ summary: z.string() }), schemaName: 'summary', signal: ctx.signal, taskId: ctx.taskId });
      ctx.recordUsage?.(r.model, r.usage);
      return { summary: r.value.summary, offline: false, method: r.model };
    },
  });

  const classify = defineSkill({
    name: 'text.classify',
    category: 'text',
    description: 'Puts a text in one of the given labels, with a confidence (Claude; offline: keyword matches).',
    sideEffects: 'none',
    timeoutMs: 120_000,
    input: z.object({
      text: Text,
      labels: z.array(z.object({ id: z.string().min(1).max(100), description: z.string().max(1000).optional(), keywords: z.array(z.string()).max(100).optional() })).min(2).max(100),
    }),
    output: z.object({ label: z.string(), confidence: z.number().min(0).max(1), rationale: z.string() }).extend(Method.shape),
    run: async ({ text, labels }, ctx) => {
      const llm = provider();
      if (llm.kind === 'offline') {
        const { label, score } = keywordClassify(text, labels);
        return { label, confidence: score, rationale: score === 0 ? 'no label keyword occurs in the text; first label' : `keyword share ${score.toFixed(2)}`, offline: true, method: 'keywords' };
      }
      const ids = labels.map((l) => l.id) as [string, ...string[]];
      const schema = z.object({ label: z.enum(ids), confidence: z.number().min(0).max(1), rationale: z.string() });
      const list = labels.map((l) => `- ${l.id}${l.description ? `: ${l.description}` : ''}`).join('\n');
      const r = await llm.complete({ prompt: `Classify the text into one label.\nLabels:\n${list}\n\nText:\n${text}`, schema, schemaName: 'classification', signal: ctx.signal, taskId: ctx.taskId });
      ctx.recordUsage?.(r.model, r.usage);
      return { ...r.value, offline: false, method: r.model };
    },
  });

  const extract = defineSkill({
    name: 'text.extract',
    category: 'text',
    description: 'Extracts named fields from a text; a field not found is null (Claude; offline: `Field: value` lines).',
    sideEffects: 'none',
    timeoutMs: 120_000,
    input: z.object({ text: Text, fields: z.array(z.string().min(1).max(100)).min(1).max(100) }),
    output: z.object({ fields: z.record(z.string(), z.string().nullable()) }).extend(Method.shape),
    run: async ({ text, fields }, ctx) => {
      const llm = provider();
      if (llm.kind === 'offline') return { fields: lineExtract(text, fields), offline: true, method: 'field: value lines' };
      const schema = z.object(Object.fromEntries(fields.map((f) => [f, z.string().nullable()])));
      const r = await llm.complete({ prompt: `Extract these fields from the text (null when absent): ${fields.join(', ')}\n\nText:\n${text}`, schema, schemaName: 'fields', signal: ctx.signal, taskId: ctx.taskId });
      ctx.recordUsage?.(r.model, r.usage);
      return { fields: r.value, offline: false, method: r.model };
    },
  });

  return [summarise, classify, extract];
}
