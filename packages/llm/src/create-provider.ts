import { z } from 'zod';
import { AnthropicProvider, DEFAULT_MAX_SCHEMA_RETRIES, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TIMEOUT_MS, type AnthropicProviderConfig } from './anthropic-provider.js';
import { LlmError } from './errors.js';
import { OfflineProvider } from './offline-provider.js';
import { DEFAULT_PRICES, type ModelPrice } from './pricing.js';
import type { LlmProvider } from './provider.js';
import { DEFAULT_RETRY_POLICY } from './retry.js';
import type { UsageLedger } from './usage.js';

// `KEY=` in an env file means unset, not "the empty string".
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <S extends z.ZodType>(schema: S) => z.preprocess(blankToUndefined, schema.optional());

const modelPrice: z.ZodType<ModelPrice> = z.object({ input: z.number().nonnegative(), output: z.number().nonnegative(), cacheRead: z.number().nonnegative(), cacheWrite: z.number().nonnegative() });

export const LlmEnvSchema = z.object({
  ANTHROPIC_API_KEY: opt(z.string()),
  ANTHROPIC_BASE_URL: opt(z.url()),
  LLM_PROVIDER: opt(z.enum(['auto', 'anthropic', 'offline'])),
  LLM_MODEL: opt(z.string()),
  LLM_TIMEOUT_MS: opt(z.coerce.number().int().positive()),
  LLM_MAX_RETRIES: opt(z.coerce.number().int().min(0).max(10)),
  LLM_MAX_SCHEMA_RETRIES: opt(z.coerce.number().int().min(0).max(10)),
  LLM_MAX_TOKENS: opt(z.coerce.number().int().positive()),
  LLM_TOOL_CHOICE: opt(z.enum(['tool', 'auto'])),
  LLM_PRICES: opt(
    z.string().transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'LLM_PRICES must be JSON: {"<model>": {"input":…, "output":…, "cacheRead":…, "cacheWrite":…}} in USD per million tokens' });
        return z.NEVER;
      }
    }).pipe(z.record(z.string(), modelPrice)),
  ),
});

export type LlmEnv = z.input<typeof LlmEnvSchema>;

export interface CreateProviderOptions {
  ledger?: UsageLedger;
  fetch?: typeof fetch;
  /** Overrides the backoff (tests); env cannot set it. */
  retry?: AnthropicProviderConfig['retry'];
}

/** The env variables this package reads, with defaults, for docs and startup logs. */
export const LLM_ENV_DEFAULTS = {
  LLM_PROVIDER: 'auto',
  LLM_MODEL: DEFAULT_MODEL,
  LLM_TIMEOUT_MS: DEFAULT_TIMEOUT_MS,
  LLM_MAX_RETRIES: DEFAULT_RETRY_POLICY.maxRetries,
  LLM_MAX_SCHEMA_RETRIES: DEFAULT_MAX_SCHEMA_RETRIES,
  LLM_MAX_TOKENS: DEFAULT_MAX_TOKENS,
} as const;

/** Claude when ANTHROPIC_API_KEY is set (or LLM_PROVIDER=anthropic), otherwise the offline provider. */
export function createProvider(env: Record<string, string | undefined> = process.env, options: CreateProviderOptions = {}): LlmProvider {
  const parsed = LlmEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new LlmError('config', `invalid LLM environment: ${issues}`, { cause: parsed.error });
  }
  const e = parsed.data;
  const mode = e.LLM_PROVIDER ?? 'auto';
  if (mode === 'offline' || (mode === 'auto' && !e.ANTHROPIC_API_KEY)) {
    return new OfflineProvider(options.ledger ? { ledger: options.ledger } : {});
  }
  if (!e.ANTHROPIC_API_KEY) throw new LlmError('config', 'LLM_PROVIDER=anthropic but ANTHROPIC_API_KEY is not set');
  const config: AnthropicProviderConfig = {
    apiKey: e.ANTHROPIC_API_KEY,
    prices: { ...DEFAULT_PRICES, ...e.LLM_PRICES },
    ...(e.ANTHROPIC_BASE_URL !== undefined && { baseURL: e.ANTHROPIC_BASE_URL }),
    ...(e.LLM_MODEL !== undefined && { model: e.LLM_MODEL }),
    ...(e.LLM_TIMEOUT_MS !== undefined && { timeoutMs: e.LLM_TIMEOUT_MS }),
    ...(e.LLM_MAX_RETRIES !== undefined && { maxRetries: e.LLM_MAX_RETRIES }),
    ...(e.LLM_MAX_SCHEMA_RETRIES !== undefined && { maxSchemaRetries: e.LLM_MAX_SCHEMA_RETRIES }),
    ...(e.LLM_MAX_TOKENS !== undefined && { maxTokens: e.LLM_MAX_TOKENS }),
    ...(e.LLM_TOOL_CHOICE !== undefined && { toolChoice: e.LLM_TOOL_CHOICE }),
    ...(options.ledger && { ledger: options.ledger }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.retry && { retry: options.retry }),
  };
  return new AnthropicProvider(config);
}
