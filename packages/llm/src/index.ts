export type { LlmProvider, CompletionRequest, Completion, ProposalRequest, Proposal, ProposalOption } from './provider.js';
export { LlmError, isLlmError, type LlmErrorCode, type LlmErrorOptions } from './errors.js';
export { UsageLedger, UNASSIGNED_TASK, emptyUsage, addUsage, type Usage, type LedgerEntry } from './usage.js';
export { DEFAULT_PRICES, priceFor, costOf, type ModelPrice, type PriceTable, type TokenCounts } from './pricing.js';
export {
  AnthropicProvider,
  DEFAULT_MODEL,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MAX_SCHEMA_RETRIES,
  MODELS_WITHOUT_FORCED_TOOL_CHOICE,
  type AnthropicProviderConfig,
  type ToolChoiceMode,
} from './anthropic-provider.js';
export { OfflineProvider, OFFLINE_MODEL, offlineValue, type OfflineProviderConfig } from './offline-provider.js';
export { OFFLINE_MARKER } from './offline-value.js';
export { createProvider, LlmEnvSchema, LLM_ENV_DEFAULTS, type LlmEnv, type CreateProviderOptions } from './create-provider.js';
export { DEFAULT_RETRY_POLICY, backoffMs, retryAfterMs, type RetryPolicy } from './retry.js';
export { toToolSchema, type ToolSchema, type JsonSchema } from './json-schema.js';
