// Context → categorical tokens (for preferences) and numeric feature vectors (for the scoring model).
import { hash32 } from './prng.js';
import type { DecisionInput, JsonValue } from './schemas.js';

const MAX_FIELDS = 12;
const MAX_STRING = 64;
const BOUNDARIES = [1, 2, 5];

/** 1-2-5 bucket of a number, e.g. 7300 → "[5000,10000)": round numbers people write in policies stay edges. */
export function bucket(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const sign = x < 0 ? '-' : '';
  const a = Math.abs(x);
  if (a < 1) return `${sign}(0,1)`;
  const exp = Math.floor(Math.log10(a));
  const base = 10 ** exp;
  let lo = base;
  let hi = 2 * base;
  for (let i = BOUNDARIES.length - 1; i >= 0; i--) {
    const edge = (BOUNDARIES[i] ?? 1) * base;
    if (a >= edge) {
      lo = edge;
      hi = i + 1 < BOUNDARIES.length ? (BOUNDARIES[i + 1] ?? 10) * base : 10 * base;
      break;
    }
  }
  return `${sign}[${lo},${hi})`;
}

function token(key: string, value: JsonValue): string | undefined {
  if (typeof value === 'boolean' || value === null) return `${key}=${String(value)}`;
  if (typeof value === 'string') return value.length <= MAX_STRING ? `${key}=${value}` : undefined;
  // Small integers are counts (failures, approvals): categorical, so keep them exact.
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) <= 10 ? `${key}=${value}` : `${key}∈${bucket(value)}`;
  return undefined;
}

/** Sorted categorical tokens of a context (numbers bucketed, long strings and nested values ignored). */
export function contextTokens(context: Record<string, JsonValue | undefined>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(context).sort()) {
    const value = context[key];
    if (value === undefined) continue;
    const t = token(key, value);
    if (t !== undefined) out.push(t);
    if (out.length >= MAX_FIELDS) break;
  }
  return out;
}

/** Raw finite numbers of a context (same fields as `contextTokens`), for learned numeric thresholds. */
export function contextNumbers(context: Record<string, JsonValue | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  let fields = 0;
  for (const key of Object.keys(context).sort()) {
    const value = context[key];
    if (value === undefined || token(key, value) === undefined) continue;
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
    if (++fields >= MAX_FIELDS) break;
  }
  return out;
}

export const RECOGNISED = ['risk', 'reversible', 'critical', 'blastRadius', 'cost', 'urgency'] as const;

/** Per-type hashed slots for a bias and a confidence slope (so confidence can matter for some types only). */
export const TYPE_SLOTS = 16;
export const F = {
  bias: 0,
  confidence: 1,
  confidenceMissing: 2,
  sampleAgreement: 3,
  sampleMissing: 4,
  irreversible: 5,
  risk: 6,
  completeness: 7,
  history: 8,
  typeNovelty: 9,
  signatureNovelty: 10,
  fromPreference: 11,
  prefPurity: 12,
  prefSupport: 13,
  prefTrack: 14,
  proposalMatchesPreference: 15,
  noChoiceSource: 16,
  urgency: 17,
  blast: 18,
  cost: 19,
  disagreeConfidence: 20,
  typeBias: 21,
  typeConfidence: 21 + TYPE_SLOTS,
} as const;
export const FEATURE_COUNT = 21 + 2 * TYPE_SLOTS;

/**
 * Prior weights (the model's starting point before any answer): a preference's smoothed in-sample
 * disagreement enters as its log-odds (weight 5 undoes the /5 scaling), stated confidence counts mildly.
 */
export function priorWeights(): number[] {
  const w = new Array<number>(FEATURE_COUNT).fill(0);
  w[F.bias] = 1;
  w[F.prefPurity] = 5;
  w[F.confidence] = 2;
  w[F.proposalMatchesPreference] = 1;
  return w;
}

export function typeSlot(tenantId: string, type: string): number {
  return hash32(`${tenantId}\u0000${type}`, 7) % TYPE_SLOTS;
}

const LEVEL: Record<string, number> = { low: -1, medium: 0, high: 1 };
const URGENCY: Record<string, number> = { low: -1, normal: 0, high: 1, critical: 2 };

export interface ChoiceSupport {
  /** True when a preference supplied the choice. */
  fromPreference: boolean;
  /** In-sample smoothed disagreement of the preference's condition. */
  purity: number;
  /** In-sample labelled answers of the condition. */
  support: number;
  /** Post-creation agreement track record (agreed, support). */
  trackAgreed: number;
  trackSupport: number;
  /** The choice the preference makes. */
  choice: string;
}

export interface FeatureState {
  /** EWMA of "person agreed with the agent's proposal" for this type, 0.5 when unknown. */
  history: number;
  typeCount: number;
  signatureCount: number;
}

const logit = (p: number): number => Math.log(p / (1 - p));

/** Fills `out` with the feature vector of deciding `d` with the given choice support. */
export function featurize(out: Float64Array, d: DecisionInput, slot: number, support: ChoiceSupport | undefined, hasChoice: boolean, state: FeatureState): Float64Array {
  out.fill(0);
  const ctx = d.context;
  out[F.bias] = 1;
  if (d.confidence === undefined) out[F.confidenceMissing] = 1;
  else out[F.confidence] = d.confidence - 0.5;
  if (d.sampleAgreement === undefined) out[F.sampleMissing] = 1;
  else out[F.sampleAgreement] = d.sampleAgreement - 0.5;
  out[F.irreversible] = ctx.reversible === false ? 1 : 0;
  out[F.risk] = typeof ctx.risk === 'string' ? (LEVEL[ctx.risk] ?? 0) : 0;
  let present = 0;
  for (const k of RECOGNISED) if (ctx[k] !== undefined) present++;
  out[F.completeness] = present / RECOGNISED.length - 0.5;
  out[F.history] = state.history - 0.5;
  out[F.typeNovelty] = 1 / Math.sqrt(1 + state.typeCount);
  out[F.signatureNovelty] = 1 / Math.sqrt(1 + state.signatureCount);
  if (support?.fromPreference === true) {
    out[F.fromPreference] = 1;
    out[F.prefPurity] = -logit(Math.min(Math.max(support.purity, 1e-4), 0.5)) / 5;
    out[F.prefSupport] = Math.log1p(support.support) / 5;
    out[F.prefTrack] = logit((support.trackAgreed + 1) / (support.trackSupport + 2)) / 5;
    // The agent and the person's learned rule agreeing is strong evidence; disagreeing is a warning.
    out[F.proposalMatchesPreference] = d.proposal === undefined ? 0 : d.proposal === support.choice ? 1 : -1;
    // When the agent contradicts the preference, its confidence says how much the contradiction should worry us.
    if (d.proposal !== undefined && d.proposal !== support.choice && d.confidence !== undefined) out[F.disagreeConfidence] = d.confidence - 0.5;
  }
  if (!hasChoice) out[F.noChoiceSource] = 1;
  out[F.urgency] = typeof ctx.urgency === 'string' ? (URGENCY[ctx.urgency] ?? 0) : 0;
  const blast = ctx.blastRadius;
  out[F.blast] = typeof blast === 'number' ? Math.log1p(Math.max(blast, 0)) / 5 : typeof blast === 'string' ? (LEVEL[blast] ?? 0) : 0;
  out[F.cost] = typeof ctx.cost === 'number' ? Math.log1p(Math.max(ctx.cost, 0)) / 10 : 0;
  out[F.typeBias + slot] = 1;
  out[F.typeConfidence + slot] = d.confidence === undefined ? 0 : d.confidence - 0.5;
  return out;
}
