/**
 * Prices in USD per million tokens (MTok). `cacheWrite` is the 5-minute ephemeral cache write
 * (the only TTL this package requests); `cacheRead` is a cache hit.
 *
 * Defaults transcribed from https://platform.claude.com/docs/en/about-claude/pricing (standard tier,
 * Claude API, no batch discount, no regional uplift). Prices change: verify them and override with
 * `prices` (code) or `LLM_PRICES` (env JSON) rather than editing this table in place.
 */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

const opus45: ModelPrice = { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 };
const fable: ModelPrice = { input: 10, output: 50, cacheRead: 1, cacheWrite: 12.5 };
const fable51: ModelPrice = { input: 10, output: 50, cacheRead: 0.25, cacheWrite: 12.5 };

export const DEFAULT_PRICES: PriceTable = {
  'claude-fable-5-1': fable51,
  'claude-mythos-5-1': fable51,
  'claude-fable-5': fable,
  'claude-mythos-5': fable,
  'claude-opus-5-5': { input: 4, output: 20, cacheRead: 0.2, cacheWrite: 5 },
  'claude-opus-5': opus45,
  'claude-opus-4-8': opus45,
  'claude-opus-4-7': opus45,
  'claude-opus-4-6': opus45,
  'claude-opus-4-5': opus45,
  'claude-sonnet-5-5': { input: 2, output: 10, cacheRead: 0.1, cacheWrite: 2.5 },
  'claude-sonnet-5': { input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5 },
  'claude-sonnet-4-6': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  // Haiku 5.5 is cheaper for prompts up to 100k tokens; the table carries that (common) tier.
  'claude-haiku-5-5': { input: 0.1, output: 0.5, cacheRead: 0.01, cacheWrite: 0.125 },
  'claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
};

/** Exact id first, then a dated snapshot of a listed alias ('claude-haiku-4-5-20251001'). */
export function priceFor(model: string, prices: PriceTable = DEFAULT_PRICES): ModelPrice | undefined {
  const exact = prices[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(prices)) {
    if (model.startsWith(`${key}-`) && /^\d{8}$/.test(model.slice(key.length + 1)) && (!best || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : prices[best];
}

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** Cost in USD, or undefined when the model has no price (so callers can tell "free" from "unknown"). */
export function costOf(model: string, tokens: TokenCounts, prices: PriceTable = DEFAULT_PRICES): number | undefined {
  const p = priceFor(model, prices);
  if (!p) return undefined;
  const micro = tokens.inputTokens * p.input + tokens.outputTokens * p.output + tokens.cacheReadTokens * p.cacheRead + tokens.cacheWriteTokens * p.cacheWrite;
  return micro / 1_000_000;
}
