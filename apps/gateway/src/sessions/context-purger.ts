import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import { ContextUseCase } from './context.usecase.js';

/** How often each gateway replica deletes expired context entries. */
export const CONTEXT_PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * Expired context entries are invisible at once (every read filters on expires_at); this only reclaims their rows,
 * for sessions nobody writes to any more (a write purges its own session's). One DELETE by the expires_at index,
 * in batches of 1000; replicas that run it at the same moment at worst wait briefly on each other's rows. A failure
 * is logged and tried again on the next tick.
 */
@Injectable()
export class ContextPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime,
    @Inject(ContextUseCase) private readonly context: ContextUseCase,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), CONTEXT_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<number> {
    try {
      const n = await this.context.purgeExpired();
      if (n > 0) this.runtime.log.info({ purged: n }, 'purged expired context entries');
      return n;
    } catch (err) {
      this.runtime.log.warn({ err }, 'purging expired context entries failed; will try again');
      return 0;
    }
  }
}
