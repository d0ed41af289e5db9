import { z } from 'zod';
import { LlmError } from './errors.js';
import type { Proposal, ProposalOption, ProposalRequest } from './provider.js';
import { addUsage, emptyUsage, type Usage } from './usage.js';

export const MAX_SAMPLES = 16;

export function validateProposalRequest(req: ProposalRequest): number {
  if (req.options.length === 0) throw new LlmError('bad_request', 'propose needs at least one option');
  const ids = new Set(req.options.map((o) => o.id));
  if (ids.size !== req.options.length) throw new LlmError('bad_request', 'propose options must have unique ids');
  const samples = req.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES) {
    throw new LlmError('bad_request', `samples must be an integer from 1 to ${MAX_SAMPLES}, got ${samples}`);
  }
  return samples;
}

export function proposalSchema(options: readonly ProposalOption[]) {
  const ids = options.map((o) => o.id) as [string, ...string[]];
  return z.object({
    choice: z.enum(ids).describe('The id of the chosen option'),
    confidence: z.number().min(0).max(1).describe('Probability, 0 to 1, that this choice is the right one'),
    rationale: z.string().min(1).max(2000).describe('Why, in one to three sentences, citing the context'),
  });
}

export type ProposalSample = z.infer<ReturnType<typeof proposalSchema>>;

export const PROPOSAL_SYSTEM =
  'You help a human decide. Pick exactly one of the given options, state a calibrated confidence ' +
  '(0 to 1: the probability you are right, not how much you like it), and give a short rationale grounded in the context. ' +
  'Answer only through the tool.';

export function proposalPrompt(req: ProposalRequest): string {
  const options = req.options.map((o) => `- ${o.id}: ${o.label}`).join('\n');
  return `Question: ${req.question}\n\nOptions (answer with the id):\n${options}\n\nContext (JSON):\n${JSON.stringify(req.context, null, 2)}`;
}

/** Modal choice across samples; ties go to the higher mean confidence, then to option order. */
export function aggregate(samples: readonly ProposalSample[], options: readonly ProposalOption[], usage: Usage, offline: boolean): Proposal {
  const first = samples[0];
  if (!first) throw new LlmError('bad_request', 'no samples to aggregate');
  const groups = new Map<string, ProposalSample[]>();
  for (const s of samples) groups.set(s.choice, [...(groups.get(s.choice) ?? []), s]);
  const order = (id: string) => options.findIndex((o) => o.id === id);
  const mean = (xs: ProposalSample[]) => xs.reduce((a, s) => a + s.confidence, 0) / xs.length;
  const ranked = [...groups.entries()].sort(([ia, a], [ib, b]) => b.length - a.length || mean(b) - mean(a) || order(ia) - order(ib));
  const [choice, agreeing] = ranked[0] ?? [first.choice, [first]];
  const best = [...agreeing].sort((a, b) => b.confidence - a.confidence)[0] ?? first;
  const proposal: Proposal = { choice, confidence: mean(agreeing), rationale: best.rationale, samples: samples.length, offline, usage };
  if (samples.length >= 2) proposal.agreement = agreeing.length / samples.length;
  return proposal;
}

export function sumUsage(usages: readonly Usage[]): Usage {
  return usages.reduce(addUsage, emptyUsage());
}
