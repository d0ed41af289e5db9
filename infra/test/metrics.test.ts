// The metrics catalogue (docs/metrics.md) against the code, and the alert rules and the Grafana dashboard against
// the catalogue: a metric registered in code but missing from the catalogue fails here, as does an expression
// that uses a metric nobody exports.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Catalogue, Streams } from '@steward/contracts';
import { busMetrics } from '@steward/bus';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EscalationMetrics } from '../../apps/escalation/src/metrics.js';
import { httpRequestDuration } from '../../packages/service-kit/src/http.js';
import { TaskMetrics } from '../../apps/orchestrator/src/tasks/task-outcomes.js';
// prom-client as the services load it (it is a dependency of service-kit, not of the repository root).
import { collectDefaultMetrics, Registry } from '../../packages/service-kit/node_modules/prom-client/index.js';
import { catalogueTable, hasCommand, promqlMetricNames, read, ROOT, seriesNames, walk, type CatalogueRow, type MetricType } from './support.js';

const doc = read('docs/metrics.md');
const stewardRows = catalogueTable(doc, "Steward's metrics");
const defaultRows = catalogueTable(doc, 'Process and Node.js metrics (prom-client defaults)');
// Series Prometheus makes itself when it scrapes.
const PROMETHEUS_SERIES = new Set(['up']);
const known = new Set([...seriesNames(stewardRows), ...seriesNames(defaultRows), ...PROMETHEUS_SERIES]);

interface FoundMetric {
  name: string;
  /** Unknown for metric objects a service builds itself (the type is then read from the class name when it can be). */
  type?: MetricType;
  /** Unknown when the labels are only given at increment time. */
  labels?: string[];
  where: string;
}

/** The text between the parenthesis at `open` and its match (strings and template literals skipped). */
function callArguments(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced parentheses');
}

const METRIC_CLASS = /^(?:[\w$]+\.)?(Counter|Gauge|Histogram|Summary)(?:Metric)?$/;

/** Metrics registered in the services' and packages' source: prom-client constructors and the gateway's own metric objects. */
function scanSource(): { found: FoundMetric[]; unreadable: string[]; literals: Map<string, string> } {
  const found: FoundMetric[] = [];
  const unreadable: string[] = [];
  const literals = new Map<string, string>();
  const files = [...walk('apps', (p) => /^apps\/[^/]+\/src\//.test(p)), ...walk('packages', (p) => /^packages\/[^/]+\/src\//.test(p))].filter(
    (p) => p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts'),
  );
  for (const file of files) {
    const text = read(file);
    const lineOf = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`;
    for (const m of text.matchAll(/new\s+((?:[\w$]+\.)*[\w$]+)\s*(?:<[^>()]*>)?\s*\(/g)) {
      const cls = METRIC_CLASS.exec(m[1]!);
      if (!cls) continue;
      const args = callArguments(text, m.index + m[0].length - 1);
      const type = cls[1]!.toLowerCase() as MetricType;
      const objectName = /^\s*\{[\s\S]*?\bname:\s*(['"`])([A-Za-z_:][\w:]*)\1/.exec(args)?.[2];
      if (objectName) {
        const labelList = /\blabelNames:\s*\[([^\]]*)\]/.exec(args)?.[1];
        found.push({ name: objectName, type, labels: labelList === undefined ? [] : [...labelList.matchAll(/(['"`])(\w+)\1/g)].map((l) => l[2]!), where: lineOf(m.index) });
        continue;
      }
      const positional = [...args.matchAll(/(['"`])([A-Za-z_:][\w:]*)\1/g)].map((l) => l[2]!).find((s) => s.includes('_'));
      if (positional) found.push({ name: positional, type, where: lineOf(m.index) });
      else unreadable.push(lineOf(m.index));
    }
    for (const m of text.matchAll(/(['"`])(steward_[a-z0-9_]+)\1/g)) literals.set(m[2]!, lineOf(m.index));
  }
  return { found, unreadable, literals };
}

/** A registry stand-in that records what prom-client registers into it. */
function recordingRegistry(): { registry: Registry; metrics: { name: string; type: string; labels: string[] }[] } {
  const metrics: { name: string; type: string; labels: string[] }[] = [];
  const registry = {
    registerMetric(m: { name: string; labelNames?: string[]; constructor: { name: string } }) {
      metrics.push({ name: m.name, type: m.constructor.name.toLowerCase(), labels: [...(m.labelNames ?? [])] });
    },
    getSingleMetric: () => undefined,
  } as unknown as Registry;
  return { registry, metrics };
}

const byName = (rows: CatalogueRow[]) => new Map(rows.map((r) => [r.name, r]));

describe('metrics catalogue (docs/metrics.md)', () => {
  const { found, unreadable, literals } = scanSource();

  it('lists each metric once, with a type and labels it can hold', () => {
    const names = [...stewardRows, ...defaultRows].map((r) => r.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    for (const r of [...stewardRows, ...defaultRows]) {
      expect(['counter', 'gauge', 'histogram', 'summary'], r.name).toContain(r.type);
      expect(r.labels, `${r.name}: "service" is on every series, not listed per metric`).not.toContain('service');
      if (r.type === 'counter') expect(r.name, 'counters end in _total').toMatch(/_total$/);
    }
    expect(stewardRows.length).toBeGreaterThan(10);
  });

  it('can read the name of every metric the code creates', () => {
    expect(unreadable, 'metrics created with a computed name: give them a literal name').toEqual([]);
    // The scan must see what the bus registers (a broken scan would otherwise pass silently).
    for (const name of ['steward_events_processed_total', 'steward_consumer_lag', 'steward_outbox_backlog', 'steward_decisions_total']) expect(found.map((f) => f.name)).toContain(name);
  });

  it('has every metric registered in the code, with its type and labels', () => {
    const rows = byName(stewardRows);
    const missing = found.filter((f) => !rows.has(f.name)).map((f) => `${f.name} (${f.where})`);
    expect(missing, 'metrics registered in code but not in docs/metrics.md').toEqual([]);
    for (const f of found) {
      const row = rows.get(f.name)!;
      if (f.type) expect(row.type, `${f.name} (${f.where})`).toBe(f.type);
      if (f.labels) expect([...row.labels].sort(), `labels of ${f.name} (${f.where})`).toEqual([...f.labels].sort());
    }
  });

  it('mentions every steward_* name in the code as a metric', () => {
    const rows = byName(stewardRows);
    const unlisted = [...literals].filter(([name]) => !rows.has(name)).map(([name, where]) => `${name} (${where})`);
    expect(unlisted).toEqual([]);
  });

  it('lists no metric that the code does not register', () => {
    const inCode = new Set(found.map((f) => f.name));
    expect(stewardRows.filter((r) => !inCode.has(r.name)).map((r) => r.name)).toEqual([]);
  });

  it('matches what the bus, the HTTP server, the orchestrator and the escalation service register at run time', () => {
    const { registry, metrics } = recordingRegistry();
    busMetrics(registry);
    httpRequestDuration(registry);
    new EscalationMetrics(registry);
    new TaskMetrics(registry);
    const rows = byName(stewardRows);
    expect(metrics.length).toBeGreaterThan(5);
    for (const m of metrics) {
      expect(rows.get(m.name), m.name).toBeDefined();
      expect(rows.get(m.name)!.type, m.name).toBe(m.type);
      expect([...rows.get(m.name)!.labels].sort(), m.name).toEqual([...m.labels].sort());
    }
  });

  it('lists exactly the default metrics prom-client exports on this platform', () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const actual = registry
      .getMetricsAsArray()
      .map((m) => {
        const metric = m as unknown as { name: string; labelNames?: string[]; constructor: { name: string } };
        return { name: metric.name, type: metric.constructor.name.toLowerCase(), labels: [...(metric.labelNames ?? [])].sort() };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(defaultRows.map((r) => ({ ...r, labels: [...r.labels].sort() })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(actual);
  });

  it('names real consumers and streams where it gives examples', () => {
    expect(doc).toContain(Streams.commands.name);
    expect(doc).toContain(Catalogue['task.submitted.v1'].type);
  });
});

const Rule = z
  .object({
    alert: z.string().regex(/^Steward[A-Z][A-Za-z]+$/),
    expr: z.string().min(1),
    for: z.string().regex(/^\d+[smh]$/).optional(),
    labels: z.object({ severity: z.enum(['warning', 'critical']) }).strict(),
    annotations: z.object({ summary: z.string().min(1), description: z.string().min(1) }).strict(),
  })
  .strict();
const RuleFile = z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(Rule).min(1) }).strict()).min(1) }).strict();

describe('alert rules (infra/prometheus/alerts.yml)', () => {
  const rules = RuleFile.parse(parse(read('infra/prometheus/alerts.yml'))).groups.flatMap((g) => g.rules);
  const rule = (name: string) => {
    const r = rules.find((x) => x.alert === name);
    if (!r) throw new Error(`no alert ${name}`);
    return r.expr.replace(/\s+/g, ' ').trim();
  };

  it('uses only metrics in the catalogue', () => {
    for (const r of rules) {
      const names = [...promqlMetricNames(r.expr)];
      expect(names.length, `${r.alert} selects a metric`).toBeGreaterThan(0);
      expect(names.filter((n) => !known.has(n)), r.alert).toEqual([]);
    }
  });

  it('has unique alert names', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('covers the operating targets of the design with their thresholds', () => {
    expect(rule('StewardEscalationRateHigh')).toMatch(/steward_decisions_total\{outcome="escalated"\}.*\) > 0\.07/);
    expect(rule('StewardResponseLatencyHigh')).toMatch(/^histogram_quantile\(0\.95, .*steward_http_request_duration_seconds_bucket\{service="gateway", .*\) > 2$/);
    expect(rule('StewardTaskSuccessRateLow')).toMatch(/\) < 0\.99 and/);
    expect(rule('StewardMemoryHigh')).toMatch(/process_resident_memory_bytes.* > 2147483648$/);
  });

  it('covers consumer lag, dead letters and the outbox backlog', () => {
    expect(rule('StewardConsumerLagGrowing')).toMatch(/deriv\(steward_consumer_lag\[/);
    expect(rule('StewardDeadLetters')).toMatch(/increase\(steward_dead_letters_total\[\w+\]\)\) > 0/);
    expect(rule('StewardOutboxBacklog')).toMatch(/^max\(steward_outbox_backlog\) > \d+$/);
  });

  it('names task statuses and routes that exist', async () => {
    // The orchestrator exports every kind and status from its start.
    const registry = new Registry();
    new TaskMetrics(registry);
    const { values } = await registry.getSingleMetric('steward_tasks_finished_total')!.get();
    const statuses = new Set(values.map((v) => String(v.labels.status)));
    expect([...statuses].sort()).toEqual(['cancelled', 'completed', 'failed']);
    expect(rule('StewardTaskSuccessRateLow')).toMatch(/steward_tasks_finished_total\{status="completed"\}.*steward_tasks_finished_total\{status=~"completed\|failed"\}/);
    // Probes and scrapes left out of the response time are the routes service-kit serves.
    const http = read('packages/service-kit/src/http.ts');
    for (const route of ['healthz', 'readyz', 'metrics']) expect(http).toContain(`@Get('${route}')`);
    expect(rule('StewardResponseLatencyHigh')).toContain('route!~"/healthz|/readyz|/metrics"');
  });

  const promtool = process.env.PROMTOOL ?? 'promtool';
  it.runIf(hasCommand(promtool))('passes promtool check rules and the rule unit tests', () => {
    const dir = join(ROOT, 'infra/prometheus');
    expect(execFileSync(promtool, ['check', 'rules', 'alerts.yml'], { cwd: dir, encoding: 'utf8' })).toContain('SUCCESS');
    expect(execFileSync(promtool, ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' })).toContain('SUCCESS');
  });
});

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string }[];
}

describe('Grafana dashboard (infra/grafana/dashboards/steward.json)', () => {
  const dashboard = JSON.parse(read('infra/grafana/dashboards/steward.json')) as { uid: string; panels: Panel[]; templating: { list: { name: string; type: string; query: string }[] } };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('has panels with unique ids, each querying the templated Prometheus data source', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('uses only metrics in the catalogue', () => {
    for (const p of panels)
      for (const t of p.targets ?? []) {
        const names = [...promqlMetricNames(t.expr)];
        expect(names.length, `${p.title} selects a metric`).toBeGreaterThan(0);
        expect(names.filter((n) => !known.has(n)), p.title).toEqual([]);
      }
  });

  it('shows throughput, latency, escalation, lag, dead letters and the outbox', () => {
    const uses = (metric: string) => panels.filter((p) => (p.targets ?? []).some((t) => promqlMetricNames(t.expr).has(metric))).map((p) => p.title);
    expect(uses('steward_events_processed_total').join(' ')).toMatch(/per second/);
    expect(uses('steward_events_published_total').length).toBeGreaterThan(0);
    expect(uses('steward_handler_duration_seconds_bucket').join(' ')).toMatch(/p95/);
    expect(uses('steward_tasks_finished_total').join(' ')).toMatch(/Success rate/);
    expect(uses('steward_http_request_duration_seconds_bucket').join(' ')).toMatch(/response p95/);
    expect(uses('steward_decisions_total').join(' ')).toMatch(/Escalation rate/);
    expect(uses('steward_consumer_lag')).toContain('Consumer lag');
    expect(uses('steward_dead_letters_total').join(' ')).toMatch(/Dead letters/);
    expect(uses('steward_outbox_backlog').join(' ')).toMatch(/Outbox backlog/);
    expect(uses('process_resident_memory_bytes').length).toBeGreaterThan(0);
  });

  it('shows every Steward metric somewhere', () => {
    const shown = new Set(panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...promqlMetricNames(t.expr)])).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    expect(stewardRows.map((r) => r.name).filter((n) => !shown.has(n))).toEqual([]);
  });
});

describe('PromQL metric-name extraction', () => {
  it('finds selectors and leaves functions, labels, ranges and numbers out', () => {
    expect([...promqlMetricNames('histogram_quantile(0.95, sum by (le, consumer) (rate(steward_handler_duration_seconds_bucket{consumer!~"skill-worker.*"}[5m]))) > 2')]).toEqual(['steward_handler_duration_seconds_bucket']);
    expect([...promqlMetricNames('max(a_b) > 2e9 and on(x) b_c offset 5m unless up == 0')].sort()).toEqual(['a_b', 'b_c', 'up']);
    expect([...promqlMetricNames('sum(rate(x_total[$__rate_interval])) * 60')]).toEqual(['x_total']);
  });
});
