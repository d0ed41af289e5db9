// Text skills: deterministic string utilities (no model involved).
import vm from 'node:vm';
import { z } from 'zod';
import { defineSkill, SkillError } from '../skill.js';

const MiB = 1024 * 1024;
const textField = z.string().max(20 * MiB);

// ------------------------------------------------------------------------------------------------ text.wordcount

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

export const wordcount = defineSkill({
  name: 'text.wordcount',
  category: 'text',
  description: 'Counts words (Unicode-aware), characters, lines, sentences and paragraphs, estimates reading time, and lists the most frequent words.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({ text: textField, top: z.number().int().min(0).max(100).default(10).describe('How many most frequent words to list.') }),
  output: z.object({
    words: z.number().int(),
    characters: z.number().int().describe('Unicode code points.'),
    charactersNoSpaces: z.number().int(),
    lines: z.number().int(),
    sentences: z.number().int(),
    paragraphs: z.number().int(),
    readingMinutes: z.number().describe('At 230 words per minute.'),
    topWords: z.array(z.object({ word: z.string(), count: z.number().int() })),
  }),
  run: async (input) => {
    const t = input.text;
    const freq = new Map<string, number>();
    let words = 0;
    for (const s of segmenter.segment(t)) {
      if (!s.isWordLike) continue;
      words++;
      const w = s.segment.toLowerCase();
      freq.set(w, (freq.get(w) ?? 0) + 1);
    }
    const chars = [...t];
    const topWords = [...freq]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, input.top)
      .map(([word, count]) => ({ word, count }));
    return {
      words,
      characters: chars.length,
      charactersNoSpaces: chars.filter((c) => !/\s/u.test(c)).length,
      lines: t === '' ? 0 : t.split(/\r\n|\r|\n/).length - (/(\r\n|\r|\n)$/.test(t) ? 1 : 0),
      sentences: t.trim() === '' ? 0 : (t.match(/[^.!?…]+(?:[.!?…]+|$)/gu) ?? []).filter((s) => /\p{L}|\p{N}/u.test(s)).length,
      paragraphs: t.split(/(?:\r?\n\s*){2,}/).filter((p) => p.trim() !== '').length,
      readingMinutes: Math.round((words / 230) * 10) / 10,
      topWords,
    };
  },
});

// ------------------------------------------------------------------------------------------------ text.regex.extract

/**
 * Runs the match loop in a separate V8 context with a hard time limit: a catastrophically backtracking pattern on
 * caller input would otherwise block the worker's event loop. The script text is a fixed constant; inputs are data.
 */
const REGEX_SCRIPT = new vm.Script(`
  'use strict';
  (() => {
    const re = new RegExp(pattern, flags);
    const out = [];
    let m;
    if (!re.global) { m = re.exec(text); if (m) out.push(m); }
    else while (out.length < limit && (m = re.exec(text)) !== null) { out.push(m); if (m[0] === '') re.lastIndex++; }
    return JSON.stringify(out.map((x) => ({ match: x[0], index: x.index, groups: x.slice(1).map((g) => g === undefined ? null : g), named: x.groups ? { ...x.groups } : null })));
  })()
`);

interface RegexMatch {
  match: string;
  index: number;
  groups: (string | null)[];
  named: Record<string, string | undefined> | null;
}

export function regexMatches(pattern: string, flags: string, text: string, limit: number, timeoutMs: number): RegexMatch[] {
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    throw new SkillError('invalid_pattern', err instanceof Error ? err.message : String(err));
  }
  const context = vm.createContext({ pattern, flags, text, limit });
  try {
    return JSON.parse(REGEX_SCRIPT.runInContext(context, { timeout: timeoutMs }) as string) as RegexMatch[];
  } catch (err) {
    // The timeout error may come from the other realm, so it is recognised by its code, not instanceof.
    if ((err as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new SkillError('regex_timeout', `the pattern took longer than ${timeoutMs} ms (catastrophic backtracking?)`);
    throw err;
  }
}

export const regexExtract = defineSkill({
  name: 'text.regex.extract',
  category: 'text',
  description: 'Finds matches of a JavaScript regular expression in text and returns each match with its index, numbered and named groups. Evaluation has a hard time limit.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({
    text: textField,
    pattern: z.string().min(1).max(10_000).describe('JavaScript regular expression source, without slashes.'),
    flags: z.string().regex(/^[dgimsuvy]*$/).default('g').describe('Regex flags; without "g" only the first match is returned.'),
    limit: z.number().int().min(1).max(100_000).default(1_000),
    timeoutMs: z.number().int().min(10).max(5_000).default(1_000),
  }),
  output: z.object({
    count: z.number().int(),
    matches: z.array(z.object({ match: z.string(), index: z.number().int(), groups: z.array(z.string().nullable()), named: z.record(z.string(), z.string().nullable()).nullable() })),
  }),
  run: async (input) => {
    const found = regexMatches(input.pattern, input.flags, input.text, input.limit, input.timeoutMs);
    const matches = found.map((m) => ({ ...m, named: m.named ? Object.fromEntries(Object.entries(m.named).map(([k, v]) => [k, v ?? null])) : null }));
    return { count: matches.length, matches };
  },
});

// ------------------------------------------------------------------------------------------------ text.truncate

export function truncateText(text: string, max: number, unit: 'characters' | 'words', ellipsis: string, wordBoundary: boolean): { text: string; truncated: boolean } {
  if (unit === 'words') {
    const words = text.trim().split(/\s+/).filter(Boolean);
    if (words.length <= max) return { text, truncated: false };
    return { text: `${words.slice(0, max).join(' ')}${ellipsis}`, truncated: true };
  }
  const chars = [...text];
  if (chars.length <= max) return { text, truncated: false };
  const room = Math.max(0, max - [...ellipsis].length);
  let cut = chars.slice(0, room).join('');
  if (wordBoundary && /\S/.test(chars[room] ?? ' ')) {
    const lastSpace = cut.search(/\s\S*$/);
    if (lastSpace > 0) cut = cut.slice(0, lastSpace);
  }
  return { text: `${cut.trimEnd()}${ellipsis}`, truncated: true };
}

export const truncate = defineSkill({
  name: 'text.truncate',
  category: 'text',
  description: 'Shortens text to at most N characters (ellipsis included, Unicode-safe, optionally at a word boundary) or N words.',
  sideEffects: 'none',
  timeoutMs: 5_000,
  input: z.object({
    text: textField,
    max: z.number().int().min(0).max(10_000_000),
    unit: z.enum(['characters', 'words']).default('characters'),
    ellipsis: z.string().max(20).default('…'),
    wordBoundary: z.boolean().default(true).describe('Characters mode: do not cut inside a word.'),
  }),
  output: z.object({ text: z.string(), truncated: z.boolean() }),
  run: async (input) => truncateText(input.text, input.max, input.unit, input.ellipsis, input.wordBoundary),
});

// ------------------------------------------------------------------------------------------------ text.slugify

export function slugify(text: string, separator: string, maxLength: number, lowercase: boolean): string {
  const base = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '') // drop combining marks: é → e
    .replace(/ß/g, 'ss')
    .replace(/æ/gi, 'ae')
    .replace(/ø/gi, 'o')
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  const s = (lowercase ? base.toLowerCase() : base).split(/\s+/).filter(Boolean).join(separator);
  if ([...s].length <= maxLength) return s;
  const cut = [...s].slice(0, maxLength).join('');
  const at = separator ? cut.lastIndexOf(separator) : -1;
  return at > 0 ? cut.slice(0, at) : cut;
}

export const slugifySkill = defineSkill({
  name: 'text.slugify',
  category: 'text',
  description: 'Turns text into a URL/file-name slug: accents removed, non-alphanumerics collapsed to a separator, lower-cased, cut at a separator to a maximum length.',
  sideEffects: 'none',
  timeoutMs: 5_000,
  input: z.object({
    text: z.string().max(MiB),
    separator: z.enum(['-', '_', '.', '']).default('-'),
    maxLength: z.number().int().min(1).max(1000).default(80),
    lowercase: z.boolean().default(true),
  }),
  output: z.object({ slug: z.string() }),
  run: async (input) => ({ slug: slugify(input.text, input.separator, input.maxLength, input.lowercase) }),
});

// ------------------------------------------------------------------------------------------------ text.lines

export const lines = defineSkill({
  name: 'text.lines',
  category: 'text',
  description: 'Line operations, in this order: trim, drop empty, keep lines containing a substring (or not), dedupe, sort, then head/tail. Returns the lines and their count.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({
    text: textField,
    trim: z.boolean().default(false),
    dropEmpty: z.boolean().default(false),
    contains: z.string().optional().describe('Keep only lines containing this substring.'),
    excludes: z.string().optional().describe('Drop lines containing this substring.'),
    ignoreCase: z.boolean().default(false).describe('For contains/excludes and dedupe.'),
    unique: z.boolean().default(false).describe('Keep the first of equal lines.'),
    sort: z.enum(['none', 'asc', 'desc', 'numeric']).default('none'),
    head: z.number().int().min(0).optional().describe('Keep the first N.'),
    tail: z.number().int().min(0).optional().describe('Keep the last N (after head).'),
  }),
  output: z.object({ lines: z.array(z.string()), count: z.number().int(), totalLines: z.number().int() }),
  run: async (input) => {
    const norm = (s: string): string => (input.ignoreCase ? s.toLowerCase() : s);
    const all = input.text === '' ? [] : input.text.replace(/(\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/);
    let ls = input.trim ? all.map((l) => l.trim()) : all;
    if (input.dropEmpty) ls = ls.filter((l) => l.trim() !== '');
    if (input.contains !== undefined) ls = ls.filter((l) => norm(l).includes(norm(input.contains!)));
    if (input.excludes !== undefined) ls = ls.filter((l) => !norm(l).includes(norm(input.excludes!)));
    if (input.unique) {
      const seen = new Set<string>();
      ls = ls.filter((l) => (seen.has(norm(l)) ? false : (seen.add(norm(l)), true)));
    }
    if (input.sort === 'asc') ls = [...ls].sort((a, b) => a.localeCompare(b));
    else if (input.sort === 'desc') ls = [...ls].sort((a, b) => b.localeCompare(a));
    else if (input.sort === 'numeric') ls = [...ls].sort((a, b) => (parseFloat(a) || 0) - (parseFloat(b) || 0));
    if (input.head !== undefined) ls = ls.slice(0, input.head);
    if (input.tail !== undefined) ls = input.tail === 0 ? [] : ls.slice(-input.tail);
    return { lines: ls, count: ls.length, totalLines: all.length };
  },
});

// ------------------------------------------------------------------------------------------------ text.replace

export const replace = defineSkill({
  name: 'text.replace',
  category: 'text',
  description: 'Replaces every occurrence of a literal substring (no regex) in text, optionally case-insensitively, and says how many were replaced.',
  sideEffects: 'none',
  timeoutMs: 5_000,
  input: z.object({ text: textField, find: z.string().min(1), replaceWith: z.string().default(''), ignoreCase: z.boolean().default(false) }),
  output: z.object({ text: z.string(), replacements: z.number().int() }),
  run: async (input) => {
    const hay = input.ignoreCase ? input.text.toLowerCase() : input.text;
    const needle = input.ignoreCase ? input.find.toLowerCase() : input.find;
    // Case-folding can change lengths for a few characters; fall back to exact matching then.
    const folded = hay.length === input.text.length && needle.length === input.find.length;
    const h = folded ? hay : input.text;
    const n = folded ? needle : input.find;
    let out = '';
    let from = 0;
    let count = 0;
    for (let at = h.indexOf(n); at !== -1; at = h.indexOf(n, from)) {
      out += input.text.slice(from, at) + input.replaceWith;
      from = at + n.length;
      count++;
    }
    return { text: out + input.text.slice(from), replacements: count };
  },
});
