// ─── Crosses the wire (API and files): the workflow definition format, as a person writes it in YAML or JSON. The
// document is stored as written (its hash pins a version); @steward/workflows compiles it (graph, expressions,
// durations) and checks what a schema cannot (cycles, unknown skills, expressions, inputs). ───
import { z } from 'zod';
import { SkillName, WorkflowName } from './common.js';

/** Step ids are names inside expressions (`steps.build.output`): lowercase words joined by `_`. */
export const StepId = z.string().regex(/^[a-z][a-z0-9_]*$/, 'step ids are lowercase words joined by _ (they are names in expressions)').max(64);

/** A duration: milliseconds as a number, or a string such as `500ms`, `30s`, `5m`, `2h`, `1d`. */
export const Duration = z.union([
  z.number().int().positive().describe('milliseconds'),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'durations look like 500ms, 30s, 5m, 2h or 1d'),
]);
export type Duration = z.infer<typeof Duration>;

/** A CEL expression over `inputs`, `steps.<id>.output` / `.status` (and `item`, `index` inside `for_each`). */
export const Expression = z.string().min(1).max(2000);

/**
 * A value wired into a step: any JSON. Strings may hold `${{ expr }}`: a string that is exactly one such
 * placeholder becomes the expression's value (any type); placeholders inside text are interpolated as text.
 */
export const Template: z.ZodType<unknown> = z.unknown();

export const RetryPolicy = z
  .object({
    /** Attempts in all, the first included; 1 means no retry. */
    max_attempts: z.number().int().min(1).max(100).default(3),
    backoff: z
      .object({
        type: z.enum(['fixed', 'exponential']).default('exponential'),
        /** Delay before the second attempt. */
        initial: Duration.default('1s'),
        /** Ceiling of any delay. */
        max: Duration.default('5m'),
        /** Growth per attempt for exponential backoff. */
        multiplier: z.number().min(1).max(10).default(2),
        /** Share of each delay drawn at random (0.2 = up to ±20 %), so retries of many runs do not align. */
        jitter: z.number().min(0).max(1).default(0.2),
      })
      .strict()
      .default({ type: 'exponential', initial: '1s', max: '5m', multiplier: 2, jitter: 0.2 }),
    /** Error codes that park the step at once: retrying cannot help. */
    non_retryable: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const DecisionOption = z.object({ id: z.string().min(1).max(100), label: z.string().max(500) }).strict();

export const DecisionSpec = z
  .object({
    /** What kind of decision this is (escalation policy, rules and learning are kept per type). */
    type: z.string().min(1).max(100),
    options: z.array(DecisionOption).min(1).max(50),
    /** The option the agent proposes (may be an expression placeholder). */
    proposal: z.string().min(1).max(2000).optional(),
    /** What the decider sees: risk, reversibility, blast radius, cost, urgency, evidence (templates allowed). */
    context: z.record(z.string(), Template).optional(),
    /** Option taken when nobody answers in time (the escalation service records that it did). */
    fallback: z.string().min(1).max(100).optional(),
    /** How long an escalated decision waits for its person before the fallback is taken (default: the service's). */
    fallback_after: Duration.optional(),
  })
  .strict();

export const WaitSpec = z.union([
  z
    .object({
      /** Name of the external event to wait for (published with POST /v1/events). */
      event: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:-]*$/).max(200),
      /** Only events with this key match (a template, e.g. `${{ inputs.pr }}`). */
      key: z.string().min(1).max(500).optional(),
      /** Events published up to this long before the step started waiting also count. */
      lookback: Duration.optional(),
      /** Give up after this long: the step fails with `wait_timeout`. */
      timeout: Duration.optional(),
    })
    .strict(),
  z.object({ duration: Duration }).strict(),
]);

export const ChildWorkflowSpec = z
  .object({
    name: WorkflowName,
    /** Defaults to the highest registered version when the parent run starts the child. */
    version: z.number().int().positive().optional(),
  })
  .strict();

export const ForEachSpec = z
  .object({
    /** Expression giving the list to fan out over; each element runs the step with `item` and `index`. */
    items: Expression,
    /** Most elements in flight at once. */
    concurrency: z.number().int().min(1).max(1000).default(10),
  })
  .strict();

export const WorkflowStepDefinition = z
  .object({
    id: StepId,
    description: z.string().max(2000).optional(),
    /** Exactly one of skill, workflow, decision, wait says what the step does. */
    skill: SkillName.optional(),
    workflow: ChildWorkflowSpec.optional(),
    decision: DecisionSpec.optional(),
    wait: WaitSpec.optional(),
    /** Run the step once per element of a list (skill and workflow steps). */
    for_each: ForEachSpec.optional(),
    /** The step's input. Without it a step receives the output of its single predecessor, or the workflow input. */
    with: z.record(z.string(), Template).optional(),
    /** Steps that must finish first, beyond the order stages give. */
    depends_on: z.array(StepId).max(100).optional(),
    /** Expression: the step runs only if it is true, otherwise it is skipped (and its dependants still run). */
    when: Expression.optional(),
    retry: RetryPolicy.optional(),
    /** Time one attempt may take (defaults to the skill's own timeout). */
    timeout: Duration.optional(),
    /** The running attempt must show signs of life this often, or it is failed and retried. */
    heartbeat_timeout: Duration.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const kinds = (['skill', 'workflow', 'decision', 'wait'] as const).filter((k) => s[k] !== undefined);
    if (kinds.length !== 1) ctx.addIssue({ code: 'custom', path: [], message: kinds.length === 0 ? `step ${s.id} needs one of skill, workflow, decision, wait` : `step ${s.id} has ${kinds.join(' and ')}; give it exactly one` });
    if (s.for_each && !s.skill && !s.workflow) ctx.addIssue({ code: 'custom', path: ['for_each'], message: `step ${s.id}: for_each fans out skill and workflow steps only` });
  });
export type WorkflowStepDefinition = z.infer<typeof WorkflowStepDefinition>;

export const WorkflowStage = z
  .object({
    name: z.string().min(1).max(100).optional(),
    /** Steps of a parallel stage run side by side; otherwise each waits for the one before it. */
    parallel: z.boolean().default(false),
    steps: z.array(WorkflowStepDefinition).min(1).max(500),
  })
  .strict();
export type WorkflowStage = z.infer<typeof WorkflowStage>;

export const WorkflowDefinition = z
  .object({
    /** Editors' schema hint; ignored. */
    $schema: z.string().optional(),
    name: WorkflowName,
    version: z.number().int().positive(),
    description: z.string().max(2000).optional(),
    /** JSON Schema of the run input (an object); runs with other input are refused. */
    inputs: z.record(z.string(), z.unknown()).optional(),
    /** Stages run in order; each waits for every step of the one before. */
    stages: z.array(WorkflowStage).min(1).max(100).optional(),
    /** Shorthand for one sequential stage. */
    steps: z.array(WorkflowStepDefinition).min(1).max(500).optional(),
    /** The run's output: templates over inputs and steps. Defaults to the output of the last stage. */
    outputs: z.record(z.string(), Template).optional(),
    /** The whole run must end within this; past it the run fails with `workflow_timeout`. */
    timeout: Duration.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if ((d.stages === undefined) === (d.steps === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'give either stages or steps' });
  });
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;
