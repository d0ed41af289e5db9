// pnpm eval:escalation --decisions <file.jsonl> --policy <policy.json> [--mode risk|budget] [--json] …
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DecisionInput, PolicyMode } from '../schemas.js';
import { SimPolicy } from './policy.js';
import { DEFAULT_RUN_OPTIONS, EvalRunner, formatReport } from './runner.js';

const USAGE = 'usage: pnpm eval:escalation --decisions <file.jsonl> --policy <policy.json> [--mode risk|budget] [--alpha 0.02] [--delta 0.05] [--budget 0.05] [--batch-size 5] [--batch-minutes 2] [--decision-minutes 0.5] [--audit-rate 0.03] [--seed N] [--json]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      decisions: { type: 'string' },
      policy: { type: 'string' },
      mode: { type: 'string', default: 'risk' },
      alpha: { type: 'string' },
      delta: { type: 'string' },
      budget: { type: 'string' },
      'batch-size': { type: 'string' },
      'batch-minutes': { type: 'string' },
      'decision-minutes': { type: 'string' },
      'audit-rate': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.decisions || !values.policy) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const num = (v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new Error(`not a number: ${v}`);
    return x;
  };
  const policy = SimPolicy.parse(JSON.parse(readFileSync(values.policy, 'utf8')));
  const d = DEFAULT_RUN_OPTIONS;
  const runner = new EvalRunner(
    policy,
    {
      ...d,
      mode: PolicyMode.parse(values.mode),
      alpha: num(values.alpha, d.alpha),
      delta: num(values.delta, d.delta),
      budget: num(values.budget, d.budget),
      batchSize: num(values['batch-size'], d.batchSize),
      batchMinutes: num(values['batch-minutes'], d.batchMinutes),
      decisionMinutes: num(values['decision-minutes'], d.decisionMinutes),
      auditRate: num(values['audit-rate'], d.auditRate),
      seed: num(values.seed, d.seed),
    },
    values.json ? undefined : (line) => console.log(line),
  );
  const lines = createInterface({ input: createReadStream(values.decisions), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    const parsed = DecisionInput.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${values.decisions}:${lineNo}: ${parsed.error.message}`);
    runner.step(parsed.data);
  }
  const report = runner.finish();
  if (values.json) console.log(JSON.stringify(report));
  else console.log(`\n${formatReport(report)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
