// Starts the five services as separate processes against a fresh PostgreSQL schema and NATS namespace.
import { Bus } from '@steward/bus';
import { Catalogue, type Envelope } from '@steward/contracts';
import { createTenant, createTestSchema, issueApiKey, type ApiScope, type TestSchema } from '@steward/state';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const SERVICES = ['gateway', 'orchestrator', 'workflow-runner', 'skill-worker', 'escalation'] as const;
export type Service = (typeof SERVICES)[number];

const ROOT = join(import.meta.dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface StackOptions {
  /** Extra environment per service (e.g. a short SKILL_ACK_WAIT_MS for crash tests). */
  env?: Partial<Record<Service, Record<string, string>>>;
  /**
   * 'dev' (the default): each service runs from its TypeScript source through tsx with NODE_ENV=test.
   * 'dist': each runs from its built output (`node apps/<service>/dist/main.js`, no tsx, no development
   * condition) with NODE_ENV=production, as deployed; build first (`pnpm build`).
   */
  mode?: 'dev' | 'dist';
  /** Run on this migrated database instead of a fresh schema (e.g. one restored from a backup); stop() drops it too. */
  database?: TestSchema;
  /** Use this NATS namespace (e.g. an earlier stack's, whose streams are still there) instead of a fresh one; stop() deletes its streams. */
  namespace?: string;
}

export class Stack {
  readonly procs = new Map<Service, ChildProcess>();
  readonly ports = new Map<Service, number>();
  readonly logDir: string;
  /** An admin API key of tenant "default", for requests to the gateway (see `gateway()`). */
  apiKey = '';
  private constructor(
    readonly db: TestSchema,
    readonly namespace: string,
    readonly bus: Bus,
    private readonly opts: StackOptions,
  ) {
    this.logDir = join(ROOT, '.steward', 'e2e', namespace);
    mkdirSync(this.logDir, { recursive: true });
  }

  static async start(opts: StackOptions = {}): Promise<Stack> {
    const db = opts.database ?? (await createTestSchema('e2e'));
    const namespace = opts.namespace ?? `e2e${randomBytes(4).toString('hex')}`;
    const bus = await Bus.connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'e2e-observer', namespace });
    const stack = new Stack(db, namespace, bus, opts);
    await createTenant(db.prisma, { id: 'default' });
    stack.apiKey = (await issueApiKey(db.prisma, { tenantId: 'default', name: 'e2e', scopes: ['admin'] })).key;
    for (const s of SERVICES) stack.ports.set(s, await freePort());
    try {
      // The skill-worker registers the skills the gateway checks, so it starts first.
      await stack.startService('skill-worker');
      const started = await Promise.allSettled(SERVICES.filter((s) => s !== 'skill-worker').map((s) => stack.startService(s)));
      for (const r of started) if (r.status === 'rejected') throw r.reason;
    } catch (err) {
      await stack.stop().catch(() => undefined); // leaves no processes, streams or schema behind
      throw err;
    }
    return stack;
  }

  url(service: Service, path = ''): string {
    return `http://127.0.0.1:${this.ports.get(service)}${path}`;
  }

  /** A new API key of `tenantId` (created if new) with these scopes. */
  async keyFor(tenantId: string, scopes: ApiScope[] = ['admin']): Promise<string> {
    await createTenant(this.db.prisma, { id: tenantId });
    return (await issueApiKey(this.db.prisma, { tenantId, name: 'e2e', scopes })).key;
  }

  /** fetch() against the gateway, authenticated with `apiKey` unless `init.headers` carries its own authorization. */
  gateway(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.apiKey}`);
    return fetch(this.url('gateway', path), { ...init, headers });
  }

  /** The file each service's output (stdout and stderr, across restarts) is appended to. */
  logFile(service: Service): string {
    return join(this.logDir, `${service}.log`);
  }

  async startService(service: Service): Promise<void> {
    const dist = this.opts.mode === 'dist';
    const main = join(ROOT, 'apps', service, dist ? 'dist/main.js' : 'src/main.ts');
    if (dist && !existsSync(main)) throw new Error(`${main} is missing: run \`pnpm build\` first`);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: dist ? 'production' : 'test',
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info',
      DATABASE_URL: this.db.databaseUrl,
      DATABASE_SCHEMA: this.db.schema,
      DATABASE_POOL_SIZE: '4',
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: this.namespace,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      HTTP_PORT: String(this.ports.get(service)),
      ...(dist ? {} : { TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.runtime.json') }),
      ...this.opts.env?.[service],
    };
    const args = dist ? [main] : ['--conditions=development', '--import', 'tsx', main];
    const child = spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(this.logFile(service), { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.procs.set(service, child);
    await this.waitReady(service, child);
  }

  private async waitReady(service: Service, child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} during start-up; see ${this.logDir}/${service}.log`);
      try {
        const r = await fetch(this.url(service, '/readyz'));
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${service} not ready after 180 s; see ${this.logDir}/${service}.log`);
  }

  /** Sends `signal` and waits for the process to exit; returns its exit code (null when killed by a signal). */
  async kill(service: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.procs.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const code = await exited;
    this.procs.delete(service);
    return code;
  }

  /** Resolves once the skill-worker pool holds a delivered, unacknowledged invocation (a skill is running). */
  async untilWorkerHoldsInvocation(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.bus.jsm.consumers.info(this.bus.streamName('commands'), 'skill-worker')).num_ack_pending === 0) {
      if (Date.now() > deadline) throw new Error('the skill-worker never picked up the invocation');
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** Every event of the audit stream whose correlation id (the task) is `taskId`, in stream order. */
  async eventsOf(taskId: string): Promise<Envelope[]> {
    const stream = this.bus.streamName('events');
    const info = await this.bus.jsm.streams.info(stream);
    const last = info.state.last_seq;
    const out: Envelope[] = [];
    if (info.state.messages === 0) return out;
    const consumer = await this.bus.js.consumers.get(stream);
    const msgs = await consumer.consume({ max_messages: 1000 });
    for await (const m of msgs) {
      const e = m.json<Envelope>();
      if (e.correlationid === taskId) out.push(e);
      if (m.seq >= last) break;
    }
    await msgs.close();
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((s) => this.kill(s, 'SIGTERM')));
    for (const key of ['events', 'commands', 'deadLetters'] as const) await this.bus.jsm.streams.delete(this.bus.streamName(key)).catch(() => false);
    await this.bus.close();
    await this.db.drop();
  }
}

export interface TaskView {
  taskId: string;
  status: string;
  output?: unknown;
  error?: unknown;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
}

export async function submit(stack: Stack, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const r = await stack.gateway('/v1/tasks', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, headers: r.headers };
}

/** Polls GET /v1/tasks/:id until the task reaches a final state; returns every status seen, in order. */
export async function waitForTask(stack: Stack, taskId: string, timeoutMs = 60_000): Promise<{ task: TaskView; seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await stack.gateway(`/v1/tasks/${taskId}`);
    const task = (await r.json()) as TaskView;
    if (seen.at(-1) !== task.status) seen.push(task.status);
    if (['completed', 'failed', 'cancelled'].includes(task.status)) return { task, seen };
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`task ${taskId} did not finish within ${timeoutMs} ms (seen: ${seen.join(' → ')})`);
}

export const eventTypes = (events: Envelope[]): string[] => events.map((e) => e.type.replace(/^steward\./, ''));
export { Catalogue };

/** Polls `probe` every 50 ms until it returns a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
