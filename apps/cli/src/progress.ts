// A task's progress for `steward watch`: steps done out of steps known, what is running or waiting, what is parked.
import type { Run, Task } from './api/schemas.js';
import { eventName, formatDuration, taskError, taskTarget, truncate } from './format.js';
import { NO_COLOURS, stripAnsi, type Style } from './output.js';

export interface Progress {
  status: Task['status'];
  target: string;
  kind: Task['kind'];
  /** Steps completed or skipped, over every step run of the task's runs (child runs and for_each elements count). */
  done: number;
  total: number;
  /** Steps under way: `shout (running)`, `decide (waiting for decision)`. */
  current: string[];
  parked: string[];
  /** The type of the last event seen on the live stream, if any. */
  lastEvent?: string;
}

const DONE = new Set(['completed', 'skipped']);
const ACTIVE = new Set(['scheduled', 'running', 'waiting']);

export function computeProgress(task: Task, runs: readonly Run[], lastEvent?: string): Progress {
  let done = 0;
  let total = 0;
  const current: string[] = [];
  const parked: string[] = [];
  const rootId = runs.find((r) => r.parentRunId === undefined)?.id;
  for (const run of runs) {
    const prefix = run.id === rootId ? '' : `${run.workflow.name}/`;
    for (const s of run.steps) {
      total++;
      if (DONE.has(s.status)) done++;
      else if (ACTIVE.has(s.status)) current.push(`${prefix}${s.stepPath} (${s.status === 'waiting' && s.waitFor ? `waiting for ${s.waitFor.replace('_', ' ')}` : s.status}${s.attempt > 1 ? `, attempt ${s.attempt}` : ''})`);
      else if (s.status === 'parked') {
        const code = (s.error as { code?: unknown } | undefined)?.code;
        parked.push(`${prefix}${s.stepPath}${typeof code === 'string' ? ` (${code})` : ''}`);
      }
    }
  }
  return { status: task.status, target: taskTarget(task), kind: task.kind, done, total, current, parked, ...(lastEvent ? { lastEvent: eventName(lastEvent) } : {}) };
}

export function bar(done: number, total: number, width = 12): string {
  if (total <= 0) return `[${'·'.repeat(width)}]`;
  const filled = Math.round((Math.min(done, total) / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The redrawn line on a terminal (fits `width`, so it never wraps). */
export function progressLine(p: Progress, elapsedMs: number, frame: number, width: number, style: Style = NO_COLOURS): string {
  const spin = p.status === 'pending' || p.status === 'running' ? SPINNER[frame % SPINNER.length]! : ' ';
  const parts = [style.cyan(spin), style.bold(p.target), p.status];
  if (p.kind === 'workflow' && p.total > 0) parts.push(`${bar(p.done, p.total)} ${p.done}/${p.total} steps`);
  parts.push(formatDuration(elapsedMs));
  const head = parts.join('  ');
  const tail = p.parked.length ? `parked: ${p.parked.join(', ')}` : p.current.length ? p.current.join(', ') : (p.lastEvent ?? '');
  const room = width - 1 - visible(head) - 2;
  if (!tail || room <= 8) return truncateVisible(head, width - 1);
  const t = truncate(tail, room);
  return `${head}  ${p.parked.length ? style.red(t) : t}`;
}

/** The plain line for logs (no terminal): printed when it changes, with the time since the task was created. */
export function progressText(p: Progress): string {
  const parts: string[] = [p.status];
  if (p.kind === 'workflow' && p.total > 0) parts.push(`${p.done}/${p.total} steps`);
  if (p.parked.length) parts.push(`parked: ${p.parked.join(', ')}`);
  else if (p.current.length) parts.push(p.current.join(', '));
  return parts.join(' · ');
}

/** The closing lines once the task is final. */
export function finalLines(task: Task, elapsedMs: number, style: Style = NO_COLOURS): string[] {
  const head = `${task.status === 'completed' ? style.green('✓') : style.red('✗')} ${style.bold(taskTarget(task))} ${task.status} in ${formatDuration(elapsedMs)}  ${style.dim(task.taskId)}`;
  const lines = [head];
  if (task.output !== undefined) lines.push(`  output: ${JSON.stringify(task.output, null, 2).split('\n').join('\n  ')}`);
  const err = taskError(task);
  if (err) lines.push(`  ${style.red(`error: ${err.code}: ${err.message}`)}${err.retryable ? ' (retryable)' : ''}`);
  return lines;
}

const visible = (s: string): number => stripAnsi(s).length;

function truncateVisible(s: string, max: number): string {
  return visible(s) <= max ? s : truncate(stripAnsi(s), max);
}
