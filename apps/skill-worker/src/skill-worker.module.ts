import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { Catalogue } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import type { SkillWorkerConfig } from './config.js';
import { executeInvocation } from './invocations/execute-invocation.js';
import { builtinSkills } from './skills/builtin.js';
import { registerSkills } from './skills/register-skills.js';

/** Executes skill invocations from the categories this pool serves; scale by adding replicas. */
@Module({})
export class SkillWorkerModule implements OnApplicationBootstrap {
  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<SkillWorkerConfig>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    const { config } = rt;
    const categories = config.SKILL_CATEGORIES;
    const served = builtinSkills.filter((s) => categories === '*' || categories.includes(s.category));
    await registerSkills(rt.prisma, builtinSkills);
    const skills = new Map(served.map((s) => [s.name, s]));
    rt.log.info({ categories, skills: [...skills.keys()] }, 'skills loaded');
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
          await executeInvocation(rt.bus, skills, e.envelope);
        },
      });
    }
  }
}
