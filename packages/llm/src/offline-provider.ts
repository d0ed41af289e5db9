import type { z } from 'zod';
import { LlmError } from './errors.js';
import { assertToolName, describeIssues, toToolSchema, unwrapToolInput } from './json-schema.js';
import { offlineValueFor } from './offline-value.js';
import { aggregate, validateProposalRequest } from './propose.js';
import type { Completion, CompletionRequest, LlmProvider, Proposal, ProposalRequest } from './provider.js';
import { emptyUsage, UsageLedger } from './usage.js';

export const OFFLINE_MODEL = 'offline';

export interface OfflineProviderConfig {
  ledger?: UsageLedger;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LlmError('aborted', 'the request was aborted before it started', { cause: signal.reason });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Leaf values of the context with their paths, in key order, so matching is deterministic. */
function leaves(value: unknown, path: string, out: Array<[string, string]>, depth = 0): Array<[string, string]> {
  if (depth > 16) return out;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push([path || '(root)', String(value)]);
  else if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out, depth + 1));
  else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value).sort()) leaves((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, out, depth + 1);
  }
  return out;
}

/**
 * Stand-in used without an API key. Deterministic (same input, same output) and honest: results
 * carry `offline: true`, strings start with "offline:", and rationales say no model was asked.
 */
export class OfflineProvider implements LlmProvider {
  readonly kind = 'offline' as const;
  readonly model = OFFLINE_MODEL;
  readonly ledger: UsageLedger;

  constructor(config: OfflineProviderConfig = {}) {
    this.ledger = config.ledger ?? new UsageLedger();
  }

  async complete<T>(req: CompletionRequest<T>): Promise<Completion<T>> {
    throwIfAborted(req.signal);
    assertToolName(req.schemaName);
    const { inputSchema, wrapped } = toToolSchema(req.schema);
    const candidate = unwrapToolInput(offlineValueFor(inputSchema, req.prompt), wrapped);
    const parsed = req.schema.safeParse(candidate);
    if (!parsed.success) {
      // Patterns, refinements and the like cannot be satisfied by a generic builder.
      throw new LlmError('invalid_output', `offline provider cannot build a value for "${req.schemaName}" that passes its schema (set ANTHROPIC_API_KEY to use Claude):\n${describeIssues(parsed.error)}`);
    }
    const usage = emptyUsage();
    this.ledger.record(req.taskId, OFFLINE_MODEL, usage);
    return { value: parsed.data, usage, model: OFFLINE_MODEL, offline: true, attempts: 0 };
  }

  async propose(req: ProposalRequest): Promise<Proposal> {
    throwIfAborted(req.signal);
    const samples = validateProposalRequest(req);
    const values = leaves(req.context, '', []);
    let rationale = `offline provider: no API key is configured, so no model was asked; chose the first option "${req.options[0]?.id ?? ''}" by rule.`;
    let choice = req.options[0]?.id ?? '';
    search: for (const option of req.options) {
      for (const needle of new Set([option.id, option.label])) {
        if (!needle.trim()) continue;
        const re = new RegExp(`(^|[^\\p{L}\\p{N}_])${escapeRegExp(needle.trim())}($|[^\\p{L}\\p{N}_])`, 'iu');
        const hit = values.find(([, v]) => re.test(v));
        if (hit) {
          choice = option.id;
          rationale = `offline provider: no API key is configured, so no model was asked; chose "${option.id}" because "${needle}" appears in context at ${hit[0]}.`;
          break search;
        }
      }
    }
    const usage = emptyUsage();
    this.ledger.record(req.taskId, OFFLINE_MODEL, usage);
    // Every sample of a deterministic rule agrees, so n samples are n copies of one answer.
    const one = { choice, confidence: 0.5, rationale };
    return aggregate(Array.from({ length: samples }, () => one), req.options, usage, true);
  }
}

/** The value the offline provider would produce for `schema`, for previews and tests. */
export function offlineValue<T>(schema: z.ZodType<T>, prompt: string): T {
  const { inputSchema, wrapped } = toToolSchema(schema);
  return schema.parse(unwrapToolInput(offlineValueFor(inputSchema, prompt), wrapped));
}
