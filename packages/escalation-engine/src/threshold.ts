// Threshold policies: Learn-then-Test (risk mode) and an online quantile with feedback (budget mode).
import { binomialCdf, boundBelow, minZeroErrorSample } from './stats.js';

export interface CalibrationRecord {
  seq: number;
  score: number;
  correct: boolean;
}

/**
 * Learn-then-Test with fixed-sequence testing. Candidate thresholds are the k-th highest calibration score for
 * k = k_0 < k_1 < … ≤ n; the sequence depends on n, α and δ only, never on the labels, so testing strict → loose
 * and stopping at the first failure controls P(error among accepted > α) ≤ δ (valid for non-monotone risk).
 *
 * The steps form an error-tolerance ladder: k_j is the smallest sample in which j errors still prove error ≤ α
 * (149, 236, 313, … for α = 2%, δ = 5%), from max(k_0, startFraction·n) on, and the last step accepts all n. A
 * fine grid would stop at the first step after any single error near the top — and with a person whose answers
 * carry 0.5–1% noise, errors sit at the very top of the scores, so nothing would ever be certified; on the ladder
 * every step can absorb one more error than the step before.
 * Returns the loosest certified threshold, or undefined when nothing can be certified yet.
 */
export function learnThenTest(records: readonly CalibrationRecord[], alpha: number, delta: number, startFraction = 0): number | undefined {
  const n = records.length;
  if (n < minZeroErrorSample(alpha, delta)) return undefined;
  const sorted = [...records].sort((a, b) => b.score - a.score || a.seq - b.seq);
  const errorsUpTo = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) errorsUpTo[i + 1] = (errorsUpTo[i] ?? 0) + ((sorted[i]?.correct ?? true) ? 0 : 1);
  const ladder = (start: number, d: number): number | undefined => {
    let certified: number | undefined;
    let k = start;
    for (let tolerated = 0; ; ) {
      const lambda = sorted[k - 1]?.score ?? 0;
      // Ties with the k-th score are accepted too: a threshold accepts every score ≥ λ.
      let accepted = k;
      while (accepted < n && (sorted[accepted]?.score ?? -1) >= lambda) accepted++;
      if (!boundBelow(errorsUpTo[accepted] ?? 0, accepted, alpha, d)) break;
      certified = lambda;
      if (accepted >= n) break;
      // Next rung: the smallest sample beyond this one in which one more error would still pass (label-free).
      tolerated++;
      let next = Math.max(accepted + 1, k + 1);
      while (next < n && !boundBelow(tolerated, next, alpha, d)) next++;
      k = Math.min(next, n);
    }
    return certified;
  };
  const strict = (d: number): number => Math.max(minZeroErrorSample(alpha, d), Math.ceil(startFraction * n));
  // Second start, from the scores alone: the decisions the model itself rates at least 1 − α likely to be right.
  let confident = 0;
  while (confident < n && (sorted[confident]?.score ?? 0) >= 1 - alpha) confident++;
  if (confident <= strict(delta / 2) || n < strict(delta / 2)) return n < strict(delta) ? undefined : ladder(strict(delta), delta);
  const a = ladder(strict(delta / 2), delta / 2);
  const b = ladder(confident, delta / 2);
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Whether a pooled threshold may be used for one type: the type has enough labels of its own and they give
 * no evidence (one-sided binomial test at level δ) that its error above the threshold exceeds α.
 */
export function pooledValidFor(records: readonly CalibrationRecord[], lambda: number, alpha: number, delta: number, minLabels: number): boolean {
  if (records.length < minLabels) return false;
  let n = 0;
  let errors = 0;
  for (const r of records) {
    if (r.score < lambda) continue;
    n++;
    if (!r.correct) errors++;
  }
  if (errors === 0) return true;
  const pValue = 1 - binomialCdf(errors - 1, n, alpha);
  return pValue > delta;
}

export interface BudgetState {
  /** Quantile level used as threshold, corrected online towards the target escalation rate. */
  level: number;
  /** Recent scores, kept sorted ascending. */
  sorted: number[];
  /** The same scores in arrival order (to evict the oldest). */
  fifo: number[];
}

/** Budget mode: λ = level-quantile of recent scores, level ← level − η(escalated − b) (adaptive conformal). */
export class BudgetThreshold {
  constructor(
    private readonly state: BudgetState,
    private readonly window = 500,
  ) {}

  static initial(budget: number): BudgetState {
    return { level: budget, sorted: [], fifo: [] };
  }

  threshold(): number {
    const s = this.state.sorted;
    if (s.length === 0) return 0;
    // The ⌊level·(n+1)⌋-th lowest recent score: escalating scores strictly below it escalates ≈ level·n of them.
    const rank = Math.floor(this.state.level * (s.length + 1));
    if (rank <= 0) return -Infinity;
    if (rank > s.length) return Infinity;
    return s[rank - 1] ?? 0;
  }

  escalates(score: number): boolean {
    const t = this.threshold();
    if (t === -Infinity) return false;
    if (t === Infinity) return true;
    return score < t;
  }

  observe(score: number, escalated: boolean, budget: number, step: number): void {
    const st = this.state;
    st.level = Math.min(1, Math.max(-0.05, st.level - step * ((escalated ? 1 : 0) - budget)));
    st.fifo.push(score);
    insertSorted(st.sorted, score);
    if (st.fifo.length > this.window) {
      const old = st.fifo.shift();
      if (old !== undefined) removeSorted(st.sorted, old);
    }
  }
}

function lowerIndex(arr: number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(arr: number[], x: number): void {
  arr.splice(lowerIndex(arr, x), 0, x);
}

function removeSorted(arr: number[], x: number): void {
  const i = lowerIndex(arr, x);
  if (arr[i] === x) arr.splice(i, 1);
}
