// Lists the dead letters of the STEWARD_DLQ stream and replays them: each one's original message is published again
// on its original subject, for the consumers to take it once more, and the dead letter is then deleted.
//
//   node --conditions=development --import tsx scripts/replay-dead-letters.ts [options]
//
// Replaying is safe because consumers are idempotent (rule 3 of DESIGN.md): a consumer that already handled the
// event recognises its id in its inbox and skips it. A replayed event of the audit stream is appended to it again (same
// envelope id). Fix the cause first (deploy the fix, restore the missing row), then replay.
import { Bus, type DeadLetter } from '@steward/bus';
import { deadLetterSubject, type Envelope } from '@steward/contracts';
import { parseArgs } from 'node:util';

const USAGE = `usage: replay-dead-letters [--consumer <durable>] [--reason <prefix>] [--seq <n>[,<n>…]] [--since <ISO time>]
                           [--limit <n>] [--execute [--keep] [--force]] [--json]
  Without --execute it only lists the dead letters that match (nothing changes).
  --consumer   only this durable consumer's dead letters (e.g. orchestrator-task-submitted, skill-worker)
  --reason     only reasons starting with this (max-deliveries, permanent, permanent:<code>, unknown-type, …)
  --seq        only these sequence numbers of the dead-letter stream
  --since      only dead letters written at or after this time
  --limit      at most this many
  --execute    publish each original message again on its original subject, then delete the dead letter
  --keep       with --execute: keep the dead letters
  --force      with --execute: also replay messages that were malformed (not-json, bad-envelope, bad-data,
               wrong-subject); they will be dead-lettered again unless the consumer changed
  --json       one JSON object per line
Environment: NATS_URL (default nats://127.0.0.1:4222) and NATS_NAMESPACE (default empty), as for the services.`;

/** Reasons that describe the message itself: replaying it unchanged cannot succeed. */
const MALFORMED = new Set(['not-json', 'bad-envelope', 'bad-data', 'wrong-subject']);

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

const { values: opts } = (() => {
  try {
    return parseArgs({
      options: {
        consumer: { type: 'string' },
        reason: { type: 'string' },
        seq: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        execute: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
})();
if (opts.help) fail(USAGE, 0);
const seqs = opts.seq === undefined ? undefined : new Set(opts.seq.split(',').map((s) => Number(s.trim())));
if (seqs && [...seqs].some((n) => !Number.isInteger(n) || n < 1)) fail(`--seq takes positive integers\n${USAGE}`);
const since = opts.since === undefined ? undefined : Date.parse(opts.since);
if (since !== undefined && Number.isNaN(since)) fail(`--since takes a time such as 2026-12-02T10:00:00Z\n${USAGE}`);
const limit = opts.limit === undefined ? Infinity : Number(opts.limit);
if (!(limit >= 1)) fail(`--limit takes a positive number\n${USAGE}`);
if ((opts.keep || opts.force) && !opts.execute) fail(`--keep and --force go with --execute\n${USAGE}`);

const servers = process.env['NATS_URL'] || 'nats://127.0.0.1:4222';
const bus = await Bus.connect({ servers, name: 'replay-dead-letters', namespace: process.env['NATS_NAMESPACE'] ?? '' }).catch((err: unknown) =>
  fail(`cannot connect to NATS at ${servers}: ${(err as Error).message}`, 1),
);
const stream = bus.streamName('deadLetters');
const filter = bus.wireSubject(opts.consumer ? deadLetterSubject(opts.consumer) : deadLetterSubject('>'));

interface Found {
  seq: number;
  letter: DeadLetter;
}

/** The dead letters that match, in stream order (one lookup per message: next message on the filter from a sequence). */
async function find(): Promise<Found[]> {
  const info = await bus.jsm.streams.info(stream).catch(() => fail(`no stream ${stream} on ${servers}: check NATS_URL and NATS_NAMESPACE`, 1));
  const out: Found[] = [];
  let seq = info.state.first_seq;
  while (out.length < limit && seq <= info.state.last_seq) {
    // `next_by_subj` is part of the server's STREAM.MSG.GET API (2.9+); the client's type omits it.
    const m = await bus.jsm.streams.getMessage(stream, { seq, next_by_subj: filter } as unknown as { seq: number });
    if (!m) break;
    seq = m.seq + 1;
    let letter: DeadLetter;
    try {
      letter = m.json<DeadLetter>();
    } catch {
      console.error(`#${m.seq}: not a dead-letter record; skipped`);
      continue;
    }
    if (seqs && !seqs.has(m.seq)) continue;
    if (opts.reason && !letter.reason.startsWith(opts.reason)) continue;
    if (since !== undefined && Date.parse(letter.deadLetteredAt) < since) continue;
    out.push({ seq: m.seq, letter });
  }
  return out;
}

function show(f: Found, outcome?: string): void {
  const { letter: l } = f;
  if (opts.json) {
    const { payload, ...rest } = l;
    console.log(JSON.stringify({ seq: f.seq, ...rest, payloadBytes: payload.length, ...(outcome ? { outcome } : {}) }));
  } else {
    console.log(`#${f.seq} ${l.deadLetteredAt} ${l.consumer} ${l.reason} ${bus.catalogueSubject(l.subject)} (delivered ${l.deliveryCount}×): ${l.error}${outcome ? ` → ${outcome}` : ''}`);
  }
}

let failed = 0;
try {
  const found = await find();
  if (!opts.execute) {
    for (const f of found) show(f);
    if (!opts.json) console.log(`${found.length} dead letter(s) in ${stream}${opts.consumer ? ` of ${opts.consumer}` : ''}; add --execute to replay them`);
  } else {
    let replayed = 0;
    for (const f of found) {
      if (MALFORMED.has(f.letter.reason) && !opts.force) {
        show(f, 'skipped (malformed message; --force to replay anyway)');
        continue;
      }
      try {
        let traceparent: string | undefined;
        try {
          traceparent = (JSON.parse(f.letter.payload) as Partial<Envelope>).traceparent;
        } catch {
          // a malformed payload (--force) carries no trace context
        }
        // A Nats-Msg-Id of its own: JetStream would drop the original id inside its duplicate window, and a replay
        // run twice in a row publishes once.
        const r = await bus.publishRaw({ subject: bus.catalogueSubject(f.letter.subject), payload: f.letter.payload, msgId: `replay:${stream}:${f.seq}`, ...(traceparent ? { headers: { traceparent } } : {}) });
        if (!opts.keep) await bus.jsm.streams.deleteMessage(stream, f.seq);
        replayed++;
        show(f, `${r.duplicate ? 'already replayed' : 'replayed'} to ${r.stream}${opts.keep ? '' : '; dead letter deleted'}`);
      } catch (err) {
        failed++;
        show(f, `failed: ${(err as Error).message}`);
      }
    }
    if (!opts.json) console.log(`${replayed} replayed, ${found.length - replayed - failed} skipped, ${failed} failed`);
  }
} finally {
  await bus.close();
}
process.exit(failed > 0 ? 1 : 0);
