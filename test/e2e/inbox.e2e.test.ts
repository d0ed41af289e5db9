// The escalation inbox page in headless Chromium against the five services as processes: decisions escalated by
// running workflows appear on the open page without a reload, the person answers them with the keyboard, and the
// workflows continue with the chosen options; an autonomous decision picked for review is marked reviewed from the
// history panel. The page with a pending batch is saved to docs/images/inbox.png.
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// playwright-core is a devDependency of @steward/gateway (the package whose page this is), resolved from there.
import type * as Playwright from '../../apps/gateway/node_modules/playwright-core/index.js';
import { Stack, submit, until, waitForTask } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'docs', 'images', 'inbox.png');

const SHIP = `
name: e2e.ship
version: 1
steps:
  - id: decide
    decision:
      type: ship_change
      options: [{ id: ship, label: Ship it }, { id: hold, label: Hold for review }, { id: split, label: Split the change }]
      proposal: ship
      fallback: hold
      fallback_after: 2h
      context: { title: '\${{ inputs.title }}', risk: '\${{ inputs.risk }}', reversible: '\${{ inputs.reversible }}', branch: release, confidence: 0.72 }
  - { id: act, skill: echo, with: { choice: '\${{ steps.decide.output.choice }}', by: '\${{ steps.decide.output.resolvedBy }}' } }
outputs:
  choice: '\${{ steps.act.output.choice }}'
  by: '\${{ steps.act.output.by }}'
`;

// Decided without the person (a never_escalate rule), and with auditRate 1 always picked for review.
const NOTE = `
name: e2e.note
version: 1
steps:
  - id: decide
    decision:
      type: release_note
      options: [{ id: publish, label: Publish the note }, { id: skip, label: Skip it }]
      proposal: publish
      context: { risk: low, reversible: true, confidence: 0.95 }
  - { id: act, skill: echo, with: { choice: '\${{ steps.decide.output.choice }}', by: '\${{ steps.decide.output.resolvedBy }}' } }
outputs:
  choice: '\${{ steps.act.output.choice }}'
  by: '\${{ steps.act.output.by }}'
`;

interface DecisionView {
  id: string;
  status: string;
  taskId?: string;
  batchId?: string;
  review: boolean;
  reviewed: boolean;
  resolvedBy?: string;
}

let stack: Stack;
let browser: Playwright.Browser;

beforeAll(async () => {
  // No Chromium is a failure, not a skip: .ci/run installs Debian's chromium package.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does), or set CHROMIUM_PATH`);
  const { chromium } = createRequire(join(ROOT, 'apps', 'gateway', 'package.json'))('playwright-core') as typeof Playwright;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

  const dir = await mkdtemp(join(tmpdir(), 'e2e-inbox-'));
  await writeFile(join(dir, 'ship.yaml'), SHIP);
  await writeFile(join(dir, 'note.yaml'), NOTE);
  stack = await Stack.start({ env: { 'workflow-runner': { WORKFLOWS_DIR: dir }, escalation: { TIMER_POLL_MS: '200' } } });
}, 300_000); // five services and a browser on a shared 2-core machine
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await stack.gateway(path, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: (await r.json()) as T };
}

/** Submits a workflow task; returns its id and its decision once the escalation service has taken it up. */
async function start(workflow: string, input: Record<string, unknown>): Promise<{ taskId: string; decision: DecisionView }> {
  const r = await submit(stack, { workflow, input });
  expect(r.status).toBe(202);
  const taskId = r.body.taskId as string;
  const decision = await until(`the decision of ${workflow}`, async () => {
    const { body } = await api<{ decisions: DecisionView[] }>('GET', '/v1/decisions?limit=20');
    const d = body.decisions.find((x) => x.taskId === taskId);
    return d && d.status !== 'pending' ? d : undefined;
  });
  return { taskId, decision };
}

const selectedId = (page: Playwright.Page) => page.locator('#batches .card.selected').getAttribute('data-id');

describe('escalation inbox page', () => {
  it('shows escalations as they arrive, answers them with the keyboard, and the workflows continue with the choices', async () => {
    // Autonomy is not earned yet, so ship_change escalates; a batch is sent once it holds two escalations.
    const policy = await api('PUT', '/v1/escalations/policy', {
      alpha: 0.2,
      batchSize: 2,
      batchTimeoutMs: 3_600_000,
      auditRate: 1,
      rules: [{ id: 'notes-are-routine', when: { type: 'release_note' }, action: 'never_escalate' }],
    });
    expect(policy.status).toBe(200);

    // The page and its files are public, under a strict CSP; only the API behind it needs a key.
    const assets = await fetch(stack.url('gateway', '/inbox'));
    expect(assets.status).toBe(200);
    expect(assets.headers.get('content-type')).toMatch(/^text\/html/);
    expect(assets.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(assets.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect((await fetch(stack.url('gateway', '/inbox/inbox.js'))).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(stack.url('gateway', '/inbox/..%2Fpackage.json'))).status).toBe(404);
    expect((await fetch(stack.url('gateway', '/inbox/index.html'), { redirect: 'manual' })).headers.get('location')).toBe('/inbox');
    expect((await fetch(stack.url('gateway', '/v1/escalations/batches'))).status).toBe(401);

    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });

    await page.goto(stack.url('gateway', '/inbox'));
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    // A wrong key is refused on the page; a key with read and answer (no admin) is all the page needs.
    await page.fill('#api-key', 'stw_not_a_key');
    await page.press('#api-key', 'Enter');
    await expect.poll(() => page.textContent('#sign-in-error')).toMatch(/unknown or revoked/);
    await page.fill('#api-key', await stack.keyFor('default', ['read', 'answer']));
    await page.press('#api-key', 'Enter');
    await page.locator('#queue-empty').waitFor({ state: 'visible' });
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    await expect.poll(() => page.getAttribute('#connection', 'data-state')).toBe('live'); // the gateway's SSE stream

    // A second page whose stream is refused falls back to polling, and shows the same.
    const polling = await context.newPage();
    await polling.route('**/v1/escalations/stream', (r) => r.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no stream"}}' }));
    await polling.goto(stack.url('gateway', '/inbox'));
    await polling.fill('#api-key', await stack.keyFor('default', ['read']));
    await polling.press('#api-key', 'Enter');
    await expect.poll(() => polling.getAttribute('#connection', 'data-state')).toBe('polling');

    // An autonomous decision (picked for review), then two escalations: the batch fills and is sent.
    const note = await start('e2e.note', {});
    expect((await waitForTask(stack, note.taskId)).task).toMatchObject({ status: 'completed', output: { choice: 'publish', by: 'autonomous' } });
    const rate = await start('e2e.ship', { title: 'Raise the API rate limit to 200/s', risk: 'medium', reversible: true });
    expect(rate.decision.status).toBe('escalated');
    const drop = await start('e2e.ship', { title: 'Drop the legacy sessions table', risk: 'high', reversible: false });
    expect(drop.decision.status).toBe('escalated');

    // They appear on the open page (no reload): escalations first, the review last.
    const cards = page.locator('#batches .card');
    await expect.poll(() => cards.count(), { timeout: 20_000 }).toBe(3);
    expect(await Promise.all((await cards.all()).map((c) => c.getAttribute('data-id')))).toEqual([rate.decision.id, drop.decision.id, note.decision.id]);
    const first = page.locator(`.card[data-id="${rate.decision.id}"]`);
    await expect.poll(() => first.textContent()).toMatch(/Proposal: Ship it/);
    const text = (await first.textContent()) ?? '';
    expect(text).toMatch(/Hold for review/); // the alternatives
    expect(text).toMatch(/Score\s*0\.\d\d/); // the engine's score
    expect(text).toMatch(/autonomy not yet earned/); // its top reason
    expect(text).toMatch(/Raise the API rate limit/); // the context
    expect(await page.locator(`.card[data-id="${drop.decision.id}"] .badge`).allTextContents()).toContain('irreversible');
    // What settled each escalation, in the heading of its reasons (the engine's verdict basis).
    expect(await first.locator('.reasons h5').textContent()).toBe('Why: autonomy not yet earned');
    expect(await page.locator(`.card[data-id="${drop.decision.id}"] .reasons h5`).textContent()).toBe('Why: a hard rule');
    await expect.poll(() => page.title()).toBe('(3) Steward inbox');
    await expect.poll(() => polling.locator('#batches .card').count(), { timeout: 20_000 }).toBe(3);
    await polling.close();
    await expect.poll(() => page.locator('#history details').count()).toBeGreaterThan(0);

    // The selection stays where it was as cards arrive; k at the top stays at the top.
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    expect(await selectedId(page)).toBe(rate.decision.id);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // ? shows the keys; Escape closes them.
    await page.keyboard.press('?');
    await page.locator('#help').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.locator('#help').waitFor({ state: 'hidden' });

    // j moves to the second escalation, 2 answers it with option 2 ("hold").
    await page.keyboard.press('j');
    expect(await selectedId(page)).toBe(drop.decision.id);
    await page.keyboard.press('2');
    await page.locator(`.card[data-id="${drop.decision.id}"]`).waitFor({ state: 'detached' });
    // The selection moved on to what followed (the review); k goes back, a approves the proposal ("ship").
    expect(await selectedId(page)).toBe(note.decision.id);
    await page.keyboard.press('k');
    expect(await selectedId(page)).toBe(rate.decision.id);
    await page.keyboard.press('a');
    await first.waitFor({ state: 'detached' });
    await expect.poll(() => page.textContent('#announce')).toMatch(/Answered ship_change: Ship it/);

    // d defers the review: on this page only, to the end of the queue (the API has no defer).
    await page.keyboard.press('d');
    await page.locator(`.batch-deferred .card[data-id="${note.decision.id}"]`).waitFor();

    // The workflows continue with the person's choices.
    expect((await waitForTask(stack, drop.taskId)).task).toMatchObject({ status: 'completed', output: { choice: 'hold', by: 'human' } });
    expect((await waitForTask(stack, rate.taskId)).task).toMatchObject({ status: 'completed', output: { choice: 'ship', by: 'human' } });

    // The history panel lists the autonomous decision; marking it reviewed (agreeing) clears the last item of the queue.
    const entry = page.locator(`#history details[data-id="${note.decision.id}"]`);
    await expect.poll(() => entry.locator('summary').textContent()).toMatch(/release_note → Publish the note by engine .*review requested/);
    await entry.locator('summary').click();
    await entry.locator('form.review button').click();
    await page.locator('#queue-empty').waitFor({ state: 'visible' });
    const reviewed = await until('the review to be recorded', async () => {
      const { body } = await api<DecisionView>('GET', `/v1/decisions/${note.decision.id}`);
      return body.reviewed ? body : undefined;
    });
    expect(reviewed).toMatchObject({ review: true, reviewed: true, resolvedBy: 'autonomous' });
    await expect.poll(() => entry.locator('summary').textContent(), { timeout: 15_000 }).toMatch(/reviewed/);
    await until('the batch to close', async () => {
      const { body } = await api<{ status: string }>('GET', `/v1/escalations/batches/${rate.decision.batchId}`);
      return body.status === 'answered' ? true : undefined;
    });

    // Sign out forgets the key.
    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    expect(problems).toEqual([]);
    await context.close();
  }, 300_000);
});
