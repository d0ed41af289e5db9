// Learned preferences per (tenant, type): a small decision tree over bucketed context fields whose leaves are
// readable "condition → choice" rules, each tracked, promoted, demoted or revoked as a preference.
import { hash32 } from './prng.js';
import type { Preference, PreferenceStatus } from './schemas.js';
import { binomialCdf, boundBelow, chiSquareSurvival, cpLower } from './stats.js';

export interface Example {
  seq: number;
  at: number;
  tokens: string[];
  /** Raw numeric context fields, for learned threshold splits (`amount≥7500`). */
  nums: Record<string, number>;
  choice: string;
}

export type Numbers = Readonly<Record<string, number>>;

export interface PreferenceRecord {
  id: string;
  tenantId: string;
  type: string;
  /** Readable condition: tokens joined by ` & `, `*` for the whole type; `!field` means the field is absent. */
  condition: string;
  choice: string;
  /** Post-creation labelled answers matching the condition (out-of-sample track record). */
  support: number;
  agreed: number;
  /** In-sample evidence of the leaf when last rebuilt. */
  n: number;
  agreeing: number;
  status: PreferenceStatus;
  statusReason?: string;
  createdAt: number;
  updatedAt: number;
}

export interface PreferenceOptions {
  minSupport: number;
  maxCandidateDisagreement: number;
  window: number;
  maxDepth: number;
  /** A split is kept only if its G-test p-value is below this (separates real exceptions from noise). */
  splitSignificance: number;
}

export interface TypePreferencesState {
  examples: Example[];
  records: PreferenceRecord[];
  cooldown: [string, number][];
}

export interface Suggestion {
  record: PreferenceRecord;
  n: number;
  agreeing: number;
  purity: number;
}

interface Leaf {
  kind: 'leaf';
  condition: string[];
  n: number;
  choice: string;
  agreeing: number;
}
interface Split {
  kind: 'split';
  field: string;
  /** Numeric split: children `field≥t`, `field<t` (and `!field` when absent); categorical otherwise. */
  threshold?: number;
  children: Map<string, TreeNode>;
}
type TreeNode = Leaf | Split;

const key = (condition: string, choice: string): string => `${condition}\u0000${choice}`;
// Labels a demoted rule must wait before it may come back, so a demotion is not undone at once.
const COOLDOWN_LABELS = 50;

/** Smoothed disagreement (Jeffreys-like): small samples never look perfectly pure. */
export const purityOf = (n: number, agreeing: number): number => (n - agreeing + 0.5) / (n + 1);

/** Field name of a context token or condition part (`env=prod` → env, `amount∈[1000,2000)`, `amount≥7500` → amount). */
export function fieldOf(token: string): string {
  const i = token.search(/[=∈≥<]/);
  return i < 0 ? token : token.slice(0, i);
}

/**
 * The roundest number in (lo, hi]: the split point a person would write between two observed values, e.g.
 * (9512, 10340] → 10000, (2890, 3120] → 3000. Tries steps 10^k, 5·10^k, 2.5·10^k, 2·10^k from coarse to fine.
 */
export function roundBetween(lo: number, hi: number): number {
  if (!(hi > lo)) return hi;
  const span = Math.max(Math.abs(lo), Math.abs(hi), 1e-9);
  for (let e = Math.ceil(Math.log10(span)) + 1; e >= -6; e--) {
    for (const m of [10, 5, 2.5, 2]) {
      const step = (m / 10) * 10 ** e;
      const c = Math.ceil(lo / step + 1e-12) * step;
      const r = Math.round(c * 1e9) / 1e9;
      if (r > lo && r <= hi) return r;
    }
  }
  return hi;
}

function fieldMap(tokens: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of tokens) m.set(fieldOf(t), t);
  return m;
}

export function conditionText(parts: readonly string[]): string {
  return parts.length === 0 ? '*' : [...parts].sort().join(' & ');
}

/** Whether a context (as tokens and raw numbers) satisfies a condition text. */
export function conditionMatches(condition: string, tokens: readonly string[], nums: Numbers = {}): boolean {
  if (condition === '*') return true;
  const fields = fieldMap(tokens);
  for (const part of condition.split(' & ')) {
    if (part.startsWith('!')) {
      if (fields.has(part.slice(1)) || part.slice(1) in nums) return false;
      continue;
    }
    const field = fieldOf(part);
    const op = part.charAt(field.length);
    if (op === '≥' || op === '<') {
      const v = nums[field];
      const t = Number(part.slice(field.length + 1));
      if (v === undefined || (op === '≥' ? !(v >= t) : !(v < t))) return false;
    } else if (fields.get(field) !== part) return false;
  }
  return true;
}

function entropy(counts: Map<string, number>, n: number): number {
  let h = 0;
  for (const c of counts.values()) if (c > 0) h -= (c / n) * Math.log2(c / n);
  return h;
}

function majority(counts: Map<string, number>): { choice: string; count: number } {
  let choice = '';
  let count = -1;
  for (const [c, v] of counts) if (v > count || (v === count && c < choice)) [choice, count] = [c, v];
  return { choice, count };
}

export class TypePreferences {
  private readonly examples: Example[] = [];
  private readonly records = new Map<string, PreferenceRecord>();
  /** (condition, choice) → id of the live or revoked record. */
  private readonly byKey = new Map<string, string>();
  private readonly cooldown = new Map<string, number>();
  private tree: TreeNode | undefined;
  private dirty = true;

  constructor(
    readonly tenantId: string,
    readonly type: string,
    private readonly opts: PreferenceOptions,
    private readonly nextId: () => number,
    state?: TypePreferencesState,
  ) {
    if (state) {
      for (const r of state.records) {
        this.records.set(r.id, { ...r });
        if (r.status !== 'demoted') this.byKey.set(key(r.condition, r.choice), r.id);
      }
      for (const ex of state.examples) this.examples.push({ ...ex, tokens: [...ex.tokens], nums: { ...ex.nums } });
      for (const [k, v] of state.cooldown) this.cooldown.set(k, v);
      // The tree is derived state: rebuilt from the stored answers, exactly as after the last learn.
      this.tree = this.examples.length === 0 ? undefined : this.build(this.examples, [], new Set(), 0);
      this.dirty = false;
    }
  }

  private build(examples: readonly Example[], path: string[], used: Set<string>, depth: number): TreeNode {
    const counts = new Map<string, number>();
    for (const e of examples) counts.set(e.choice, (counts.get(e.choice) ?? 0) + 1);
    const n = examples.length;
    const { choice, count } = majority(counts);
    const leaf: Leaf = { kind: 'leaf', condition: path, n, choice, agreeing: count };
    if (count === n || depth >= this.opts.maxDepth || n < 2 * this.opts.minSupport) return leaf;
    const base = entropy(counts, n);
    const fields = new Set<string>();
    for (const e of examples) for (const t of e.tokens) fields.add(fieldOf(t));
    let best: { field: string; ratio: number; groups: Map<string, Example[]> } | undefined;
    for (const field of [...fields].sort()) {
      if (used.has(field)) continue;
      const groups = new Map<string, Example[]>();
      for (const e of examples) {
        const tok = e.tokens.find((t) => fieldOf(t) === field) ?? `!${field}`;
        const g = groups.get(tok);
        if (g) g.push(e);
        else groups.set(tok, [e]);
      }
      if (groups.size < 2) continue;
      let rest = 0;
      let splitInfo = 0;
      let g2 = 0;
      for (const g of groups.values()) {
        const gc = new Map<string, number>();
        for (const e of g) gc.set(e.choice, (gc.get(e.choice) ?? 0) + 1);
        rest += (g.length / n) * entropy(gc, g.length);
        splitInfo -= (g.length / n) * Math.log2(g.length / n);
        for (const [c, o] of gc) g2 += 2 * o * Math.log(o / ((g.length * (counts.get(c) ?? 0)) / n));
      }
      const gain = base - rest;
      if (gain <= 1e-12) continue;
      // G-test of independence between the field and the answer: noise alone rarely passes, real exceptions do.
      const df = (groups.size - 1) * (counts.size - 1);
      if (chiSquareSurvival(g2, df) > this.opts.splitSignificance) continue;
      const ratio = gain / Math.max(splitInfo, 1e-9);
      if (!best || ratio > best.ratio) best = { field, ratio, groups };
    }
    const numeric = this.bestNumericSplit(examples, counts, base);
    if (numeric && (!best || numeric.ratio > best.ratio)) {
      const children = new Map<string, TreeNode>();
      for (const tok of [...numeric.groups.keys()].sort()) children.set(tok, this.build(numeric.groups.get(tok) ?? [], [...path, tok], used, depth + 1));
      return { kind: 'split', field: numeric.field, threshold: numeric.threshold, children };
    }
    if (!best) return leaf;
    const children = new Map<string, TreeNode>();
    const nextUsed = new Set(used).add(best.field);
    for (const tok of [...best.groups.keys()].sort()) children.set(tok, this.build(best.groups.get(tok) ?? [], [...path, tok], nextUsed, depth + 1));
    return { kind: 'split', field: best.field, children };
  }

  /**
   * Best binary threshold split over the numeric fields: candidate cuts are the boundary points between sorted
   * values whose answers differ (where the entropy-optimal cut lies), the split point is the roundest number in the
   * gap, and the G-test p-value is Bonferroni-corrected by the number of cuts tried so searching does not fake
   * significance. Examples without the field form a third group.
   */
  private bestNumericSplit(examples: readonly Example[], counts: Map<string, number>, base: number): { field: string; threshold: number; ratio: number; groups: Map<string, Example[]> } | undefined {
    const n = examples.length;
    const fields = new Set<string>();
    for (const e of examples) for (const f of Object.keys(e.nums)) fields.add(f);
    let best: { field: string; threshold: number; ratio: number; groups: Map<string, Example[]> } | undefined;
    for (const field of [...fields].sort()) {
      const having = examples.filter((e) => e.nums[field] !== undefined).sort((a, b) => (a.nums[field] ?? 0) - (b.nums[field] ?? 0));
      if (having.length < 2 * this.opts.minSupport) continue;
      const missing = examples.filter((e) => e.nums[field] === undefined);
      const tally = (g: readonly Example[]): Map<string, number> => {
        const m = new Map<string, number>();
        for (const e of g) m.set(e.choice, (m.get(e.choice) ?? 0) + 1);
        return m;
      };
      const missingCounts = tally(missing);
      const total = tally(having);
      // Boundary points: adjacent distinct values with different answers.
      const cuts: number[] = [];
      for (let i = 1; i < having.length; i++) {
        const a = having[i - 1];
        const b = having[i];
        if (a && b && (b.nums[field] ?? 0) > (a.nums[field] ?? 0) && a.choice !== b.choice) cuts.push(i);
      }
      if (cuts.length === 0) continue;
      const below = new Map<string, number>();
      let next = 0;
      for (const i of cuts) {
        for (; next < i; next++) {
          const c = having[next]?.choice ?? '';
          below.set(c, (below.get(c) ?? 0) + 1);
        }
        if (i < this.opts.minSupport || having.length - i < this.opts.minSupport) continue;
        const above = new Map<string, number>();
        for (const [c, v] of total) above.set(c, v - (below.get(c) ?? 0));
        const groups: [number, Map<string, number>][] = [[i, below], [having.length - i, above]];
        if (missing.length > 0) groups.push([missing.length, missingCounts]);
        let rest = 0;
        let splitInfo = 0;
        let g2 = 0;
        for (const [size, gc] of groups) {
          rest += (size / n) * entropy(gc, size);
          splitInfo -= (size / n) * Math.log2(size / n);
          for (const [c, o] of gc) if (o > 0) g2 += 2 * o * Math.log(o / ((size * (counts.get(c) ?? 0)) / n));
        }
        const gain = base - rest;
        if (gain <= 1e-12) continue;
        const df = (groups.length - 1) * (counts.size - 1);
        if (chiSquareSurvival(g2, df) * cuts.length > this.opts.splitSignificance) continue;
        const ratio = gain / Math.max(splitInfo, 1e-9);
        if (best && ratio <= best.ratio) continue;
        const t = roundBetween(having[i - 1]?.nums[field] ?? 0, having[i]?.nums[field] ?? 0);
        const m = new Map<string, Example[]>([[`${field}<${t}`, having.slice(0, i)], [`${field}≥${t}`, having.slice(i)]]);
        if (missing.length > 0) m.set(`!${field}`, missing);
        best = { field, threshold: t, ratio, groups: m };
      }
    }
    return best;
  }

  private leaves(node: TreeNode | undefined, out: Leaf[] = []): Leaf[] {
    if (!node) return out;
    if (node.kind === 'leaf') out.push(node);
    else for (const c of node.children.values()) this.leaves(c, out);
    return out;
  }

  private qualifies(n: number, agreeing: number): boolean {
    return n >= this.opts.minSupport && purityOf(n, agreeing) <= this.opts.maxCandidateDisagreement;
  }

  /** Rebuilds the tree and reconciles the preference records with its qualifying leaves. */
  private refresh(at: number, seq: number): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.tree = this.examples.length === 0 ? undefined : this.build(this.examples, [], new Set(), 0);
    const live = new Set<string>();
    for (const leaf of this.leaves(this.tree)) {
      if (!this.qualifies(leaf.n, leaf.agreeing)) continue;
      const cond = conditionText(leaf.condition);
      const k = key(cond, leaf.choice);
      const existing = this.byKey.get(k);
      if (existing !== undefined) {
        const r = this.records.get(existing);
        if (r) [r.n, r.agreeing] = [leaf.n, leaf.agreeing];
        live.add(existing);
        continue;
      }
      if ((this.cooldown.get(k) ?? -1) > seq) continue;
      const id = `pref_${this.nextId().toString(36)}_${hash32(`${this.tenantId}|${this.type}|${k}`).toString(36)}`;
      this.records.set(id, { id, tenantId: this.tenantId, type: this.type, condition: cond, choice: leaf.choice, support: 0, agreed: 0, n: leaf.n, agreeing: leaf.agreeing, status: 'candidate', createdAt: at, updatedAt: at });
      this.byKey.set(k, id);
      live.add(id);
    }
    // Candidates the tree no longer supports step down; active ones keep their own certificate.
    for (const r of this.records.values()) if (r.status === 'candidate' && !live.has(r.id)) this.demote(r, 'superseded: no longer a consistent rule in recent answers', at, seq, false);
  }

  /** The preference that applies to this context: an active one first, else the tree's qualifying leaf. */
  suggest(tokens: readonly string[], optionIds: ReadonlySet<string>, nums: Numbers = {}): Suggestion | undefined {
    let best: Suggestion | undefined;
    for (const id of this.byKey.values()) {
      const r = this.records.get(id);
      if (r?.status !== 'active' || !optionIds.has(r.choice) || !conditionMatches(r.condition, tokens, nums)) continue;
      if (!best || r.support > best.record.support) best = { record: r, n: r.n, agreeing: r.agreeing, purity: purityOf(r.n, r.agreeing) };
    }
    if (best) return best;
    let node = this.tree;
    if (!node) return undefined;
    const fields = fieldMap(tokens);
    while (node.kind === 'split') {
      const v = nums[node.field];
      const branch = node.threshold === undefined ? (fields.get(node.field) ?? `!${node.field}`) : v === undefined ? `!${node.field}` : v >= node.threshold ? `${node.field}≥${node.threshold}` : `${node.field}<${node.threshold}`;
      const next: TreeNode | undefined = node.children.get(branch);
      if (!next) return undefined;
      node = next;
    }
    if (!this.qualifies(node.n, node.agreeing) || !optionIds.has(node.choice)) return undefined;
    const id = this.byKey.get(key(conditionText(node.condition), node.choice));
    const r = id === undefined ? undefined : this.records.get(id);
    if (r?.status !== 'candidate') return undefined;
    return { record: r, n: node.n, agreeing: node.agreeing, purity: purityOf(node.n, node.agreeing) };
  }

  /** Learns one labelled answer: track records, promotion/demotion, then the tree and its candidates. */
  learn(tokens: string[], answer: string, seq: number, at: number, alpha: number, nums: Numbers = {}): void {
    for (const r of [...this.records.values()]) {
      if ((r.status !== 'candidate' && r.status !== 'active') || !conditionMatches(r.condition, tokens, nums)) continue;
      r.support++;
      if (r.choice === answer) r.agreed++;
      r.updatedAt = at;
      const errors = r.support - r.agreed;
      // Promotion ⟺ one-sided 95% Clopper–Pearson lower bound of agreement ≥ 1 − α (one binomial tail).
      if (r.status === 'candidate' && boundBelow(errors, r.support, alpha, 0.05)) {
        r.status = 'active';
        r.statusReason = `promoted: 95% lower bound ${cpLower(r.agreed, r.support).toFixed(4)} ≥ ${(1 - alpha).toFixed(4)}`;
      } else if (errors > 0 && binomialCdf(r.agreed, r.support, 1 - alpha) < 0.05) {
        // Evidence at 95% that agreement is below the bar: the preference has started to disagree.
        this.demote(r, `disagreed with answers: ${r.agreed}/${r.support} agreed since created`, at, seq, true);
      }
    }
    this.examples.push({ seq, at, tokens, nums: { ...nums }, choice: answer });
    while (this.examples.length > this.opts.window) this.examples.shift();
    this.dirty = true;
    this.refresh(at, seq);
  }

  private demote(r: PreferenceRecord, reason: string, at: number, seq: number, cool: boolean): void {
    r.status = 'demoted';
    r.statusReason = reason;
    r.updatedAt = at;
    const k = key(r.condition, r.choice);
    if (this.byKey.get(k) === r.id) this.byKey.delete(k);
    if (cool) this.cooldown.set(k, seq + COOLDOWN_LABELS);
  }

  revoke(id: string, at: number): boolean {
    const r = this.records.get(id);
    if (!r) return false;
    r.status = 'revoked';
    r.statusReason = 'revoked by the person';
    r.updatedAt = at;
    // The revoked record keeps its key: the same condition → choice is never proposed again.
    this.byKey.set(key(r.condition, r.choice), r.id);
    return true;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  record(id: string): PreferenceRecord | undefined {
    return this.records.get(id);
  }

  /** Drift: demote every live preference and forget answers older than `keepFromSeq`. */
  reset(keepFromSeq: number, at: number, seq: number): string[] {
    const demoted: string[] = [];
    for (const r of this.records.values()) {
      if (r.status === 'candidate' || r.status === 'active') {
        this.demote(r, 'drift detected for this decision type', at, seq, false);
        demoted.push(r.id);
      }
    }
    const keep = this.examples.filter((e) => e.seq >= keepFromSeq);
    this.examples.length = 0;
    this.examples.push(...keep);
    this.dirty = true;
    this.refresh(at, seq);
    return demoted;
  }

  list(): Preference[] {
    return [...this.records.values()].map((r) => ({
      id: r.id,
      tenantId: r.tenantId,
      type: r.type,
      condition: r.condition,
      choice: r.choice,
      support: r.support,
      agreement: r.support === 0 ? 0 : r.agreed / r.support,
      lowerBound: cpLower(r.agreed, r.support),
      evidence: { n: r.n, agreeing: r.agreeing },
      status: r.status,
      ...(r.statusReason === undefined ? {} : { statusReason: r.statusReason }),
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    }));
  }

  counts(): { active: number; candidate: number } {
    let active = 0;
    let candidate = 0;
    for (const r of this.records.values()) {
      if (r.status === 'active') active++;
      else if (r.status === 'candidate') candidate++;
    }
    return { active, candidate };
  }

  state(): TypePreferencesState {
    return {
      examples: this.examples.map((e) => ({ ...e, tokens: [...e.tokens], nums: { ...e.nums } })),
      records: [...this.records.values()].map((r) => ({ ...r })),
      cooldown: [...this.cooldown.entries()],
    };
  }
}
