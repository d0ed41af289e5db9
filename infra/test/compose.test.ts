// infra/compose/docker-compose.yml checked statically (no Docker engine runs here): every service, image, port,
// variable (against the services' zod config schemas), dependency, healthcheck, volume and mounted file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allowedVariables, configDefaults, configSchema, directEnvReads, hasCommand, interpolateDeep, read, requiredVariables, ROOT, SERVICES } from './support.js';

const COMPOSE_DIR = 'infra/compose';
const Healthcheck = z.object({ test: z.array(z.string()).min(2), interval: z.string(), timeout: z.string(), retries: z.number().int().positive(), start_period: z.string().optional() }).strict();
const DependsOn = z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) }).strict());
const Service = z
  .object({
    image: z.string(),
    build: z.object({ context: z.string(), dockerfile: z.string(), target: z.string().optional(), args: z.record(z.string(), z.string()).optional() }).strict().optional(),
    command: z.array(z.string()).optional(),
    restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    ports: z.array(z.string()).optional(),
    volumes: z.array(z.string()).optional(),
    tmpfs: z.array(z.string()).optional(),
    read_only: z.boolean().optional(),
    stop_grace_period: z.string().optional(),
    depends_on: DependsOn.optional(),
    healthcheck: Healthcheck.optional(),
  })
  .strict();
const Compose = z.object({ name: z.string(), services: z.record(z.string(), Service), volumes: z.record(z.string(), z.null()) }).loose();
type Service = z.infer<typeof Service>;

// Merge keys (<<) as Docker Compose reads them; then ${VAR:-default} as an empty environment gives them.
const raw = parse(read(`${COMPOSE_DIR}/docker-compose.yml`), { merge: true }) as Record<string, unknown>;
const compose = Compose.parse(interpolateDeep(Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')))));
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`compose has no service ${name}`);
  return s;
};
const env = (s: Service): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
const seconds = (d: string): number => {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`not a compose duration: ${d}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
};
/** A service's bind mounts and volumes: container path → source. */
const mounts = (s: Service): Record<string, string> =>
  Object.fromEntries(
    (s.volumes ?? []).map((v): [string, string] => {
      const [source = '', target = ''] = v.split(':');
      return [target, source];
    }),
  );
const natsConf = read(`${COMPOSE_DIR}/nats.conf`);
const natsSetting = (key: string): string | undefined => new RegExp(`^\\s*${key}\\s*[:=]\\s*(\\S+)`, 'm').exec(natsConf)?.[1];

describe('docker-compose.yml', () => {
  it('runs NATS, PostgreSQL, Redis, the migration job, every service, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual([...SERVICES, 'grafana', 'migrate', 'nats', 'postgres', 'prometheus', 'redis'].sort());
    for (const s of Object.values(services).filter((s) => !s.build)) expect(s.image, 'third-party images are pinned to a version').toMatch(/:v?\d+\.\d+(\.\d+)?(-[a-z]+)?$/);
  });

  describe.each(SERVICES)('%s', (name) => {
    const s = svc(name);
    const vars = env(s);

    it('is built from the shared Dockerfile for this service, as its own image', () => {
      expect(s.build).toEqual({ context: '../..', dockerfile: 'infra/docker/Dockerfile', args: { SERVICE: name } });
      expect(existsSync(join(ROOT, COMPOSE_DIR, s.build!.context, s.build!.dockerfile))).toBe(true);
      expect(s.image).toMatch(new RegExp(`/${name}:[^/]+$`));
      expect(SERVICES.filter((other) => svc(other).image === s.image)).toEqual([name]);
    });

    it('sets only variables the service reads, every required one, and values its config schema accepts', () => {
      const allowed = allowedVariables(name);
      expect(Object.keys(vars).filter((v) => !allowed.has(v)), 'variables the service does not read').toEqual([]);
      expect(requiredVariables(configSchema(name)).filter((v) => !(v in vars)), 'required variables not set').toEqual([]);
      const parsed = configSchema(name).safeParse(vars);
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(vars.NODE_ENV).toBe('production');
      expect(vars.HTTP_HOST, 'a container listens on every interface').toBe('0.0.0.0');
    });

    it('points at the compose NATS, PostgreSQL and Redis', () => {
      const nats = new URL(vars.NATS_URL!);
      expect(nats.hostname).toBe('nats');
      expect(nats.port).toBe(natsSetting('port'));
      const db = new URL(vars.DATABASE_URL!);
      const pg = env(svc('postgres'));
      expect([db.hostname, db.port || '5432', decodeURIComponent(db.username), decodeURIComponent(db.password), db.pathname]).toEqual(['postgres', '5432', pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
      if ('REDIS_URL' in configSchema(name).shape) expect(new URL(vars.REDIS_URL!).host).toBe('redis:6379');
    });

    it('waits for the migration to finish and for NATS and PostgreSQL to be healthy', () => {
      expect(s.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(s.depends_on?.nats?.condition).toBe('service_healthy');
      expect(s.depends_on?.postgres?.condition).toBe('service_healthy');
      if ('REDIS_URL' in configSchema(name).shape) expect(s.depends_on?.redis?.condition).toBe('service_healthy');
    });

    it('has a healthcheck on /healthz run by node (the image has no curl) and time to drain on stop', () => {
      expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/usr/local/lib/steward/healthcheck.mjs']);
      const shutdownMs = Number(vars.SHUTDOWN_TIMEOUT_MS ?? configDefaults(name).SHUTDOWN_TIMEOUT_MS);
      expect(seconds(s.stop_grace_period ?? '10s')).toBeGreaterThan(shutdownMs / 1000);
      expect(s.read_only).toBe(true);
      expect(s.tmpfs).toContain('/tmp');
    });

    it('publishes a port only if it is the gateway', () => {
      const port = vars.HTTP_PORT ?? String(configDefaults(name).HTTP_PORT);
      if (name === 'gateway') expect(s.ports).toEqual([`8080:${port}`]);
      else expect(s.ports).toBeUndefined();
    });
  });

  it('gives every service its own HTTP port', () => {
    const ports = SERVICES.map((name) => env(svc(name)).HTTP_PORT ?? String(configDefaults(name).HTTP_PORT));
    expect(new Set(ports).size).toBe(SERVICES.length);
  });

  it('runs the migration once, from the migrate image, before the services', () => {
    const m = svc('migrate');
    expect(m.build?.target).toBe('migrate');
    expect(m.restart).toBe('no');
    expect(m.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    // The migration CLI reads these straight from process.env.
    const allowed = directEnvReads(['packages/state/src/cli']);
    expect([...allowed].sort()).toEqual(['DATABASE_SCHEMA', 'DATABASE_URL']);
    expect(Object.keys(env(m)).filter((v) => !allowed.has(v))).toEqual([]);
    expect(env(m).DATABASE_URL).toBe(env(svc('gateway')).DATABASE_URL);
  });

  it('gives every dependency waited on as healthy a healthcheck, and every dependency exists', () => {
    for (const [name, s] of Object.entries(services))
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(svc(dep).healthcheck, `${dep} needs a healthcheck`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(svc(dep).restart).toBe('no');
      }
  });

  it('keeps PostgreSQL, NATS, Prometheus and Grafana data in named volumes; Redis keeps nothing', () => {
    const named = (s: Service, target: string) => (s.volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === target)?.[0];
    expect(named(svc('postgres'), '/var/lib/postgresql/data')).toBe('postgres-data');
    expect(named(svc('prometheus'), '/prometheus')).toBe('prometheus-data');
    expect(named(svc('grafana'), '/var/lib/grafana')).toBe('grafana-data');
    const natsData = (svc('nats').volumes ?? []).map((v) => v.split(':')).find(([source]) => source === 'nats-data');
    expect(natsData, 'nats-data volume').toBeDefined();
    expect(natsSetting('store_dir')?.startsWith(`${natsData![1]}/`), 'JetStream stores on the volume').toBe(true);
    for (const s of Object.values(services))
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.')) expect(compose.volumes, `volume ${source} is declared`).toHaveProperty(source);
      }
    expect(svc('redis').volumes).toBeUndefined();
    expect(svc('redis').command).toEqual(['redis-server', '--save', '', '--appendonly', 'no']);
  });

  it('mounts only files that exist in the repository', () => {
    for (const [name, s] of Object.entries(services))
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(ROOT, COMPOSE_DIR, source)), `${name} mounts ${source}`).toBe(true);
      }
  });

  it('configures NATS with JetStream on file storage and a monitoring port the healthcheck uses', () => {
    expect(natsConf).toMatch(/^jetstream\s*\{[^}]*store_dir:/m);
    expect(svc('nats').command).toEqual(['-c', '/etc/nats/nats.conf']);
    expect(svc('nats').volumes).toContain('./nats.conf:/etc/nats/nats.conf:ro');
    expect(svc('nats').healthcheck?.test.join(' ')).toContain(`:${natsSetting('http_port')}/healthz`);
    expect(svc('nats').image).toMatch(/^nats:2\.(1[0-9])\.\d+/); // sync_interval needs NATS >= 2.10
    expect(natsSetting('sync_interval')).toBe('always');
  });

  it.runIf(hasCommand('nats-server'))('has a nats.conf that nats-server accepts', () => {
    const version = /v?(\d+)\.(\d+)/.exec(execFileSync('nats-server', ['--version'], { encoding: 'utf8' }))!;
    const dir = mkdtempSync(join(tmpdir(), 'steward-nats-conf-'));
    try {
      let conf = natsConf.replace(/store_dir:\s*\S+/, `store_dir: ${join(dir, 'js')}`);
      // A 2.9 server (the one on the development machines) does not know sync_interval yet.
      if (Number(version[1]) === 2 && Number(version[2]) < 10) conf = conf.replace(/^\s*sync_interval:.*$/m, '');
      writeFileSync(join(dir, 'nats.conf'), conf);
      expect(execFileSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has Prometheus scrape every service on its HTTP port and load the alert rules', () => {
    const prom = parse(read('infra/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path?: string; dns_sd_configs?: { names: string[]; type: string; port: number }[] }[];
    };
    for (const name of SERVICES) {
      const job = prom.scrape_configs.find((j) => j.job_name === name);
      const port = Number(env(svc(name)).HTTP_PORT ?? configDefaults(name).HTTP_PORT);
      expect(job?.dns_sd_configs, `scrape job ${name}`).toEqual([{ names: [name], type: 'A', port }]);
      expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    }
    const prometheusMounts = mounts(svc('prometheus'));
    for (const file of prom.rule_files) expect(prometheusMounts[file], `rule file ${file} is mounted`).toBeDefined();
    expect(prometheusMounts['/etc/prometheus/prometheus.yml']).toBe('../prometheus/prometheus.yml');
  });

  it('provisions Grafana with the Prometheus data source and the dashboard folder', () => {
    const grafanaMounts = mounts(svc('grafana'));
    expect(grafanaMounts['/etc/grafana/provisioning']).toBe('../grafana/provisioning');
    const datasources = parse(read('infra/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { type: string; url: string; uid: string }[] };
    const url = new URL(datasources.datasources[0]!.url);
    expect(datasources.datasources[0]!.type).toBe('prometheus');
    expect(services[url.hostname], 'the data source points at a compose service').toBeDefined();
    expect(svc('prometheus').ports?.[0]).toMatch(new RegExp(`:${url.port}$`));
    const providers = parse(read('infra/grafana/provisioning/dashboards/steward.yml')) as { providers: { options: { path: string } }[] };
    const dashboardsDir = providers.providers[0]!.options.path;
    expect(grafanaMounts[dashboardsDir]).toBe('../grafana/dashboards');
    expect(JSON.parse(readFileSync(join(ROOT, COMPOSE_DIR, grafanaMounts[dashboardsDir]!, 'steward.json'), 'utf8'))).toHaveProperty('panels');
  });

  it('binds the observability ports to loopback and keeps the data stores unpublished', () => {
    for (const name of ['prometheus', 'grafana']) for (const p of svc(name).ports ?? []) expect(p.startsWith('127.0.0.1:'), `${name} ${p}`).toBe(true);
    for (const name of ['nats', 'postgres', 'redis', 'migrate']) expect(svc(name).ports).toBeUndefined();
  });

  it('mounts paths inside the containers as absolute paths', () => {
    for (const s of Object.values(services)) for (const v of s.volumes ?? []) expect(posix.isAbsolute(v.split(':')[1]!)).toBe(true);
  });
});
