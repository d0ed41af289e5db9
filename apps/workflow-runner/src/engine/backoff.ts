import type { CompiledRetry } from '@steward/workflows';

/**
 * Delay before the attempt after `failedAttempt` (1-based): fixed, or initial × multiplier^(n−1), capped at max,
 * then spread by ±jitter so that many runs failing together do not retry together.
 */
export function retryDelayMs(b: CompiledRetry['backoff'], failedAttempt: number, random: () => number = Math.random): number {
  const base = b.type === 'fixed' ? b.initialMs : b.initialMs * b.multiplier ** (failedAttempt - 1);
  const capped = Math.min(base, b.maxMs);
  const spread = capped * b.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(capped + spread, b.maxMs)));
}
