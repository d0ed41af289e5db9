// Stream provisioning against the local NATS server (a single server, not a cluster): the replica count is applied
// on creation and on every update, and a count the server cannot keep fails with the variable's name.
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bus, StreamReplicasError } from './bus.js';

const KEYS = ['events', 'commands', 'deadLetters'] as const;

describe('Bus.provision (real NATS, single server)', () => {
  let bus: Bus;
  beforeEach(async () => {
    bus = await Bus.connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'provision-test', namespace: `t${randomBytes(5).toString('hex')}`, registry: new Registry() });
  });
  afterEach(async () => {
    for (const key of KEYS) await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
    await bus.close();
  });

  const replicasOf = async () => Promise.all(KEYS.map(async (k) => (await bus.jsm.streams.info(bus.streamName(k))).config.num_replicas));

  it('creates every stream with the replica count given, and sends it again on every update', async () => {
    const sent: { op: string; replicas: number | undefined }[] = [];
    const { streams } = bus.jsm;
    const add = streams.add.bind(streams);
    const update = streams.update.bind(streams);
    streams.add = (cfg) => (sent.push({ op: 'add', replicas: cfg.num_replicas }), add(cfg));
    streams.update = (name, cfg) => (sent.push({ op: 'update', replicas: cfg?.num_replicas }), update(name, cfg));

    await bus.provision({ replicas: 1 });
    expect(await replicasOf()).toEqual([1, 1, 1]);
    await bus.provision({ replicas: 1 }); // the next start: updates, with the count again
    expect(sent).toEqual([...KEYS.map(() => ({ op: 'add', replicas: 1 })), ...KEYS.map(() => ({ op: 'update', replicas: 1 }))]);
    expect(await replicasOf()).toEqual([1, 1, 1]);
  });

  it('refuses more than one replica on a server outside a cluster, naming NATS_STREAM_REPLICAS, and changes no stream', async () => {
    expect(bus.nc.info?.cluster, 'the local test server is a single server').toBeFalsy();
    await expect(bus.provision({ replicas: 3 })).rejects.toThrow(StreamReplicasError);
    await expect(bus.provision({ replicas: 3 })).rejects.toThrow(/NATS_STREAM_REPLICAS=3.*not part of a cluster/);
    expect(await bus.jsm.streams.info(bus.streamName('events')).catch((e: Error) => e.name)).toBe('StreamNotFoundError');

    await bus.provision({ replicas: 1 });
    await expect(bus.provision({ replicas: 3 })).rejects.toThrow(/NATS_STREAM_REPLICAS=3/); // existing streams: not "updated" to 3
    expect(await replicasOf()).toEqual([1, 1, 1]);
  });

  it('refuses a replica count JetStream does not support', async () => {
    for (const replicas of [0, 6, 1.5]) await expect(bus.provision({ replicas })).rejects.toThrow(/NATS_STREAM_REPLICAS=.* from 1 to 5/);
  });
});
