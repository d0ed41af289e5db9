import { Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Catalogue } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import type { SkillWorkerConfig } from './config.js';
import { Cancellations } from './invocations/cancellations.js';
import { defaultWorkerId, executeInvocation } from './invocations/execute-invocation.js';
import { builtinSkills } from './skills/builtin.js';
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
    const all = config.TEST_SKILLS ? [...builtinSkills, ...testSkills] : builtinSkills;
    const served = all.filter((s) => categories === '*' || categories.includes(s.category));
    await registerSkills(rt.prisma, all);
    const skills = new Map(served.map((s) => [s.name, s]));
    rt.log.info({ categories, skills: [...skills.keys()] }, 'skills loaded');
    // Before taking work: every replica hears every cancel, including those of the last minutes.
    const cancellations = await Cancellations.start(rt.bus, { log: rt.log.child({ component: 'cancellations' }) });
    this.cancellations = cancellations;
    const execute = { workerId: defaultWorkerId(), cancellations, log: rt.log };
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
