// The gateway's workflow engine API over HTTP, against real PostgreSQL and NATS JetStream: definitions (YAML and
// JSON, immutability once used, issues that name the step), reads with tenant shadowing, runs and their control
// commands on the bus, external events.
import { startConsumer, type RunningConsumer } from '@steward/bus';
import { makeEvent, type Envelope, type ExternalEventV1, type WorkflowControlV1 } from '@steward/contracts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, settle, startTestGateway, type TestGateway } from './gateway-app.js';

let gw: TestGateway;
const consumers: RunningConsumer[] = [];
const controls: Envelope<WorkflowControlV1>[] = [];
const externals: Envelope<ExternalEventV1>[] = [];

let A: Record<string, string>;
let B: Record<string, string>;
const yaml = (text: string, headers: Record<string, string> = A) => ({ body: text, headers: { ...headers, 'content-type': 'application/yaml' } });

const TRIAGE = `# yaml-language-server: $schema=http://127.0.0.1:8080/v1/schemas/workflow-definition.json
name: acme.triage
version: 1
description: Echoes the input, then shouts it.
steps:
  - id: echo
    skill: echo
  - id: shout
    skill: text.uppercase
`;

// expect's asymmetric matchers are typed `any`: these say what they stand for.
const aString = expect.any(String) as string;
const anObject = expect.any(Object) as object;
const matching = (re: RegExp) => expect.stringMatching(re) as string;
const containing = (text: string) => expect.stringContaining(text) as string;

// Markers that wait until what was published before them on the stream has come through (instead of sleeping).
const marker = { source: 'steward/test', tenantId: 'marker', correlationId: 'marker' };
const controlsSettled = () => settle(gw, controls, makeEvent('workflow.control.v1', { requestId: randomUUID(), tenantId: 'marker', runId: randomUUID(), action: { kind: 'cancel', reason: 'marker' } }, marker));
const externalsSettled = () => settle(gw, externals, makeEvent('external.event.v1', { eventId: randomUUID(), tenantId: 'marker', name: 'marker', data: null }, marker));

beforeAll(async () => {
  gw = await startTestGateway('gateway_api');
  A = await gw.authFor('acme');
  B = await gw.authFor('globex');
  await gw.db.prisma.skill.createMany({
    data: ['echo', 'text.uppercase'].map((name) => ({ name, category: name === 'echo' ? 'core' : 'text', description: name, kind: 'code', sideEffects: 'none', timeoutMs: 1000 })),
  });
  const bus = gw.runtime.bus;
  consumers.push(
    await startConsumer(bus, { durable: 'test-control', stream: 'commands', accepts: ['workflow.control.v1'], handle: async (e) => void controls.push(e.envelope) }),
    await startConsumer(bus, { durable: 'test-external', stream: 'events', accepts: ['external.event.v1'], handle: async (e) => void externals.push(e.envelope) }),
  );
});
afterAll(async () => {
  for (const c of consumers) await c.stop();
  await gw?.stop();
});

describe('POST /v1/workflows', () => {
  it('registers a YAML definition (201), answers 200 unchanged for the same text, 201 updated for a change before any run used it', async () => {
    const first = await gw.request('POST', '/v1/workflows', yaml(TRIAGE));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'acme.triage', version: 1, status: 'registered' });
    expect(first.body.id).toEqual(aString);
    expect(first.headers.get('location')).toBe('/v1/workflows/acme.triage/versions/1');

    const again = await gw.request('POST', '/v1/workflows', yaml(TRIAGE));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, status: 'unchanged' });

    const changed = await gw.request('POST', '/v1/workflows', yaml(TRIAGE.replace('then shouts it', 'then shouts it loudly')));
    expect(changed.status).toBe(201);
    expect(changed.body).toEqual({ ...first.body, status: 'updated' });
    const row = await gw.db.prisma.workflowDefinition.findUniqueOrThrow({ where: { id: first.body.id as string } });
    expect(row).toMatchObject({ tenantId: 'acme', definition: { description: 'Echoes the input, then shouts it loudly.' } });
  });

  it('refuses with 409 definition_in_use to change a version once a run has used it', async () => {
    await gw.request('POST', '/v1/workflows', yaml(TRIAGE.replace('acme.triage', 'acme.pinned')));
    await gw.db.prisma.workflowDefinition.updateMany({ where: { tenantId: 'acme', name: 'acme.pinned' }, data: { firstUsedAt: new Date() } });
    const same = await gw.request('POST', '/v1/workflows', yaml(TRIAGE.replace('acme.triage', 'acme.pinned')));
    expect(same.status).toBe(200); // the same text is still fine
    const changed = await gw.request('POST', '/v1/workflows', yaml(TRIAGE.replace('acme.triage', 'acme.pinned').replace('shouts it', 'whispers it')));
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ error: { code: 'definition_in_use' } });
    expect((changed.body.error as { message: string }).message).toContain('version 2');
  });

  it('refuses a cycle with 400 invalid_definition whose issue names the step', async () => {
    const r = await gw.request(
      'POST',
      '/v1/workflows',
      yaml(`name: acme.loop
version: 1
stages:
  - parallel: true
    steps:
      - id: first
        skill: echo
        depends_on: [second]
      - id: second
        skill: echo
        depends_on: [first]
`),
    );
    expect(r.status).toBe(400);
    const error = r.body.error as { code: string; issues: { path: (string | number)[]; step?: string; message: string }[] };
    expect(error.code).toBe('invalid_definition');
    const cycle = error.issues.find((i) => i.message.includes('cycle'));
    expect(cycle).toBeDefined();
    expect(['first', 'second']).toContain(cycle!.step);
    expect(cycle!.path.slice(0, 3)).toEqual(['stages', 0, 'steps']);
    expect(cycle!.path.at(-1)).toBe('depends_on');
  });

  it('refuses an unknown skill with 400, pointing at the step and its skill field', async () => {
    const r = await gw.request('POST', '/v1/workflows', yaml('name: acme.unknown\nversion: 1\nsteps:\n  - id: fine\n    skill: echo\n  - id: broken\n    skill: no.such-skill\n'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'invalid_definition', issues: [{ path: ['steps', 1, 'skill'], step: 'broken', message: containing('unknown skill no.such-skill') }] } });
  });

  it('refuses a schema violation with 400 and the step it is in', async () => {
    const r = await gw.request('POST', '/v1/workflows', yaml('name: acme.bad\nversion: 1\nsteps:\n  - id: ok\n    skill: echo\n  - id: nothing\n'));
    expect(r.status).toBe(400);
    const issues = (r.body.error as { issues: { step?: string }[] }).issues;
    expect(issues.map((i) => i.step)).toContain('nothing');
  });

  it('answers unparsable YAML with 400 invalid_yaml and the parser message', async () => {
    const r = await gw.request('POST', '/v1/workflows', yaml('name: acme.x\nsteps: [\n  - id: a\n'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'invalid_yaml' } });
    expect((r.body.error as { message: string }).message).toMatch(/line \d+/);
  });

  it('takes JSON bodies, and the other YAML content types with parameters', async () => {
    const doc = { name: 'acme.json', version: 3, steps: [{ id: 'only', skill: 'echo' }] };
    const json = await gw.request('POST', '/v1/workflows', { body: doc, headers: A });
    expect(json.status).toBe(201);
    expect(json.body).toMatchObject({ name: 'acme.json', version: 3, status: 'registered' });
    const asYaml = await gw.request('POST', '/v1/workflows', { body: JSON.stringify(doc), headers: { ...A, 'content-type': 'text/yaml; charset=utf-8' } });
    expect(asYaml.status).toBe(200);
    expect(asYaml.body.status).toBe('unchanged');
    const xYaml = await gw.request('POST', '/v1/workflows', { body: 'name: acme.xyaml\nversion: 1\nsteps:\n  - id: a\n    skill: echo\n', headers: { ...A, 'content-type': 'application/x-yaml' } });
    expect(xYaml.status).toBe(201);
  });

  it('refuses other content types, empty and oversized bodies, and the reserved system tenant', async () => {
    const text = await gw.request('POST', '/v1/workflows', { body: TRIAGE, headers: { ...A, 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const empty = await gw.request('POST', '/v1/workflows', yaml('   \n'));
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error: { code: 'invalid_yaml' } });
    const huge = await gw.request('POST', '/v1/workflows', yaml(`${TRIAGE}# ${'x'.repeat(300 * 1024)}\n`));
    expect(huge.status).toBe(413);
    const hugeJson = await gw.request('POST', '/v1/workflows', { body: { name: 'acme.huge', version: 1, description: 'x'.repeat(300 * 1024), steps: [] }, headers: A });
    expect(hugeJson.status).toBe(413);
    const system = await gw.request('POST', '/v1/workflows', yaml(TRIAGE, await gw.authFor('system')));
    expect(system.status).toBe(403);
    expect(system.body).toMatchObject({ error: { code: 'reserved_tenant' } });
  });
});

describe('GET /v1/workflows', () => {
  beforeAll(async () => {
    // Shared definitions (as the workflow-runner registers them at start-up): one shadowed by acme's own acme.triage@1.
    const doc = (name: string, version: number, description: string) => ({ name, version, description, steps: [{ id: 'a', skill: 'echo' }] });
    await gw.db.prisma.workflowDefinition.createMany({
      data: [
        { id: randomUUID(), tenantId: 'system', name: 'acme.triage', version: 1, definition: doc('acme.triage', 1, 'shared'), hash: 'h1' },
        { id: randomUUID(), tenantId: 'system', name: 'acme.triage', version: 2, definition: doc('acme.triage', 2, 'shared v2'), hash: 'h2' },
        { id: randomUUID(), tenantId: 'system', name: 'demo.shout', version: 1, definition: doc('demo.shout', 1, 'demo'), hash: 'h3' },
      ],
    });
  });

  it("lists the tenant's own and the shared definitions, its own shadowing a shared one of the same name and version", async () => {
    const r = await gw.request('GET', '/v1/workflows', { headers: A });
    expect(r.status).toBe(200);
    const list = r.body.workflows as { name: string; version: number; tenant: string; description?: string; inUse: boolean; createdAt: string; firstUsedAt?: string }[];
    const triage = list.filter((w) => w.name === 'acme.triage');
    expect(triage.map((w) => [w.version, w.tenant, w.description])).toEqual([
      [2, 'system', 'shared v2'],
      [1, 'acme', 'Echoes the input, then shouts it loudly.'],
    ]);
    expect(list.find((w) => w.name === 'demo.shout')).toMatchObject({ tenant: 'system', inUse: false });
    expect(list.find((w) => w.name === 'acme.pinned')).toMatchObject({ tenant: 'acme', inUse: true, firstUsedAt: aString });
    expect(list.map((w) => w.name)).toEqual([...list.map((w) => w.name)].sort());

    const other = await gw.request('GET', '/v1/workflows', { headers: B });
    expect((other.body.workflows as { name: string; tenant: string }[]).map((w) => `${w.tenant}:${w.name}`).sort()).toEqual(['system:acme.triage', 'system:acme.triage', 'system:demo.shout']);
  });

  it('lists the versions of one workflow and returns one version with its document; 404 otherwise', async () => {
    const versions = await gw.request('GET', '/v1/workflows/acme.triage', { headers: A });
    expect(versions.status).toBe(200);
    expect(versions.body).toMatchObject({ name: 'acme.triage', versions: [{ version: 2, tenant: 'system' }, { version: 1, tenant: 'acme' }] });

    const one = await gw.request('GET', '/v1/workflows/acme.triage/versions/1', { headers: A });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'acme.triage', version: 1, tenant: 'acme', hash: aString, definition: { name: 'acme.triage', steps: [{ id: 'echo' }, { id: 'shout' }] } });
    const shared = await gw.request('GET', '/v1/workflows/acme.triage/versions/1', { headers: B });
    expect(shared.body).toMatchObject({ tenant: 'system', definition: { description: 'shared' } });

    expect((await gw.request('GET', '/v1/workflows/acme.json', { headers: B })).status).toBe(404);
    expect((await gw.request('GET', '/v1/workflows/acme.triage/versions/9', { headers: A })).status).toBe(404);
    const badVersion = await gw.request('GET', '/v1/workflows/acme.triage/versions/one', { headers: A });
    expect(badVersion.status).toBe(400);
    expect(badVersion.body).toMatchObject({ error: { code: 'invalid_request', issues: [expect.objectContaining({ message: 'versions are positive integers' })] } });
    expect((await gw.request('GET', '/v1/workflows/Not_A_Name', { headers: A })).status).toBe(400);
  });

  it('serves the JSON Schema of definitions for editors', async () => {
    const r = await gw.request('GET', '/v1/schemas/workflow-definition.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/schema+json');
    expect(r.body).toMatchObject({ $id: 'https://steward.dev/schemas/workflow-definition.schema.json', properties: { steps: anObject, stages: anObject } });
  });
});

describe('runs', () => {
  const taskId = randomUUID();
  const runId = randomUUID();
  const childRunId = randomUUID();
  const doneRunId = randomUUID();

  beforeAll(async () => {
    const prisma = gw.db.prisma;
    const def = await prisma.workflowDefinition.findUniqueOrThrow({ where: { tenantId_name_version: { tenantId: 'acme', name: 'acme.triage', version: 1 } } });
    await prisma.task.create({ data: { id: taskId, tenantId: 'acme', kind: 'workflow', workflowName: 'acme.triage', workflowVersion: 1, input: { word: 'hi' }, status: 'running' } });
    const run = { taskId, tenantId: 'acme', definitionId: def.id, workflowName: 'acme.triage', workflowVersion: 1, input: { word: 'hi' } };
    await prisma.workflowRun.create({ data: { ...run, id: runId, status: 'parked', startedAt: new Date(Date.now() - 2000), createdAt: new Date(Date.now() - 2000) } });
    await prisma.workflowRun.create({ data: { ...run, id: childRunId, parentRunId: runId, status: 'running', createdAt: new Date(Date.now() - 1000) } });
    await prisma.workflowRun.create({ data: { ...run, id: doneRunId, status: 'completed', output: { word: 'HI' }, completedAt: new Date() } });
    // Inserted out of order: the API orders step runs by path.
    await prisma.stepRun.create({ data: { id: randomUUID(), runId, stepPath: 'shout', status: 'parked', attempt: 3, input: { word: 'hi' }, error: { code: 'boom', message: 'failed for good', retryable: false } } });
    await prisma.stepRun.create({ data: { id: randomUUID(), runId, stepPath: 'echo', status: 'completed', attempt: 1, input: { word: 'hi' }, output: { word: 'hi' }, completedAt: new Date() } });
    await prisma.stepRun.create({ data: { id: randomUUID(), runId, stepPath: 'wait_merge', status: 'waiting', waitFor: 'event', waitKey: 'merged pr-1' } });
  });

  it('returns a run with its step runs ordered by path; another tenant gets 404', async () => {
    const r = await gw.request('GET', `/v1/runs/${runId}`, { headers: A });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: runId, taskId, workflow: { name: 'acme.triage', version: 1 }, status: 'parked', input: { word: 'hi' }, startedAt: aString });
    const steps = r.body.steps as { stepPath: string; status: string }[];
    expect(steps.map((s) => [s.stepPath, s.status])).toEqual([
      ['echo', 'completed'],
      ['shout', 'parked'],
      ['wait_merge', 'waiting'],
    ]);
    expect(steps[1]).toMatchObject({ attempt: 3, error: { code: 'boom' } });
    expect(steps[2]).toMatchObject({ waitFor: 'event' });

    const child = await gw.request('GET', `/v1/runs/${childRunId}`, { headers: A });
    expect(child.body).toMatchObject({ parentRunId: runId, steps: [] });

    const other = await gw.request('GET', `/v1/runs/${runId}`, { headers: B });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'not_found' } });
    expect((await gw.request('GET', `/v1/runs/${randomUUID()}`, { headers: A })).status).toBe(404);
  });

  it("lists a task's runs, root and children; another tenant gets 404", async () => {
    const r = await gw.request('GET', `/v1/tasks/${taskId}/runs`, { headers: A });
    expect(r.status).toBe(200);
    expect(r.body.taskId).toBe(taskId);
    expect((r.body.runs as { id: string; parentRunId?: string }[]).map((x) => [x.id, x.parentRunId])).toEqual([
      [runId, undefined],
      [childRunId, runId],
      [doneRunId, undefined],
    ]);
    expect((await gw.request('GET', `/v1/tasks/${taskId}/runs`, { headers: B })).status).toBe(404);
    expect((await gw.request('GET', '/v1/tasks/not-a-uuid/runs', { headers: A })).status).toBe(400);
  });

  it('refuses to retry a step that is not parked (409), an unknown step (404), and another tenant (404)', async () => {
    const completed = await gw.request('POST', `/v1/runs/${runId}/steps/echo/retry`, { headers: A });
    expect(completed.status).toBe(409);
    expect(completed.body).toMatchObject({ error: { code: 'step_not_parked', message: containing('echo is completed') } });
    const waiting = await gw.request('POST', `/v1/runs/${runId}/steps/wait_merge/skip`, { body: { output: 1 }, headers: A });
    expect(waiting.status).toBe(409);
    expect((await gw.request('POST', `/v1/runs/${runId}/steps/nope/retry`, { headers: A })).body).toMatchObject({ error: { code: 'step_not_found' } });
    expect((await gw.request('POST', `/v1/runs/${runId}/steps/shout/retry`, { headers: B })).status).toBe(404);
    // Skipping the parked step of another tenant's run (one A could skip): 404, as if the run did not exist.
    const skip = await gw.request('POST', `/v1/runs/${runId}/steps/shout/skip`, { body: { output: { word: 'PWNED' } }, headers: B });
    expect(skip.status).toBe(404);
    expect(skip.body).toMatchObject({ error: { code: 'not_found' } });
    expect(skip.body).not.toHaveProperty('requestId');
    await controlsSettled();
    expect(controls).toHaveLength(0);
    const step = await gw.db.prisma.stepRun.findUniqueOrThrow({ where: { runId_stepPath: { runId, stepPath: 'shout' } } });
    expect(step).toMatchObject({ status: 'parked', output: null });
  });

  it('retries a parked step: 202, and workflow.control.v1 is on the bus; the same Idempotency-Key gives the same request id', async () => {
    const r = await gw.request('POST', `/v1/runs/${runId}/steps/shout/retry`, { headers: A });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ runId, action: 'retry', requestId: matching(/^[0-9a-f-]{36}$/) });
    expect(r.headers.get('location')).toBe(`/v1/runs/${runId}`);
    const cmd = await eventually(controls, (l) => l.find((e) => e.data.requestId === r.body.requestId));
    expect(cmd.data).toEqual({ requestId: r.body.requestId, tenantId: 'acme', runId, action: { kind: 'retry', stepPath: 'shout' } });
    expect(cmd).toMatchObject({ type: 'steward.workflow.control.v1', tenantid: 'acme', correlationid: taskId, subject: runId, id: r.body.requestId });

    const key = { ...A, 'idempotency-key': `retry-${randomUUID()}` };
    const k1 = await gw.request('POST', `/v1/runs/${runId}/steps/shout/retry`, { headers: key });
    const k2 = await gw.request('POST', `/v1/runs/${runId}/steps/shout/retry`, { headers: key });
    expect(k1.status).toBe(202);
    expect(k2.body.requestId).toBe(k1.body.requestId);
    await controlsSettled();
    expect(controls.filter((e) => e.data.requestId === k1.body.requestId)).toHaveLength(1); // JetStream dropped the repeat
  });

  it('skips a parked step with the output given, and cancels a live run; a finished run answers 409', async () => {
    const skip = await gw.request('POST', `/v1/runs/${runId}/steps/shout/skip`, { body: { output: { word: 'HI', manual: true } }, headers: A });
    expect(skip.status).toBe(202);
    expect(skip.body).toMatchObject({ runId, action: 'skip' });
    const skipCmd = await eventually(controls, (l) => l.find((e) => e.data.requestId === skip.body.requestId));
    expect(skipCmd.data.action).toEqual({ kind: 'skip', stepPath: 'shout', output: { word: 'HI', manual: true } });

    const bare = await gw.request('POST', `/v1/runs/${runId}/steps/shout/skip`, { headers: A });
    expect(bare.status).toBe(202);
    const bareCmd = await eventually(controls, (l) => l.find((e) => e.data.requestId === bare.body.requestId));
    expect(bareCmd.data.action).toEqual({ kind: 'skip', stepPath: 'shout', output: null });

    const cancel = await gw.request('POST', `/v1/runs/${childRunId}/cancel`, { body: { reason: 'not needed' }, headers: A });
    expect(cancel.status).toBe(202);
    const cancelCmd = await eventually(controls, (l) => l.find((e) => e.data.requestId === cancel.body.requestId));
    expect(cancelCmd.data).toMatchObject({ runId: childRunId, action: { kind: 'cancel', reason: 'not needed' } });
    const noBody = await gw.request('POST', `/v1/runs/${runId}/cancel`, { headers: A });
    expect(noBody.status).toBe(202);
    expect((await eventually(controls, (l) => l.find((e) => e.data.requestId === noBody.body.requestId))).data.action).toEqual({ kind: 'cancel', reason: 'cancelled' });

    const done = await gw.request('POST', `/v1/runs/${doneRunId}/cancel`, { headers: A });
    expect(done.status).toBe(409);
    expect(done.body).toMatchObject({ error: { code: 'run_finished' } });
    expect((await gw.request('POST', `/v1/runs/${runId}/cancel`, { headers: B })).status).toBe(404);
  });

  it('answers bad control bodies and headers with 400 and the zod issues', async () => {
    const extra = await gw.request('POST', `/v1/runs/${runId}/cancel`, { body: { reason: 'x', force: true }, headers: A });
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({ error: { code: 'invalid_request', issues: [expect.objectContaining({ code: 'unrecognized_keys' })] } });
    const longReason = await gw.request('POST', `/v1/runs/${runId}/cancel`, { body: { reason: 'x'.repeat(2001) }, headers: A });
    expect(longReason.body).toMatchObject({ error: { code: 'invalid_request', issues: [expect.objectContaining({ path: ['reason'] })] } });
    const notObject = await gw.request('POST', `/v1/runs/${runId}/steps/shout/skip`, { body: [1, 2], headers: A });
    expect(notObject.status).toBe(400);
    const badKey = await gw.request('POST', `/v1/runs/${runId}/steps/shout/retry`, { headers: { ...A, 'idempotency-key': 'has spaces' } });
    expect(badKey.status).toBe(400);
    expect(badKey.body).toMatchObject({ error: { code: 'invalid_request', message: 'Idempotency-Key header is invalid' } });
  });
});

describe('POST /v1/events', () => {
  it('publishes external.event.v1 for the tenant and answers 202 with the event id', async () => {
    const r = await gw.request('POST', '/v1/events', { body: { name: 'github.pr:merged', key: 'pr-42', data: { by: 'ada' } }, headers: A });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ eventId: matching(/^[0-9a-f-]{36}$/) });
    const e = await eventually(externals, (l) => l.find((x) => x.data.eventId === r.body.eventId));
    expect(e.data).toEqual({ eventId: r.body.eventId, tenantId: 'acme', name: 'github.pr:merged', key: 'pr-42', data: { by: 'ada' } });
    expect(e).toMatchObject({ type: 'steward.external.event.v1', tenantid: 'acme', id: r.body.eventId });

    const bare = await gw.request('POST', '/v1/events', { body: { name: 'ping' }, headers: B });
    expect(bare.status).toBe(202);
    expect((await eventually(externals, (l) => l.find((x) => x.data.eventId === bare.body.eventId))).data).toEqual({ eventId: bare.body.eventId, tenantId: 'globex', name: 'ping', data: null });
  });

  it('derives the event id from an Idempotency-Key, so a repeated request is one event', async () => {
    const headers = { ...A, 'idempotency-key': `evt-${randomUUID()}` };
    const a = await gw.request('POST', '/v1/events', { body: { name: 'deploy.done', key: 'staging' }, headers });
    const b = await gw.request('POST', '/v1/events', { body: { name: 'deploy.done', key: 'staging' }, headers });
    expect(a.status).toBe(202);
    expect(b.body.eventId).toBe(a.body.eventId);
    await externalsSettled();
    expect(externals.filter((x) => x.data.eventId === a.body.eventId)).toHaveLength(1);
    const otherTenant = await gw.request('POST', '/v1/events', { body: { name: 'deploy.done', key: 'staging' }, headers: { ...headers, ...B } });
    expect(otherTenant.body.eventId).not.toBe(a.body.eventId);
  });

  it('answers bad bodies with 400 and the zod issues', async () => {
    const badName = await gw.request('POST', '/v1/events', { body: { name: 'has space' }, headers: A });
    expect(badName.status).toBe(400);
    expect(badName.body).toMatchObject({ error: { code: 'invalid_request', issues: [expect.objectContaining({ path: ['name'] })] } });
    const missing = await gw.request('POST', '/v1/events', { body: { data: 1 }, headers: A });
    expect(missing.body).toMatchObject({ error: { issues: [expect.objectContaining({ path: ['name'] })] } });
    const extra = await gw.request('POST', '/v1/events', { body: { name: 'ok', tenantId: 'globex' }, headers: A });
    expect(extra.body).toMatchObject({ error: { issues: [expect.objectContaining({ code: 'unrecognized_keys' })] } });
    const emptyKey = await gw.request('POST', '/v1/events', { body: { name: 'ok', key: '' }, headers: A });
    expect(emptyKey.body).toMatchObject({ error: { issues: [expect.objectContaining({ path: ['key'] })] } });
    const badJson = await gw.request('POST', '/v1/events', { body: '{"name":', headers: { ...A, 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
  });
});
