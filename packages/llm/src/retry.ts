import { setTimeout as delay } from 'node:timers/promises';
import { LlmError } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt, so at most maxRetries + 1 requests. */
  maxRetries: number;
  /** First backoff; doubles per retry. */
  baseDelayMs: number;
  /** Backoff ceiling (retry-after from the server is honoured even when larger, up to maxRetryAfterMs). */
  maxDelayMs: number;
  /** A server asking for a longer wait than this fails now instead of parking the caller. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

/** Exponential backoff with up to 25% downward jitter, so clients that failed together spread out. */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling * (1 - 0.25 * random()));
}

/** The server's requested wait: `retry-after-ms` (Anthropic), else `retry-after` seconds or HTTP date. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Wait honouring retry-after exactly (plus ≤10% spread, capped at 1 s) or back off when none was given. */
export function waitBeforeRetryMs(retry: number, policy: RetryPolicy, serverWaitMs: number | undefined, random: () => number = Math.random): number {
  if (serverWaitMs === undefined) return backoffMs(retry, policy, random);
  return Math.ceil(serverWaitMs + Math.min(1_000, serverWaitMs * 0.1) * random());
}

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    throw new LlmError('aborted', 'the request was aborted while waiting to retry', { cause: err });
  }
}
