import { Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Catalogue, type OutputRef } from '@steward/contracts';
import { storeSkillOutput } from '@steward/state';
import { ServiceRuntime } from '@steward/service-kit';
import type { SkillWorkerConfig } from './config.js';
import { Cancellations } from './invocations/cancellations.js';
import { defaultWorkerId, executeInvocation } from './invocations/execute-invocation.js';
import { createProvider } from '@steward/llm';
import { builtinSkills } from './skills/builtin.js';
import { configureWorkspaceRoot, librarySkills } from './skills/library/index.js';
import { loadPromptSkills } from './skills/prompt/prompt-skills.js';
import { textLlmSkills } from './skills/prompt/text-llm.js';
import type { CodeSkill, ModelUsage } from './skills/skill.js';
import { Counter } from 'prom-client';
import { testSkills } from './skills/test-skills.js';
import { registerSkills } from './skills/register-skills.js';

/** Executes skill invocations from the categories this pool serves; scale by adding replicas. */
@Module({})
export class SkillWorkerModule implements OnApplicationBootstrap, OnModuleDestroy {
  private cancellations: Cancellations | undefined;

  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<SkillWorkerConfig>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    const { config } = rt;
    const categories = config.SKILL_CATEGORIES;
    configureWorkspaceRoot(config.SKILL_WORKSPACE_ROOT);
    const llm = createProvider(llmEnvOf(config));
    const prompt = await loadPromptSkills(config.SKILLS_DIR, () => llm);
    for (const s of prompt.skipped) rt.log.warn({ skillsDir: config.SKILLS_DIR, ...s }, 'prompt skill skipped');
    const all = uniqueSkills([...builtinSkills, ...librarySkills, ...textLlmSkills(() => llm), ...prompt.skills, ...(config.TEST_SKILLS ? testSkills : [])]);
    const served = all.filter((s) => categories === '*' || categories.includes(s.category));
    await registerSkills(rt.prisma, all);
    const skills = new Map(served.map((s) => [s.name, s]));
    rt.log.info({ categories, llm: { provider: llm.kind, model: llm.model }, promptSkills: prompt.skills.length, skills: skills.size > 50 ? skills.size : [...skills.keys()] }, 'skills loaded');
    // Before taking work: every replica hears every cancel, including those of the last minutes.
    const cancellations = await Cancellations.start(rt.bus, { log: rt.log.child({ component: 'cancellations' }) });
    this.cancellations = cancellations;
    const tokens = new Counter({ name: 'steward_llm_tokens_total', help: 'Model tokens used by skills, by model and kind (input, output, cache_read, cache_write)', labelNames: ['model', 'kind'], registers: [rt.registry] });
    const cost = new Counter({ name: 'steward_llm_cost_usd_total', help: 'Model cost of skills in USD (list prices), by model', labelNames: ['model'], registers: [rt.registry] });
    const onUsage = (model: string, u: ModelUsage): void => {
      tokens.inc({ model, kind: 'input' }, u.inputTokens);
      tokens.inc({ model, kind: 'output' }, u.outputTokens);
      tokens.inc({ model, kind: 'cache_read' }, u.cacheReadTokens);
      tokens.inc({ model, kind: 'cache_write' }, u.cacheWriteTokens);
      cost.inc({ model }, u.costUsd);
    };
    const outputs = { maxInlineBytes: config.SKILL_OUTPUT_INLINE_MAX_BYTES, store: (tenantId: string, ref: OutputRef, json: string) => storeSkillOutput(rt.prisma, tenantId, ref, json) };
    const execute = { workerId: defaultWorkerId(), cancellations, log: rt.log, onUsage, outputs };
    const invoke = Catalogue['skill.invoke.v1'];
    // One durable per pool: replicas of a pool share it; pools must not overlap (the commands stream is a work queue).
    const pools = categories === '*' ? [{ durable: 'skill-worker', filter: invoke.filter }] : categories.map((c) => ({ durable: `skill-worker-${c}`, filter: invoke.filter.replace(/\*$/, c) }));
    for (const pool of pools) {
      await rt.consume({
        durable: pool.durable,
        stream: 'commands',
        accepts: ['skill.invoke.v1'],
        filter: pool.filter,
        concurrency: config.SKILL_CONCURRENCY,
        ackWaitMs: config.SKILL_ACK_WAIT_MS,
        // Each invocation is bounded by its own timeout (the skill's, or the command's); a skill may rightly run long.
        handlerTimeoutMs: 0,
        handle: async (e) => {
          await executeInvocation(rt.bus, skills, e.envelope, execute);
        },
      });
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.cancellations?.stop();
  }
}

/** The LLM variables as the provider parses them (strings), from the typed config. */
function llmEnvOf(c: SkillWorkerConfig): Record<string, string | undefined> {
  const str = (v: unknown): string | undefined => (v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
  return {
    ANTHROPIC_API_KEY: c.ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL: c.ANTHROPIC_BASE_URL,
    LLM_PROVIDER: c.LLM_PROVIDER,
    LLM_MODEL: c.LLM_MODEL,
    LLM_TIMEOUT_MS: str(c.LLM_TIMEOUT_MS),
    LLM_MAX_RETRIES: str(c.LLM_MAX_RETRIES),
    LLM_MAX_SCHEMA_RETRIES: str(c.LLM_MAX_SCHEMA_RETRIES),
    LLM_MAX_TOKENS: str(c.LLM_MAX_TOKENS),
    LLM_TOOL_CHOICE: c.LLM_TOOL_CHOICE,
    LLM_PRICES: str(c.LLM_PRICES),
  };
}

/** Two skills with one name would shadow each other silently: refuse to start instead. */
function uniqueSkills(skills: CodeSkill[]): CodeSkill[] {
  const seen = new Set<string>();
  for (const s of skills) {
    if (seen.has(s.name)) throw new Error(`two skills are named ${s.name} (a prompt skill in SKILLS_DIR may clash with a built-in one)`);
    seen.add(s.name);
  }
  return skills;
}
