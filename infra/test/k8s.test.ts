// infra/k8s rendered with `kubectl kustomize` for every overlay; every built-in object validated against the
// Kubernetes schemas (kubernetes-models), the CRDs (KEDA, CloudNativePG) against zod schemas of the fields used,
// and the properties the deployment relies on checked across objects: probes, limits, disruption budgets,
// drain time, variables against the services' config schemas, references, network isolation, NATS, scaling.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Streams } from '@steward/contracts';
import * as appsV1 from 'kubernetes-models/apps/v1';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import type { IIngress, INetworkPolicy, INetworkPolicyIngressRule } from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import type { IConfigMap, IContainer, IPodTemplateSpec, ISecret, IService } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allowedVariables, configSchema, directEnvReads, hasCommand, requiredVariables, ROOT, selects, SERVICES } from './support.js';

const KUBECTL = hasCommand('kubectl', ['version', '--client']);
const NATS_SERVER = hasCommand('nats-server');
const OVERLAYS = ['dev', 'prod'] as const;
type Overlay = (typeof OVERLAYS)[number];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

function render(overlay: Overlay): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(ROOT, 'infra/k8s/overlays', overlay)], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

// ── schemas ────────────────────────────────────────────────────────────────────────────────────────────────
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'batch/v1': batchV1,
  'policy/v1': policyV1,
  'networking.k8s.io/v1': networkingV1,
  'autoscaling/v2': autoscalingV2,
};
const isBuiltIn = (apiVersion: string) => !apiVersion.includes('/') || !apiVersion.split('/')[0]!.includes('.') || apiVersion.split('/')[0]!.endsWith('.k8s.io');

function validateBuiltIn(o: K8sObject): void {
  const group = MODELS[o.apiVersion];
  if (!group) throw new Error(`${o.kind}/${o.metadata.name}: no kubernetes-models module for ${o.apiVersion} in this test`);
  const Model = group[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (typeof Model !== 'function') throw new Error(`${o.kind} is not a kind of ${o.apiVersion}`);
  // kustomize wraps a Secret's long base64 values over lines, which the API server's decoder skips.
  const data = o.kind === 'Secret' ? (o.data as Record<string, string> | undefined) : undefined;
  new Model(data ? { ...o, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) } : o).validate();
}

const Metadata = z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), namespace: z.string(), labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() }).strict();
const Quantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|m)?$/);
const SecretKey = z.object({ name: z.string(), key: z.string() }).strict();
const ScaledObject = z
  .object({
    apiVersion: z.literal('keda.sh/v1alpha1'),
    kind: z.literal('ScaledObject'),
    metadata: Metadata,
    spec: z
      .object({
        scaleTargetRef: z.object({ name: z.string(), kind: z.literal('Deployment').optional(), apiVersion: z.literal('apps/v1').optional() }).strict(),
        minReplicaCount: z.number().int().min(0),
        maxReplicaCount: z.number().int().min(1),
        pollingInterval: z.number().int().positive(),
        cooldownPeriod: z.number().int().positive(),
        // Checked as a HorizontalPodAutoscaler's behavior below.
        advanced: z.object({ horizontalPodAutoscalerConfig: z.object({ behavior: z.record(z.string(), z.unknown()) }).strict() }).strict().optional(),
        triggers: z
          .array(
            z
              .object({
                type: z.literal('nats-jetstream'),
                metadata: z
                  .object({
                    natsServerMonitoringEndpoint: z.string().regex(/^[a-z0-9.-]+:\d+$/),
                    account: z.string().min(1),
                    stream: z.string().min(1),
                    consumer: z.string().min(1),
                    // KEDA reads trigger metadata as strings only.
                    lagThreshold: z.string().regex(/^\d+$/),
                    activationLagThreshold: z.string().regex(/^\d+$/).optional(),
                    useHttps: z.enum(['true', 'false']).optional(),
                  })
                  .strict(),
              })
              .strict(),
          )
          .min(1),
      })
      .strict()
      .refine((s) => s.minReplicaCount <= s.maxReplicaCount, 'minReplicaCount <= maxReplicaCount'),
  })
  .strict();
const CnpgCluster = z
  .object({
    apiVersion: z.literal('postgresql.cnpg.io/v1'),
    kind: z.literal('Cluster'),
    metadata: Metadata,
    spec: z
      .object({
        instances: z.number().int().min(1),
        imageName: z.string().regex(/^[\w./-]+:\d+(\.\d+)*$/),
        primaryUpdateStrategy: z.enum(['unsupervised', 'supervised']),
        bootstrap: z.object({ initdb: z.object({ database: z.string(), owner: z.string() }).strict() }).strict(),
        postgresql: z
          .object({
            // CloudNativePG takes every parameter as a string.
            parameters: z.record(z.string(), z.string()),
            synchronous: z.object({ method: z.enum(['any', 'first']), number: z.number().int().min(1) }).strict().optional(),
          })
          .strict(),
        storage: z.object({ size: Quantity }).strict(),
        walStorage: z.object({ size: Quantity }).strict().optional(),
        affinity: z.object({ enablePodAntiAffinity: z.boolean(), topologyKey: z.string(), podAntiAffinityType: z.enum(['preferred', 'required']) }).strict(),
        resources: z.object({ requests: z.record(z.string(), Quantity), limits: z.record(z.string(), Quantity) }).strict(),
        backup: z
          .object({
            retentionPolicy: z.string().regex(/^\d+[dwm]$/),
            barmanObjectStore: z
              .object({
                destinationPath: z.string().regex(/^(s3|gs|https?):\/\//),
                s3Credentials: z.object({ accessKeyId: SecretKey, secretAccessKey: SecretKey }).strict(),
                wal: z.object({ compression: z.enum(['gzip', 'bzip2', 'snappy']) }).strict(),
                data: z.object({ compression: z.enum(['gzip', 'bzip2', 'snappy']) }).strict(),
              })
              .strict(),
          })
          .strict(),
      })
      .strict()
      .refine((s) => (s.postgresql.synchronous?.number ?? 0) < s.instances, 'fewer synchronous standbys than instances'),
  })
  .strict();
const ScheduledBackup = z
  .object({
    apiVersion: z.literal('postgresql.cnpg.io/v1'),
    kind: z.literal('ScheduledBackup'),
    metadata: Metadata,
    spec: z
      .object({
        // Six fields, seconds first.
        schedule: z.string().regex(/^(\S+\s){5}\S+$/),
        immediate: z.boolean().optional(),
        backupOwnerReference: z.enum(['none', 'self', 'cluster']),
        method: z.enum(['barmanObjectStore', 'volumeSnapshot', 'plugin']),
        cluster: z.object({ name: z.string() }).strict(),
      })
      .strict(),
  })
  .strict();
const CRDS: Record<string, z.ZodType> = { 'keda.sh/v1alpha1/ScaledObject': ScaledObject, 'postgresql.cnpg.io/v1/Cluster': CnpgCluster, 'postgresql.cnpg.io/v1/ScheduledBackup': ScheduledBackup };

// ── helpers over the rendered objects ───────────────────────────────────────────────────────────────────────
const EXTERNAL_VALUES: Record<string, string> = {
  // What a Secret created outside the manifests holds, for parsing the environment with the config schema.
  DATABASE_URL: 'postgresql://steward:secret@steward-db-rw:5432/steward',
  ANTHROPIC_API_KEY: 'sk-ant-placeholder',
};

class Rendered {
  constructor(
    readonly overlay: Overlay,
    readonly objects: K8sObject[],
  ) {}
  all<T>(kind: string): (T & K8sObject)[] {
    return this.objects.filter((o) => o.kind === kind) as (T & K8sObject)[];
  }
  one<T>(kind: string, name: string): T & K8sObject {
    const o = this.objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`${this.overlay}: no ${kind} ${name}`);
    return o as T & K8sObject;
  }
  find<T>(kind: string, name: string): (T & K8sObject) | undefined {
    return this.objects.find((x) => x.kind === kind && x.metadata.name === name) as (T & K8sObject) | undefined;
  }
  /** Pod templates of the workloads, by workload. */
  workloads(): { kind: string; name: string; template: IPodTemplateSpec; replicas: number }[] {
    return [
      ...this.all<IDeployment>('Deployment').map((d) => ({ kind: 'Deployment', name: d.metadata.name, template: d.spec!.template, replicas: d.spec!.replicas ?? 1 })),
      ...this.all<IStatefulSet>('StatefulSet').map((s) => ({ kind: 'StatefulSet', name: s.metadata.name, template: s.spec!.template, replicas: s.spec!.replicas ?? 1 })),
      ...this.all<IJob>('Job').map((j) => ({ kind: 'Job', name: j.metadata.name, template: j.spec!.template, replicas: 1 })),
    ];
  }
  /** A container's environment as the kubelet builds it; values of Secrets not in the manifests are stand-ins. */
  env(c: IContainer): { vars: Record<string, string>; externalSecrets: string[] } {
    const vars: Record<string, string> = {};
    const externalSecrets: string[] = [];
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) Object.assign(vars, this.one<IConfigMap>('ConfigMap', from.configMapRef.name!).data ?? {});
      if (from.secretRef) throw new Error('envFrom a Secret: its keys cannot be checked');
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) vars[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const secret = this.find<ISecret>('Secret', ref.name!);
        if (secret) {
          const data = secret.data?.[ref.key];
          if (data === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
          vars[e.name] = Buffer.from(data, 'base64').toString('utf8');
        } else {
          externalSecrets.push(ref.name!);
          if (!ref.optional) {
            const standIn = EXTERNAL_VALUES[e.name];
            if (standIn === undefined) throw new Error(`${e.name} comes from Secret ${ref.name}, not in the manifests: give it a stand-in value in EXTERNAL_VALUES`);
            vars[e.name] = standIn;
          }
        }
      } else if (e.valueFrom?.configMapKeyRef) {
        const ref = e.valueFrom.configMapKeyRef;
        vars[e.name] = this.one<IConfigMap>('ConfigMap', ref.name!).data?.[ref.key] ?? '';
      } else if (e.valueFrom?.fieldRef) vars[e.name] = 'field';
    }
    return { vars, externalSecrets };
  }
  policiesSelecting(labels: Record<string, string>): INetworkPolicy[] {
    return this.all<INetworkPolicy>('NetworkPolicy').filter((p) => (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') && selects(p.spec?.podSelector ?? {}, labels));
  }
  /** Whether NetworkPolicies let pods with `source` labels (same namespace) reach pods with `target` labels on a port. */
  allows(source: Record<string, string>, target: Record<string, string>, port: number): boolean {
    const policies = this.policiesSelecting(target);
    if (policies.length === 0) return true;
    return policies.some((p) =>
      (p.spec?.ingress ?? []).some(
        (rule) =>
          (rule.ports === undefined || rule.ports.some((rp) => rp.port === port)) &&
          (rule.from === undefined || rule.from.some((peer) => peer.namespaceSelector === undefined && peer.podSelector !== undefined && peer.ipBlock === undefined && selects(peer.podSelector, source))),
      ),
    );
  }
}

/** An ingress rule that admits traffic from outside the cluster (or from any namespace). */
const admitsOutside = (rule: INetworkPolicyIngressRule): boolean =>
  rule.from === undefined ||
  rule.from.length === 0 ||
  rule.from.some((peer) => peer.ipBlock !== undefined || (peer.namespaceSelector !== undefined && Object.keys(peer.namespaceSelector).length === 0));

const templateLabels = (t: IPodTemplateSpec): Record<string, string> => t.metadata?.labels ?? {};
const appContainer = (t: IPodTemplateSpec): IContainer => t.spec!.containers[0]!;
const preStopSeconds = (c: IContainer): number => {
  const cmd = c.lifecycle?.preStop?.exec?.command;
  if (cmd?.[0] === 'sleep') return Number(cmd[1]);
  return c.lifecycle?.preStop?.sleep?.seconds ?? 0;
};

// ── tests ──────────────────────────────────────────────────────────────────────────────────────────────────
describe.skipIf(!KUBECTL)('Kubernetes manifests (kubectl kustomize)', () => {
  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    let r: Rendered;
    beforeAll(() => {
      r = new Rendered(overlay, render(overlay));
    });
    const namespace = overlay === 'prod' ? 'steward' : 'steward-dev';

    it('renders only objects that validate: built-in kinds against the Kubernetes schemas, CRDs against theirs', () => {
      expect(r.objects.length).toBeGreaterThan(30);
      for (const o of r.objects) {
        if (isBuiltIn(o.apiVersion)) expect(() => validateBuiltIn(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
        else {
          const schema = CRDS[`${o.apiVersion}/${o.kind}`];
          expect(schema, `a schema for ${o.apiVersion} ${o.kind}`).toBeDefined();
          const parsed = schema!.safeParse(o);
          expect(parsed.error?.issues ?? [], `${o.kind}/${o.metadata.name}`).toEqual([]);
        }
      }
      const keys = r.objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i), 'duplicate objects').toEqual([]);
    });

    it(`puts everything in the namespace ${namespace}`, () => {
      expect(r.one('Namespace', namespace)).toBeDefined();
      for (const o of r.objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
    });

    it('gives every Deployment and StatefulSet readiness and liveness probes, requests and limits, and a disruption budget that allows evictions', () => {
      for (const w of r.workloads()) {
        for (const c of w.template.spec!.containers) {
          const where = `${w.kind}/${w.name} ${c.name}`;
          if (w.kind !== 'Job') {
            expect(c.readinessProbe, `${where} readinessProbe`).toBeDefined();
            expect(c.livenessProbe, `${where} livenessProbe`).toBeDefined();
          }
          for (const k of ['cpu', 'memory']) {
            expect(c.resources?.requests?.[k], `${where} requests.${k}`).toBeDefined();
            expect(c.resources?.limits?.[k], `${where} limits.${k}`).toBeDefined();
          }
          expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
          expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
          expect(c.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
        }
        expect(w.template.spec!.securityContext?.runAsNonRoot, `${w.kind}/${w.name} runs as non-root`).toBe(true);
        if (w.kind === 'Job') continue;
        const pdbs = r.all<IPodDisruptionBudget>('PodDisruptionBudget').filter((p) => selects(p.spec?.selector, templateLabels(w.template)));
        if (w.kind === 'StatefulSet' && w.name === 'postgres') continue; // one development database: no budget to keep
        expect(pdbs.length, `${w.kind}/${w.name} has one PodDisruptionBudget`).toBe(1);
        const spec = pdbs[0]!.spec!;
        if (spec.maxUnavailable !== undefined) expect(Number(spec.maxUnavailable), `${w.name} PDB`).toBeGreaterThanOrEqual(1);
        else expect(Number(spec.minAvailable), `${w.name} PDB`).toBeLessThan(w.replicas);
      }
    });

    describe.each(SERVICES)('%s', (service) => {
      const deployment = () => r.one<IDeployment>('Deployment', service);
      const container = () => appContainer(deployment().spec!.template);

      it('probes /readyz for readiness and /healthz for liveness on its HTTP port', () => {
        const c = container();
        const { vars } = r.env(c);
        const port = c.ports?.find((p) => p.name === 'http');
        expect(String(port?.containerPort)).toBe(vars.HTTP_PORT);
        expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
        expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
        expect(deployment().spec!.template.metadata?.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': vars.HTTP_PORT, 'prometheus.io/path': '/metrics' });
      });

      it('gets only variables it reads, every required one, with values its config schema accepts', () => {
        const { vars } = r.env(container());
        const allowed = allowedVariables(service);
        expect(Object.keys(vars).filter((v) => !allowed.has(v)), 'variables the service does not read').toEqual([]);
        expect(requiredVariables(configSchema(service)).filter((v) => !(v in vars))).toEqual([]);
        expect(configSchema(service).safeParse(vars).error?.issues ?? []).toEqual([]);
        expect(vars).toMatchObject({ NODE_ENV: 'production', HTTP_HOST: '0.0.0.0' });
        const nats = new URL(vars.NATS_URL!);
        const natsService = r.one<IService>('Service', nats.hostname);
        expect(natsService.spec!.ports!.map((p) => String(p.port))).toContain(nats.port);
      });

      it('has longer to terminate than its drain takes', () => {
        const c = container();
        const shutdownMs = Number(r.env(c).vars.SHUTDOWN_TIMEOUT_MS ?? 25_000);
        const grace = deployment().spec!.template.spec!.terminationGracePeriodSeconds ?? 30;
        expect(grace).toBeGreaterThanOrEqual(Math.ceil(shutdownMs / 1000) + preStopSeconds(c) + 5);
      });

      it('runs its own image, with a writable /tmp only', () => {
        const c = container();
        expect(c.image).toMatch(new RegExp(`(^|/)steward/${service}:[\\w.-]+$`));
        if (overlay === 'prod') expect(c.image).toMatch(/:\d+\.\d+\.\d+$/);
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(deployment().spec!.template.spec!.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      });

      it('can reach NATS and PostgreSQL through the network policies', () => {
        const labels = templateLabels(deployment().spec!.template);
        expect(r.allows(labels, templateLabels(r.one<IStatefulSet>('StatefulSet', 'nats').spec!.template), 4222)).toBe(true);
        expect(r.allows(labels, databasePodLabels(r), 5432)).toBe(true);
        if (service === 'gateway') expect(r.allows(labels, templateLabels(r.one<IDeployment>('Deployment', 'redis').spec!.template), 6379)).toBe(true);
      });
    });

    it('runs the migration as a Job of the migrate image with only the variables the migration reads', () => {
      const job = r.one<IJob>('Job', 'steward-migrate');
      const c = appContainer(job.spec!.template);
      expect(c.image).toMatch(/(^|\/)steward\/migrate:[\w.-]+$/);
      const { vars } = r.env(c);
      const allowed = directEnvReads(['packages/state/src/cli']);
      expect(Object.keys(vars).filter((v) => !allowed.has(v))).toEqual([]);
      expect(new URL(vars.DATABASE_URL!).protocol).toBe('postgresql:');
      expect(vars.DATABASE_URL).toBe(r.env(appContainer(r.one<IDeployment>('Deployment', 'gateway').spec!.template)).vars.DATABASE_URL);
      expect(r.allows(templateLabels(job.spec!.template), databasePodLabels(r), 5432)).toBe(true);
      expect(job.spec!.template.spec!.restartPolicy).toBe('OnFailure');
    });

    it('lets only the gateway be reached from outside, behind a default deny', () => {
      const policies = r.all<INetworkPolicy>('NetworkPolicy');
      expect(policies.some((p) => Object.keys(p.spec!.podSelector ?? {}).length === 0 && p.spec!.policyTypes?.includes('Ingress') && (p.spec!.ingress ?? []).length === 0), 'default deny').toBe(true);
      const pods = [...r.workloads().map((w) => ({ name: w.name, labels: templateLabels(w.template) })), ...r.all<z.infer<typeof CnpgCluster>>('Cluster').map((c) => ({ name: c.metadata.name, labels: { 'cnpg.io/cluster': c.metadata.name } }))];
      const open = pods.filter((p) => r.policiesSelecting(p.labels).some((policy) => (policy.spec!.ingress ?? []).some(admitsOutside))).map((p) => p.name);
      expect(open).toEqual(['gateway']);
      const gatewayPort = appContainer(r.one<IDeployment>('Deployment', 'gateway').spec!.template).ports![0]!.containerPort;
      const publicRules = r.policiesSelecting(templateLabels(r.one<IDeployment>('Deployment', 'gateway').spec!.template)).flatMap((p) => (p.spec!.ingress ?? []).filter(admitsOutside));
      for (const rule of publicRules) expect(rule.ports?.map((p) => p.port)).toEqual([gatewayPort]);
    });

    it('routes the Ingress to the gateway Service only, and every Service to pods that have its port', () => {
      const ingress = r.one<IIngress>('Ingress', 'gateway');
      const backends = (ingress.spec!.rules ?? []).flatMap((rule) => rule.http!.paths.map((p) => p.backend.service!));
      expect(backends.map((b) => b.name)).toEqual(['gateway']);
      expect(r.one<IService>('Service', 'gateway').spec!.ports!.map((p) => p.name)).toContain(backends[0]!.port!.name);
      if (overlay === 'prod') expect(ingress.spec!.tls?.[0]?.secretName).toBeDefined();
      for (const svc of r.all<IService>('Service')) {
        const targets = r.workloads().filter((w) => selects({ matchLabels: svc.spec!.selector ?? {} }, templateLabels(w.template)));
        expect(targets.length, `Service ${svc.metadata.name} selects pods`).toBeGreaterThan(0);
        const ports = targets.flatMap((w) => w.template.spec!.containers.flatMap((c) => c.ports ?? []));
        for (const p of svc.spec!.ports ?? [])
          if (typeof p.targetPort === 'string') expect(ports.map((cp) => cp.name), `Service ${svc.metadata.name} port ${p.targetPort}`).toContain(p.targetPort);
      }
    });

    it('references only ConfigMaps and Secrets that exist, or Secrets made outside the manifests on purpose', () => {
      const outside = new Set(overlay === 'prod' ? ['steward-llm', ...r.all<z.infer<typeof CnpgCluster>>('Cluster').map((c) => `${c.metadata.name}-app`)] : ['steward-llm']);
      for (const w of r.workloads())
        for (const c of w.template.spec!.containers) {
          const { externalSecrets } = r.env(c);
          expect(externalSecrets.filter((s) => !outside.has(s)), `${w.name}: Secrets nobody creates`).toEqual([]);
        }
      for (const w of r.workloads()) for (const v of w.template.spec!.volumes ?? []) if (v.configMap) expect(r.find('ConfigMap', v.configMap.name!), `${w.name} volume ${v.name}`).toBeDefined();
    });

    it('leaves the replica count of the autoscaled skill-worker to its autoscaler', () => {
      const targets = [
        ...r.all<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler').map((h) => h.spec?.scaleTargetRef.name),
        ...r.all<z.infer<typeof ScaledObject>>('ScaledObject').map((o) => o.spec.scaleTargetRef.name),
      ];
      expect(targets).toEqual(['skill-worker']);
      expect(r.one<IDeployment>('Deployment', 'skill-worker').spec!.replicas).toBeUndefined();
    });

    it('runs NATS as a three-server JetStream cluster whose routes and names follow the StatefulSet', () => {
      const nats = r.one<IStatefulSet>('StatefulSet', 'nats');
      expect(nats.spec!.replicas).toBe(3);
      const headless = r.one<IService>('Service', nats.spec!.serviceName!);
      expect(headless.spec!.clusterIP).toBe('None');
      const c = appContainer(nats.spec!.template);
      expect(c.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      const config = natsConfig(r);
      expect(config['nats.conf']).toMatch(/^server_name: \$POD_NAME$/m);
      expect(config['nats.conf']).toMatch(/jetstream \{[^}]*store_dir: \/data\/jetstream[^}]*include \.\/durability\.conf/);
      const routes = [...config['nats.conf']!.matchAll(/nats:\/\/([a-z0-9-]+)\.([a-z0-9-]+):6222/g)];
      expect(routes.map((m) => m[1])).toEqual([0, 1, 2].map((i) => `nats-${i}`));
      for (const m of routes) expect(m[2]).toBe(headless.metadata.name);
      expect(c.volumeMounts?.find((v) => v.name === 'data')?.mountPath).toBe('/data');
      expect(r.allows(templateLabels(nats.spec!.template), templateLabels(nats.spec!.template), 6222)).toBe(true);
    });

    it('gives the streams one replica per NATS server in prod, and never more replicas than servers', () => {
      const servers = r.one<IStatefulSet>('StatefulSet', 'nats').spec!.replicas!;
      // Every service provisions the streams at start-up: they must all ask for the same count.
      const counts = SERVICES.map((service) => configSchema(service).parse(r.env(appContainer(r.one<IDeployment>('Deployment', service).spec!.template)).vars).NATS_STREAM_REPLICAS as number);
      expect(new Set(counts).size, `NATS_STREAM_REPLICAS of ${SERVICES.join(', ')}: ${counts.join(', ')}`).toBe(1);
      expect(counts[0]).toBeLessThanOrEqual(servers);
      expect(counts[0]).toBe(overlay === 'prod' ? 3 : 1);
    });

    it.runIf(NATS_SERVER)('has a NATS configuration nats-server accepts', () => {
      const config = natsConfig(r);
      const version = /v?(\d+)\.(\d+)/.exec(execFileSync('nats-server', ['--version'], { encoding: 'utf8' }))!;
      const dir = mkdtempSync(join(tmpdir(), 'steward-k8s-nats-'));
      try {
        writeFileSync(join(dir, 'nats.conf'), config['nats.conf']!.replace('/data/jetstream', join(dir, 'js')).replace('/var/run/nats/nats.pid', join(dir, 'nats.pid')));
        let durability = config['durability.conf']!;
        // The development machines run NATS 2.9, which predates sync_interval.
        if (Number(version[1]) === 2 && Number(version[2]) < 10) durability = durability.replace(/^\s*sync_interval:.*$/m, '');
        writeFileSync(join(dir, 'durability.conf'), durability);
        execFileSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], { env: { ...process.env, POD_NAME: 'nats-0' }, stdio: ['ignore', 'pipe', 'pipe'] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    if (overlay === 'prod') {
      it('makes NATS fsync every write (sync_interval: always, NATS >= 2.10)', () => {
        expect(natsConfig(r)['durability.conf']).toMatch(/^sync_interval: always$/m);
        const image = appContainer(r.one<IStatefulSet>('StatefulSet', 'nats').spec!.template).image!;
        const [major, minor] = /:(\d+)\.(\d+)\./.exec(image)!.slice(1).map(Number) as [number, number];
        expect(major > 2 || minor >= 10, `${image} supports sync_interval`).toBe(true);
      });

      it('scales the skill-worker with KEDA on its JetStream consumer lag, and with no other autoscaler', () => {
        const scaled = ScaledObject.parse(r.one('ScaledObject', 'skill-worker'));
        const deployment = r.one<IDeployment>('Deployment', scaled.spec.scaleTargetRef.name);
        expect(deployment.metadata.name).toBe('skill-worker');
        const trigger = scaled.spec.triggers[0]!.metadata;
        // The consumer of the "*" pool on the commands stream (apps/skill-worker/src/skill-worker.module.ts).
        expect(trigger.stream).toBe(Streams.commands.name);
        expect(trigger.consumer).toBe('skill-worker');
        expect(r.env(appContainer(deployment.spec!.template)).vars.SKILL_CATEGORIES).toBe('*');
        const [host, port] = trigger.natsServerMonitoringEndpoint.split(':') as [string, string];
        const nats = r.one<IStatefulSet>('StatefulSet', 'nats');
        expect(host).toBe(`${nats.spec!.serviceName}.${namespace}.svc.cluster.local`);
        expect(r.one<IService>('Service', nats.spec!.serviceName!).spec!.ports!.map((p) => String(p.port))).toContain(port);
        const monitorAllowed = r
          .policiesSelecting(templateLabels(nats.spec!.template))
          .flatMap((p) => p.spec!.ingress ?? [])
          .some((rule) => rule.ports?.some((p) => String(p.port) === port) && rule.from?.some((peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'keda'));
        expect(monitorAllowed, 'KEDA may read the NATS monitoring port').toBe(true);
        expect(() => validateBuiltIn({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'behavior-check' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 1, behavior: scaled.spec.advanced?.horizontalPodAutoscalerConfig.behavior } })).not.toThrow();
        expect(r.all<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler').filter((h) => h.spec?.scaleTargetRef.name === 'skill-worker')).toEqual([]);
      });

      it('runs PostgreSQL with CloudNativePG, backed up on a schedule, and points DATABASE_URL at its app Secret', () => {
        const clusters = r.all<z.infer<typeof CnpgCluster>>('Cluster');
        expect(clusters).toHaveLength(1);
        const cluster = clusters[0]!;
        expect(cluster.spec.instances).toBeGreaterThanOrEqual(3);
        const backups = r.all<z.infer<typeof ScheduledBackup>>('ScheduledBackup');
        expect(backups.map((b) => b.spec.cluster.name)).toEqual([cluster.metadata.name]);
        expect(backups[0]!.spec.method).toBe('barmanObjectStore');
        for (const w of r.workloads().filter((x) => [...SERVICES, 'steward-migrate'].includes(x.name))) {
          const ref = appContainer(w.template).env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
          expect(ref, w.name).toEqual({ name: `${cluster.metadata.name}-app`, key: 'uri' });
        }
        expect(cluster.spec.bootstrap.initdb.database).toBe('steward');
      });
    }

    if (overlay === 'dev') {
      it('scales the skill-worker with a HorizontalPodAutoscaler (no KEDA needed)', () => {
        const hpa = r.one<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler', 'skill-worker');
        expect(hpa.spec?.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'skill-worker' });
        expect(r.one<IDeployment>('Deployment', 'skill-worker')).toBeDefined();
        expect(r.all('ScaledObject')).toEqual([]);
      });

      it('runs PostgreSQL in a StatefulSet with a volume, and DATABASE_URL points at it with its password', () => {
        const pg = r.one<IStatefulSet>('StatefulSet', 'postgres');
        expect(pg.spec!.volumeClaimTemplates?.[0]?.metadata?.name).toBe('data');
        const c = appContainer(pg.spec!.template);
        const { vars } = r.env(c);
        const url = new URL(r.env(appContainer(r.one<IDeployment>('Deployment', 'gateway').spec!.template)).vars.DATABASE_URL!);
        expect(r.one<IService>('Service', url.hostname).spec!.selector).toEqual({ 'app.kubernetes.io/name': 'postgres' });
        expect([url.username, url.password, url.pathname]).toEqual([vars.POSTGRES_USER, vars.POSTGRES_PASSWORD, `/${vars.POSTGRES_DB}`]);
      });
    }
  });
});

function natsConfig(r: Rendered): Record<string, string> {
  const nats = r.one<IStatefulSet>('StatefulSet', 'nats');
  const volume = nats.spec!.template.spec!.volumes?.find((v) => v.name === 'config');
  return r.one<IConfigMap>('ConfigMap', volume!.configMap!.name!).data ?? {};
}

function databasePodLabels(r: Rendered): Record<string, string> {
  const cluster = r.all<z.infer<typeof CnpgCluster>>('Cluster')[0];
  if (cluster) return { 'cnpg.io/cluster': cluster.metadata.name };
  return templateLabels(r.one<IStatefulSet>('StatefulSet', 'postgres').spec!.template);
}
