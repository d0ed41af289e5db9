// A sweep of rows that become due with time (retries, deadlines, batches to send), run by every replica.
import { outsideScope } from '@steward/bus';

/** Runs the sweep every `intervalMs`, and sooner when a change asks for a wake-up at a given time. */
export class TimerLoop {
  private timer: NodeJS.Timeout | undefined;
  private nextWake = Infinity;
  private running = false;
  private stopped = false;

  constructor(
    private readonly sweep: () => Promise<number>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.schedule(Date.now() + this.intervalMs);
  }

  /** Something becomes due at `at`: sweep then (if sooner than planned). */
  wakeAt(at: Date): void {
    const t = at.getTime() + 2;
    if (t < this.nextWake) this.schedule(t);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.nextWake = at;
    // wakeAt is called from handlers: the sweep must not run in (and log or trace as) the waking message's scope.
    this.timer = outsideScope(() => setTimeout(() => void this.tick(), Math.max(0, at - Date.now())));
  }

  private async tick(): Promise<void> {
    this.nextWake = Infinity;
    if (this.running) return this.schedule(Date.now() + 5);
    this.running = true;
    let handled = 0;
    try {
      handled = await this.sweep();
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
    // A full sweep may have left more due rows: go again at once.
    if (this.nextWake === Infinity) this.schedule(Date.now() + (handled >= 200 ? 0 : this.intervalMs));
  }
}
