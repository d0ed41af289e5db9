import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { Bus } from './bus.js';

/** A bus in a fresh namespace with its own streams and metrics; `destroy` deletes the streams. */
export async function createTestBus(name = 'test'): Promise<Bus & { destroy(): Promise<void> }> {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const bus = await Bus.connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name, namespace, registry: new Registry() });
  await bus.provision({ duplicateWindowMs: 60_000 });
  return Object.assign(bus, {
    async destroy() {
      for (const key of ['events', 'commands', 'deadLetters'] as const) await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
      await bus.close();
    },
  });
}
