// infra/docker/Dockerfile and .dockerignore checked statically (no Docker engine here): pinned Node base that
// satisfies the repository's engines, one image per service from its own production dependencies, non-root,
// a HEALTHCHECK on /healthz, and a build context that holds what the build reads and nothing it makes itself.
import { describe, expect, it } from 'vitest';
import { configDefaults, read, SERVICES } from './support.js';

const dockerfile = read('infra/docker/Dockerfile');
// Continuation lines joined, comments dropped: one instruction per entry.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

interface Stage {
  name: string;
  from: string;
  lines: string[];
}
const stages: Stage[] = [];
for (const line of instructions) {
  const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
  if (from) stages.push({ from: from[1]!, name: from[2] ?? String(stages.length), lines: [] });
  else stages.at(-1)?.lines.push(line);
}
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage ${name}`);
  return s;
};
const globalArg = (name: string): string | undefined => instructions.find((l) => l.startsWith(`ARG ${name}=`))?.split('=')[1];
const rootPackage = JSON.parse(read('package.json')) as { engines: { node: string }; packageManager: string };

describe('Dockerfile', () => {
  it('pins a slim Node base that satisfies the engines field', () => {
    const version = globalArg('NODE_VERSION');
    expect(version, 'ARG NODE_VERSION=<major.minor.patch>').toMatch(/^\d+\.\d+\.\d+$/);
    const [major, minor] = version!.split('.').map(Number) as [number, number];
    const [, minMajor, minMinor] = /^>=(\d+)\.(\d+)/.exec(rootPackage.engines.node)!.map(Number) as [number, number, number];
    expect(major > minMajor || (major === minMajor && minor >= minMinor), `node ${version} satisfies ${rootPackage.engines.node}`).toBe(true);
    expect(globalArg('DEBIAN_RELEASE')).toMatch(/^[a-z]+$/);
    for (const s of stages) if (s.from.startsWith('node:')) expect(s.from).toBe('node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim');
  });

  it('installs the pnpm version of packageManager and the workspace from the lockfile', () => {
    expect(`pnpm@${stage('toolchain').lines.find((l) => l.startsWith('ARG PNPM_VERSION='))?.split('=')[1]}`).toBe(rootPackage.packageManager);
    const deps = stage('deps').lines.join('\n');
    expect(deps).toContain('pnpm install --frozen-lockfile --offline');
    expect(deps).toContain('pnpm --filter @steward/state run generate');
  });

  it('builds any one service (and only the services) with its production dependencies', () => {
    const build = stage('build-service').lines.join('\n');
    const allowed = /case "\$\{SERVICE\}" in\s+([a-z|-]+)\)/.exec(build)?.[1]?.split('|');
    expect(allowed?.sort()).toEqual(SERVICES);
    expect(build).toContain('pnpm --filter "@steward/${SERVICE}..." run build');
    expect(build).toContain('pnpm --filter "@steward/${SERVICE}" deploy --legacy --prod');
  });

  it('runs the service as a non-root user, with tini, node dist/main.js and a HEALTHCHECK', () => {
    const service = stages.at(-1)!;
    expect(service.name, 'the service image is the default (last) target').toBe('service');
    expect(service.lines).toContain('USER 1000:1000');
    expect(service.lines).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(service.lines).toContain('CMD ["node", "dist/main.js"]');
    for (const name of SERVICES) expect((JSON.parse(read(`apps/${name}/package.json`)) as { scripts: { start: string } }).scripts.start).toBe('node dist/main.js');
    const healthcheck = service.lines.find((l) => l.startsWith('HEALTHCHECK'));
    expect(healthcheck).toMatch(/CMD \["node", "\/usr\/local\/lib\/steward\/healthcheck\.mjs"\]$/);
    expect(service.lines).toContain('COPY infra/docker/healthcheck.mjs /usr/local/lib/steward/healthcheck.mjs');
    expect(service.lines.join('\n')).toMatch(/ENV NODE_ENV=production\s+HTTP_HOST=0\.0\.0\.0\s+STEWARD_SERVICE=\$\{SERVICE\}/);
  });

  it('has a migrate target that runs the migration CLI as a non-root user', () => {
    const migrate = stage('migrate');
    expect(migrate.lines).toContain('USER 1000:1000');
    expect(migrate.lines).toContain('CMD ["node", "dist/cli/migrate.js"]');
    expect(read('packages/state/tsconfig.build.json')).toContain('"rootDir": "src"');
    expect(read('packages/state/src/cli/migrate.ts')).toContain('applyMigrations');
    expect(stage('build-migrate').lines.join('\n')).toContain('pnpm --filter @steward/state deploy --legacy --prod');
  });

  it('has a healthcheck script that knows each service default port', () => {
    const script = read('infra/docker/healthcheck.mjs');
    const ports = JSON.parse(/DEFAULT_PORTS = (\{[^}]*\})/.exec(script)![1]!.replace(/'/g, '"').replace(/([{,]\s*)([a-z]+):/g, '$1"$2":')) as Record<string, number>;
    expect(ports).toEqual(Object.fromEntries(SERVICES.map((s) => [s, configDefaults(s).HTTP_PORT])));
    expect(script).toContain('/healthz');
  });
});

/** Docker's .dockerignore semantics: later patterns win, `!` re-includes, a match on a folder covers its content. */
function ignored(patterns: string[], path: string): boolean {
  const segment = (part: string) =>
    part
      .split('**')
      .map((seg) => seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
      .join('.*');
  const toRegex = (p: string) => new RegExp(`^${p.replace(/^\//, '').split('**/').map(segment).join('(?:.*/)?')}(?:/.*)?$`);
  let out = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = toRegex(negate ? raw.slice(1) : raw);
    if (re.test(path)) out = !negate;
  }
  return out;
}

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps out what the build makes itself, the history and the secrets', () => {
    for (const path of ['node_modules', 'apps/gateway/node_modules/x', 'packages/state/dist/index.js', 'packages/state/src/generated/prisma/client.ts', '.git/HEAD', '.env', 'apps/gateway/src/tasks/tasks.int.test.ts'])
      expect(ignored(patterns, path), path).toBe(true);
  });

  it('keeps in what the build reads', () => {
    const needed = [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      '.npmrc',
      'tsconfig.base.json',
      'infra/docker/healthcheck.mjs',
      'packages/state/prisma/schema.prisma',
      'packages/state/prisma/migrations/20261125031948_init/migration.sql',
      'packages/state/scripts/no-schema-engine.sh',
      'apps/workflow-runner/workflows/demo.shout.yaml',
      'apps/skill-worker/skills/release-notes/SKILL.md',
      ...SERVICES.flatMap((s) => [`apps/${s}/package.json`, `apps/${s}/tsconfig.build.json`, `apps/${s}/src/main.ts`]),
    ];
    for (const path of needed) expect(ignored(patterns, path), path).toBe(false);
  });
});
