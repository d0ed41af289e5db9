// Exact binomial statistics (Clopper–Pearson) via the regularized incomplete beta function, no dependencies.

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** Natural log of the gamma function (Lanczos, g = 7), accurate to ~1e-13 for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += (LANCZOS[i] ?? 0) / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

// Continued fraction for the incomplete beta (modified Lentz), as in Numerical Recipes.
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast only on one side of the mean; use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Quantile of Beta(a, b) by bisection on the incomplete beta (monotone, robust). */
export function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (incompleteBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  return incompleteBeta(1 - p, n - k, k + 1);
}

/** One-sided Clopper–Pearson upper bound on a proportion: P(Bin(n, upper) ≤ k) = 1 − confidence. */
export function cpUpper(k: number, n: number, confidence = 0.95): number {
  if (n <= 0 || k >= n) return 1;
  return betaQuantile(confidence, k + 1, n - k);
}

/** One-sided Clopper–Pearson lower bound on a proportion: P(Bin(n, lower) ≥ k) = 1 − confidence. */
export function cpLower(k: number, n: number, confidence = 0.95): number {
  if (n <= 0 || k <= 0) return 0;
  return betaQuantile(1 - confidence, k, n - k + 1);
}

/** Two-sided Clopper–Pearson interval (central, each tail (1 − confidence) / 2). */
export function clopperPearson(k: number, n: number, confidence = 0.95): { lower: number; upper: number } {
  const tail = (1 - confidence) / 2;
  return { lower: cpLower(k, n, 1 - tail), upper: cpUpper(k, n, 1 - tail) };
}

/**
 * True when k errors in n prove error ≤ alpha at level delta, i.e. the one-sided CP upper bound at
 * confidence 1 − delta is ≤ alpha. Evaluated as a binomial p-value (one incomplete beta, no root finding).
 */
export function boundBelow(k: number, n: number, alpha: number, delta: number): boolean {
  if (n <= 0) return false;
  return binomialCdf(k, n, alpha) <= delta;
}

/** Smallest n for which zero errors prove error ≤ alpha at level delta (149 for 2%/5%, 59 for 5%/5%). */
export function minZeroErrorSample(alpha: number, delta: number): number {
  return Math.ceil(Math.log(delta) / Math.log(1 - alpha) - 1e-9);
}

/** Regularized lower incomplete gamma P(a, x) (series below a + 1, continued fraction above). */
export function incompleteGamma(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return sum * Math.exp(lnFront);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return 1 - Math.exp(lnFront) * h;
}

/** P(χ²_df > x). */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) return 1;
  return 1 - incompleteGamma(df / 2, x / 2);
}
