// steward submit <skill-or-workflow>: POST /v1/tasks with the input from flags or a file, then optionally watch it.
import { ApiRequestError } from '../api/client.js';
import { Skill, Submitted } from '../api/schemas.js';
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

  // Neither flag: a skill of that name if the catalogue has one, a workflow otherwise.
  let kind: 'skill' | 'workflow' = o.workflow || o.version !== undefined ? 'workflow' : 'skill';
  const guessed = !o.workflow && !o.skill && o.version === undefined;
  if (guessed) {
    try {
      await client.get(`/v1/skills/${encodeURIComponent(target)}`, Skill);
    } catch (err) {
      if (!(err instanceof ApiRequestError && (err.status === 404 || err.status === 400))) throw err;
      kind = 'workflow';
    }
  }
  const body = { [kind]: target, input, ...(o.version !== undefined ? { version: o.version } : {}), ...(o.session ? { sessionId: o.session } : {}) };
  let res;
  try {
    res = await client.post('/v1/tasks', Submitted, body, o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined);
  } catch (err) {
    if (guessed && err instanceof ApiRequestError && err.code === 'unknown_workflow') {
      throw new CliError(`there is no skill or workflow named "${target}"`, EXIT.failed, 'see `steward skills list` and `steward workflows list`');
    }
    throw err;
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
