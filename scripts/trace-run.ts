// Prints every NATS message (events, skill invocations, acks) seen while one bench.three-step task runs, with its
// time since submit: where one step's milliseconds go. Needs the stack (scripts/up.sh) and STEWARD_API_KEY.
//   node --conditions=development --import tsx scripts/trace-run.ts [--n=5]
import { connect } from '@nats-io/transport-node';
import { request } from 'undici';
const key = process.env.STEWARD_API_KEY ?? '';
const url = process.env.STEWARD_URL ?? 'http://127.0.0.1:8080';
const n = Number(process.argv.find((a) => a.startsWith('--n='))?.slice(4) ?? 5);
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const log: { t: number; line: string }[] = [];
const sub = nc.subscribe('>');
void (async () => {
  for await (const m of sub) {
    let label = m.subject;
    if (m.subject.startsWith('$JS.ACK')) label = `ACK ${m.subject.split('.').slice(2, 4).join('.')} ${new TextDecoder().decode(m.data).slice(0, 12)}`;
    else if (m.subject.startsWith('$JS.API')) label = `API ${m.subject.slice(8, 60)}`;
    else if (m.subject.startsWith('_INBOX')) label = `inbox ${m.data.length}B`;
    else {
      try { const e = m.json<{ type?: string }>(); if (e.type) label = `${m.subject.slice(0, 40)} ${e.type}`; } catch { /* not JSON */ }
    }
    log.push({ t: performance.now(), line: label });
  }
})();
for (let i = 0; i < n; i++) {
  log.length = 0;
  const t0 = performance.now();
  const res = await request(`${url}/v1/tasks`, { method: 'POST', body: JSON.stringify({ workflow: 'bench.three-step', input: { ok: true, i } }), headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
  await res.body.text();
  await new Promise((r) => setTimeout(r, 300));
  if (i < n - 1 && n > 1 && i !== n - 2) continue;
  for (const { t, line } of log) if (!line.startsWith('inbox')) console.log(`${(t - t0).toFixed(2).padStart(8)}  ${line}`);
  console.log('---');
}
await nc.close();
