// steward inbox: the escalations waiting for the person, answered one key each; steward answer: one answer from a
// script. Batches: GET /v1/escalations/batches(/:id); answers: POST /v1/decisions/:id/answer and
// POST /v1/escalations/batches/:id/answers.
import { ApiRequestError, type ApiClient } from '../api/client.js';
import { AnswersAccepted, awaitsPerson, BatchList, Decision, type Batch } from '../api/schemas.js';
import { sseMessages } from '../api/sse.js';
import type { Ctx } from '../context.js';
import { CliError, EXIT, ExitWith } from '../errors.js';
import { formatRelative, shortId, wrap, wrapWords } from '../format.js';
import { KeyReader, type Key } from '../keys.js';
import { NO_COLOURS, type Out, type Style } from '../output.js';

export interface InboxOptions {
  json?: boolean;
  status?: string;
  by?: string;
  /** When nothing waits, wait for the next escalation instead of ending (q quits). */
  wait?: boolean;
}

/** The answer that "approve" means: a review keeps the engine's choice; an escalation takes the agent's proposal. */
export const approvalOf = (d: Decision): string | undefined => (d.review ? d.choice : d.proposal);

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A decision as the person sees it: what it is, what the agent proposes, the options, how sure, why. */
export function formatDecision(d: Decision, pos: { index: number; total: number }, now: number, width: number, style: Style = NO_COLOURS): string[] {
  const lines: string[] = [];
  const head = d.review ? style.cyan('review') : style.yellow('escalated');
  lines.push(`${style.bold(`[${pos.index}/${pos.total}]`)} ${style.bold(d.type)}  ${head}  ${style.dim(`decision ${d.id}${d.taskId ? ` · task ${shortId(d.taskId)}` : ''} · ${formatRelative(d.createdAt, now)}`)}`);
  if (d.review) lines.push(`  Decided alone: ${style.bold(d.choice ?? '?')} (${d.resolvedBy ?? 'autonomous'}); check it: agree, or pick what you would have chosen`);
  const label = (id: string | undefined): string => d.options.find((o) => o.id === id)?.label ?? '';
  if (d.proposal !== undefined) lines.push(`  Proposal:   ${style.bold(d.proposal)}${label(d.proposal) ? ` — ${label(d.proposal)}` : ''}`);
  else if (!d.review) lines.push(`  Proposal:   ${style.dim('none (pick an option)')}`);
  if (d.score !== undefined) {
    const conf = `${Math.round(d.score * 100)}%`;
    lines.push(`  Confidence: ${conf}${d.threshold !== undefined ? style.dim(` (acting alone needs ${Math.round(d.threshold * 100)}%)`) : ''}`);
  }
  if (d.reasons.length) {
    lines.push(`  Why:${d.basis !== undefined ? style.dim(` (basis: ${d.basis})`) : ''}`);
    for (const r of d.reasons.slice(0, 5)) lines.push(`    - ${wrap(r, width - 6, '      ')}`);
  }
  const ctx = Object.entries(d.context)
    .map(([k, v]) => [k, scalar(v)] as const)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  if (ctx.length) lines.push(`  Context:    ${wrapWords(ctx, width - 14, '              ', '  ')}`);
  lines.push('  Options:');
  const idWidth = Math.max(...d.options.map((o) => o.id.length));
  d.options.forEach((o, i) => {
    const mark = o.id === approvalOf(d) ? style.green(d.review ? '  ← decided' : '  ← proposed') : '';
    const text = o.label && o.label !== o.id ? `${o.id.padEnd(idWidth)}  ${style.dim(o.label)}` : o.id;
    lines.push(`    ${i < 9 ? style.bold(String(i + 1)) : ' '}) ${text}${mark}`);
  });
  if (d.fallback) lines.push(style.dim(`  If nobody answers: ${d.fallback}${d.fallbackAt ? ` ${formatRelative(d.fallbackAt, now)}` : ''}`));
  return lines;
}

export function promptText(d: Decision, style: Style = NO_COLOURS): string {
  const approve = approvalOf(d);
  const n = Math.min(9, d.options.length);
  const parts = [
    ...(approve !== undefined ? [`${style.bold('a')}/${style.bold('Enter')} ${d.review ? 'agree' : 'approve'} ${approve}`] : []),
    `${style.bold(n === 1 ? '1' : `1-${n}`)} choose`,
    `${style.bold('s')} skip`,
    `${style.bold('A')} approve batch`,
    `${style.bold('q')} quit`,
  ];
  return `  ${parts.join(' · ')} › `;
}

export type KeyAction = { kind: 'answer'; choice: string } | { kind: 'skip' } | { kind: 'quit'; interrupted: boolean } | { kind: 'approve_batch' } | { kind: 'invalid'; why: string };

/** What a key means for this decision. */
export function actionFor(key: Key, d: Decision): KeyAction {
  switch (key.name) {
    case 'enter':
      return approveOrInvalid(d);
    case 'eof':
    case 'escape':
      return { kind: 'quit', interrupted: false };
    case 'interrupt':
      return { kind: 'quit', interrupted: true };
    case 'other':
      return { kind: 'invalid', why: 'use a, Enter, 1-9, s, A or q' };
    case 'char': {
      const c = key.char;
      if (c === 'a' || c === 'y') return approveOrInvalid(d);
      if (c === 's' || c === 'n' || c === ' ') return { kind: 'skip' };
      if (c === 'q') return { kind: 'quit', interrupted: false };
      if (c === 'A') return { kind: 'approve_batch' };
      if (/^[1-9]$/.test(c)) {
        const o = d.options[Number(c) - 1];
        return o ? { kind: 'answer', choice: o.id } : { kind: 'invalid', why: `there ${d.options.length === 1 ? 'is 1 option' : `are ${d.options.length} options`}` };
      }
      return { kind: 'invalid', why: `"${c}" means nothing here: use a, Enter, 1-9, s, A or q` };
    }
    default:
      return { kind: 'invalid', why: 'unknown key' };
  }
}

function approveOrInvalid(d: Decision): KeyAction {
  const c = approvalOf(d);
  return c !== undefined ? { kind: 'answer', choice: c } : { kind: 'invalid', why: 'there is no proposal to approve: pick an option with its number' };
}

async function pendingBatches(client: ApiClient, status: string): Promise<Batch[]> {
  const { batches } = await client.get('/v1/escalations/batches', BatchList, { status, limit: 200 });
  return batches;
}

async function answerOne(client: ApiClient, d: Decision, choice: string, by: string | undefined): Promise<void> {
  await client.post(`/v1/decisions/${encodeURIComponent(d.id)}/answer`, AnswersAccepted, { choice, ...(by ? { answeredBy: by } : {}) });
}

export async function inbox(ctx: Ctx, o: InboxOptions): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const status = o.status ?? 'sent';
  if (out.json) {
    out.data({ batches: await pendingBatches(client, status) });
    return;
  }
  const s = out.style;
  const done = new Set<string>();
  let answered = 0;
  let skipped = 0;
  let keys: KeyReader | undefined;
  let quit = false;
  let interrupted = false;
  try {
    while (!quit) {
      const batches = (await pendingBatches(client, status))
        .map((b) => ({ batch: b, decisions: b.decisions.filter((d) => awaitsPerson(d) && !done.has(d.id)) }))
        .filter((b) => b.decisions.length > 0);
      if (batches.length === 0 && !o.wait) break;
      if (!keys) {
        keys = new KeyReader(ctx.io.stdin);
        keys.start();
      }
      if (batches.length === 0) {
        const r = await waitForEscalations(client, keys, out, status, done);
        if (r === 'arrived') continue;
        quit = true;
        interrupted = r === 'interrupted';
        break;
      }
      const total = batches.reduce((n, b) => n + b.decisions.length, 0);
      out.line(s.bold(`${total} decision${total === 1 ? '' : 's'} wait${total === 1 ? 's' : ''} for you in ${batches.length} batch${batches.length === 1 ? '' : 'es'}`));
      let index = 0;
      for (const { batch, decisions } of batches) {
        if (quit) break;
        out.line();
        out.line(s.dim(`── batch ${batch.id} · ${batch.recipient} · ${decisions.length} open · sent ${formatRelative(batch.sentAt ?? batch.createdAt, ctx.now())}${batch.trigger ? ` (${batch.trigger})` : ''}`));
        for (const d of decisions) {
          if (quit || done.has(d.id)) continue;
          index++;
          out.line();
          for (const l of formatDecision(d, { index, total }, ctx.now(), out.columns, s)) out.line(l);
          const r = await askAndAnswer(client, keys, out, d, batch, o.by, done);
          if (r === 'answered') answered++;
          else if (r === 'skipped') skipped++;
          else if (r === 'batch') answered += decisions.filter((x) => !done.has(x.id)).length;
          else {
            quit = true;
            interrupted = r === 'interrupted';
          }
          if (r === 'batch') {
            for (const x of decisions) done.add(x.id);
            break;
          }
        }
      }
    }
  } finally {
    keys?.close();
  }
  out.line();
  if (answered + skipped === 0 && !quit) out.line('Inbox empty: nothing waits for you.');
  else out.line(`${s.green(`${answered} answered`)}, ${skipped} skipped${quit ? ' (quit)' : ''}.`);
  if (interrupted) throw new ExitWith(EXIT.interrupted);
}

/**
 * Waits until something new waits for the person: woken by the tenant's escalation stream
 * (GET /v1/escalations/stream; polling every 5 s on a gateway without it), or ended by q, Escape, Ctrl-D or Ctrl-C.
 */
async function waitForEscalations(client: ApiClient, keys: KeyReader, out: Out, status: string, done: ReadonlySet<string>): Promise<'arrived' | 'quit' | 'interrupted'> {
  out.line(out.style.dim('Waiting for escalations… (q to quit)'));
  const abort = new AbortController();
  const pending = async (): Promise<boolean> => (await pendingBatches(client, status)).some((b) => b.decisions.some((d) => awaitsPerson(d) && !done.has(d.id)));
  let wake: () => void = () => undefined;
  const woken = new Promise<'arrived'>((resolve) => (wake = () => resolve('arrived')));
  const check = (): void => {
    pending().then(
      (yes) => yes && wake(),
      () => undefined,
    );
  };
  const watcher = (async (): Promise<void> => {
    try {
      // Each event (a batch sent, a decision escalated or resolved) is a reason to look again; so is connecting,
      // since a batch may have been sent between the last look and the stream.
      for await (const _msg of sseMessages(client, '/v1/escalations/stream', { signal: abort.signal, onOpen: check })) check();
    } catch (err) {
      if (abort.signal.aborted) return;
      if (!(err instanceof ApiRequestError && err.routeMissing)) out.note(`live updates unavailable (${(err as Error).message}); polling`);
    }
    while (!abort.signal.aborted) {
      await new Promise((r) => setTimeout(r, 5000));
      check();
    }
  })();
  const keyed = (async (): Promise<'quit' | 'interrupted' | 'arrived'> => {
    for (;;) {
      const k = await keys.nextUnless(abort.signal);
      if (k === undefined) return 'arrived';
      if (k.name === 'interrupt') return 'interrupted';
      if (k.name === 'eof' || k.name === 'escape' || (k.name === 'char' && k.char === 'q')) return 'quit';
    }
  })();
  try {
    return await Promise.race([woken, keyed]);
  } finally {
    abort.abort();
    await watcher.catch(() => undefined);
  }
}

type Outcome = 'answered' | 'skipped' | 'batch' | 'quit' | 'interrupted';

async function askAndAnswer(client: ApiClient, keys: KeyReader, out: Out, d: Decision, batch: Batch, by: string | undefined, done: Set<string>): Promise<Outcome> {
  const s = out.style;
  keys.discardTypeAhead();
  out.raw(promptText(d, s));
  for (;;) {
    const key = await keys.next();
    const action = actionFor(key, d);
    switch (action.kind) {
      case 'invalid':
        out.raw(`\n  ${s.yellow(action.why)}\n${promptText(d, s)}`);
        continue;
      case 'quit':
        out.line(action.interrupted ? '^C' : 'quit');
        return action.interrupted ? 'interrupted' : 'quit';
      case 'skip':
        out.line('skip');
        done.add(d.id);
        return 'skipped';
      case 'approve_batch': {
        out.line('approve batch');
        try {
          const r = await client.post(`/v1/escalations/batches/${encodeURIComponent(batch.id)}/answers`, AnswersAccepted, { approveAll: true, ...(by ? { answeredBy: by } : {}) });
          out.line(`  ${s.green('✓')} ${r.data.requestIds.length} answer${r.data.requestIds.length === 1 ? '' : 's'} sent for batch ${shortId(batch.id)}`);
          return 'batch';
        } catch (err) {
          if (!(err instanceof ApiRequestError) || err.status >= 500) throw err;
          out.raw(`  ${s.red(`✗ ${err.message}`)} ${s.dim(`(${err.code})`)}\n${promptText(d, s)}`);
          continue;
        }
      }
      case 'answer':
        out.line(action.choice);
        try {
          await answerOne(client, d, action.choice, by);
          out.line(`  ${s.green('✓')} answered ${s.bold(action.choice)}`);
          done.add(d.id);
          return 'answered';
        } catch (err) {
          if (err instanceof ApiRequestError && err.code === 'decision_closed') {
            out.line(`  ${s.yellow('already closed:')} ${err.message}`);
            done.add(d.id);
            return 'skipped';
          }
          if (!(err instanceof ApiRequestError) || err.status >= 500) throw err;
          out.raw(`  ${s.red(`✗ ${err.message}`)} ${s.dim(`(${err.code})`)}\n${promptText(d, s)}`);
          continue;
        }
    }
  }
}

export interface AnswerOptions {
  json?: boolean;
  by?: string;
  batch?: string;
  all?: boolean;
}

/** steward answer <decisionId> <choice>: the choice is an option id, its number (1-based), or `approve`. */
export async function answer(ctx: Ctx, decisionId: string | undefined, choiceArg: string | undefined, o: AnswerOptions): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  if (o.batch !== undefined) {
    if (!o.all) throw new CliError('--batch needs --all (approve every proposal in the batch)', EXIT.usage);
    if (decisionId !== undefined) throw new CliError('give either a decision id and a choice, or --batch <id> --all', EXIT.usage);
    const r = await client.post(`/v1/escalations/batches/${encodeURIComponent(o.batch)}/answers`, AnswersAccepted, { approveAll: true, ...(o.by ? { answeredBy: o.by } : {}) });
    if (out.json) return out.data({ batchId: o.batch, ...r.data });
    return out.line(`${out.style.green('✓')} approved batch ${o.batch}: ${r.data.requestIds.length} answer${r.data.requestIds.length === 1 ? '' : 's'} sent`);
  }
  if (decisionId === undefined || choiceArg === undefined) throw new CliError('usage: steward answer <decisionId> <choice>  (or --batch <id> --all)', EXIT.usage);
  const d = await client.get(`/v1/decisions/${encodeURIComponent(decisionId)}`, Decision);
  const choice = resolveChoice(d, choiceArg);
  const r = await client.post(`/v1/decisions/${encodeURIComponent(d.id)}/answer`, AnswersAccepted, { choice, ...(o.by ? { answeredBy: o.by } : {}) });
  if (out.json) return out.data({ decisionId: d.id, choice, ...r.data });
  out.line(`${out.style.green('✓')} answered ${out.style.bold(choice)} for ${d.type} (decision ${d.id})`);
}

export function resolveChoice(d: Decision, arg: string): string {
  if (d.options.some((o) => o.id === arg)) return arg;
  if (/^[1-9][0-9]*$/.test(arg)) {
    const o = d.options[Number(arg) - 1];
    if (o) return o.id;
  }
  if (arg === 'approve' || arg === 'proposal') {
    const c = approvalOf(d);
    if (c !== undefined) return c;
    throw new CliError(`decision ${d.id} has no proposal to approve; choose one of: ${d.options.map((x) => x.id).join(', ')}`, EXIT.usage);
  }
  throw new CliError(`"${arg}" is not an option of decision ${d.id}; choose one of: ${d.options.map((x, i) => `${x.id} (${i + 1})`).join(', ')}`, EXIT.usage);
}
