// steward submit <skill-or-workflow>: POST /v1/tasks with the input from flags or a file, then optionally watch it.
import { ApiRequestError } from '../api/client.js';
import { Submitted } from '../api/schemas.js';
import type { Ctx } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { buildInput, type InputFlags } from '../input.js';
import { followTask, printFinal, type WatchOptions } from './watch.js';

export interface SubmitOptions extends InputFlags, WatchOptions {
  workflow?: boolean;
  skill?: boolean;
  version?: number;
  idempotencyKey?: string;
  session?: string;
  watch?: boolean;
}

export async function submit(ctx: Ctx, target: string, o: SubmitOptions): Promise<void> {
  if (o.workflow && o.skill) throw new CliError('--skill and --workflow exclude each other', EXIT.usage);
  if (o.version !== undefined && o.skill) throw new CliError('--version applies to workflows only', EXIT.usage);
  const input = await buildInput(o);
  const out = ctx.out(o.json);
  const client = await ctx.client();

  // Neither flag: a skill if the catalogue has one of that name, a workflow otherwise. The gateway checks the
  // target before it writes anything (or records the Idempotency-Key), so asking it as a skill first is harmless,
  // and needs only the submit scope.
  const guessed = !o.workflow && !o.skill && o.version === undefined;
  let kind: 'skill' | 'workflow' = o.workflow || o.version !== undefined ? 'workflow' : 'skill';
  const post = (k: 'skill' | 'workflow') =>
    client.post('/v1/tasks', Submitted, { [k]: target, input, ...(o.version !== undefined ? { version: o.version } : {}), ...(o.session ? { sessionId: o.session } : {}) }, o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined);
  let res;
  try {
    res = await post(kind);
  } catch (err) {
    if (!(guessed && err instanceof ApiRequestError && err.code === 'unknown_skill')) throw err;
    kind = 'workflow';
    try {
      res = await post(kind);
    } catch (err2) {
      if (err2 instanceof ApiRequestError && err2.code === 'unknown_workflow') {
        throw new CliError(`there is no skill or workflow named "${target}"`, EXIT.failed, 'see `steward skills list` and `steward workflows list`');
      }
      throw err2;
    }
  }
  const { taskId } = res.data;
  const replayed = res.headers.get('idempotent-replayed') === 'true';

  if (!o.watch) {
    if (out.json) out.data({ taskId, kind, target, replayed });
    else {
      out.line(`${out.style.green('✓')} submitted ${kind} ${out.style.bold(target)}: task ${taskId}${replayed ? ' (replayed: this Idempotency-Key already made it)' : ''}`);
      out.line(out.style.dim(`  follow it with: steward watch ${taskId}`));
    }
    return;
  }
  if (!out.json) out.note(`submitted ${kind} ${target}: task ${taskId}${replayed ? ' (replayed)' : ''}`);
  const task = await followTask(ctx, client, taskId, out, o);
  await printFinal(ctx, out, task);
}
