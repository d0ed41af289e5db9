// Human output: durations, times, tables, tasks, events. Pure functions (tested in format.test.ts).
import type { CloudEvent, Task, TaskError } from './api/schemas.js';
import { NO_COLOURS, stripAnsi, type Style } from './output.js';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const m = Math.floor(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(m / 1440)}d ${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}h`;
}

/** "12s ago", "in 4m", "just now". */
export function formatRelative(iso: string | undefined, now: number): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = now - t;
  const a = Math.abs(d);
  if (a < 2000) return 'just now';
  const unit = a < 60_000 ? `${Math.floor(a / 1000)}s` : a < 3_600_000 ? `${Math.floor(a / 60_000)}m` : a < 172_800_000 ? `${Math.floor(a / 3_600_000)}h` : `${Math.floor(a / 86_400_000)}d`;
  return d >= 0 ? `${unit} ago` : `in ${unit}`;
}

/** The visible length of a string (without colour escapes). */
export const visibleLength = (s: string): number => stripAnsi(s).length;

export function truncate(s: string, max: number): string {
  if (max <= 0) return '';
  const flat = s.replace(/\s*\n\s*/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Word-wraps `text` into lines of at most `width` columns of text; lines after the first start with `indent` (which
 * stands where the first line's own prefix was). A word longer than the width is cut.
 */
export function wrap(text: string, width: number, indent = ''): string {
  return wrapWords(text.trim().split(/\s+/), width, indent, ' ');
}

/** Joins `words` with `sep`, in lines of at most `width` columns of text; lines after the first start with `indent`. */
export function wrapWords(words: readonly string[], width: number, indent = '', sep = ' '): string {
  if (!Number.isFinite(width)) return words.join(sep);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const room = Math.max(10, width);
    if (line && line.length + sep.length + word.length > room) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line}${sep}${word}` : word.length > room ? truncate(word, room) : word;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

export const shortId = (id: string): string => (/^[0-9a-f]{8}-/.test(id) ? id.slice(0, 8) : id);

export function compactJson(v: unknown, max = 200): string {
  if (v === undefined) return '';
  let s: string;
  try {
    s = JSON.stringify(v) ?? typeof v;
  } catch {
    s = '(not JSON)';
  }
  return truncate(s, max);
}

/**
 * Columns padded to their widest cell; the last column is cut to fit `width`. Cells may carry colour (padding
 * counts visible characters).
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], width = 100, style: Style = NO_COLOURS): string[] {
  const all = [headers, ...rows];
  const n = headers.length;
  const widths = Array.from({ length: n }, (_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  const lastMax = Math.max(10, width - fixed);
  const render = (r: readonly string[], head: boolean): string =>
    r
      .map((cell, i) => {
        const text = i === n - 1 ? (visibleLength(cell) > lastMax ? truncate(cell, lastMax) : cell) : cell + ' '.repeat(Math.max(0, widths[i]! - visibleLength(cell)));
        return head ? style.bold(text) : text;
      })
      .join('  ')
      .trimEnd();
  return [render(headers, true), ...rows.map((r) => render(r, false))];
}

export function statusColour(status: string, style: Style): string {
  switch (status) {
    case 'completed':
    case 'answered':
    case 'resolved':
      return style.green(status);
    case 'failed':
    case 'cancelled':
    case 'parked':
    case 'expired':
      return style.red(status);
    case 'running':
    case 'scheduled':
    case 'waiting':
    case 'escalated':
    case 'sent':
      return style.yellow(status);
    default:
      return status;
  }
}

export function taskTarget(t: Pick<Task, 'kind' | 'skill' | 'workflow'>): string {
  if (t.kind === 'workflow' && t.workflow) return `${t.workflow.name}@${t.workflow.version}`;
  return t.skill ?? t.workflow?.name ?? t.kind;
}

export function taskError(t: Task): TaskError | undefined {
  const e = t.error as Partial<TaskError> | undefined;
  return e && typeof e.code === 'string' ? { code: e.code, message: String(e.message ?? ''), ...(e.retryable !== undefined ? { retryable: e.retryable } : {}), ...(e.details !== undefined ? { details: e.details } : {}) } : undefined;
}

export function taskDurationMs(t: Pick<Task, 'createdAt' | 'startedAt' | 'completedAt'>, now: number): number {
  const start = Date.parse(t.startedAt ?? t.createdAt);
  const end = t.completedAt ? Date.parse(t.completedAt) : now;
  return Math.max(0, end - start);
}

/** A task as a few labelled lines, with its output (or error) as indented JSON. */
export function formatTask(t: Task, now: number, style: Style = NO_COLOURS): string[] {
  const lines = [
    `${style.bold('Task')}     ${t.taskId}`,
    `${style.bold('Target')}   ${t.kind} ${taskTarget(t)}`,
    `${style.bold('Status')}   ${statusColour(t.status, style)}${t.completedAt || t.startedAt ? ` after ${formatDuration(taskDurationMs(t, now))}` : ''}`,
    `${style.bold('Created')}  ${t.createdAt} (${formatRelative(t.createdAt, now)})`,
  ];
  if (t.sessionId) lines.push(`${style.bold('Session')}  ${t.sessionId}`);
  lines.push(`${style.bold('Input')}    ${indentJson(t.input)}`);
  if (t.output !== undefined) lines.push(`${style.bold('Output')}   ${indentJson(t.output)}`);
  const err = taskError(t);
  if (err) lines.push(`${style.bold('Error')}    ${style.red(`${err.code}: ${err.message}`)}${err.retryable ? ' (retryable)' : ''}`);
  else if (t.error !== undefined) lines.push(`${style.bold('Error')}    ${indentJson(t.error)}`);
  return lines;
}

export function indentJson(v: unknown, pad = '         '): string {
  return JSON.stringify(v, null, 2)?.split('\n').join(`\n${pad}`) ?? String(v);
}

// ---- events ----

/** `steward.step.run.completed.v1` → `step.run.completed`. */
export const eventName = (type: string): string => type.replace(/^steward\./, '').replace(/\.v\d+$/, '');

type Data = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/** The few fields of an event's data worth a glance, by type. */
export function summariseEvent(e: Pick<CloudEvent, 'type' | 'data'>): string {
  const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Data;
  const name = eventName(e.type);
  const parts: string[] = [];
  const add = (label: string, v: unknown): void => {
    const s = str(v);
    if (s !== undefined) parts.push(label ? `${label}=${s}` : s);
  };
  const err = d.error as Data | undefined;
  if (name.startsWith('step.run.')) {
    add('', d.stepPath);
    if (typeof d.attempt === 'number' && d.attempt > 1) add('attempt', d.attempt);
    add('for', d.for);
    add('reason', d.reason);
  } else if (name.startsWith('workflow.run.')) {
    const wf = str(d.workflow);
    if (wf) parts.push(d.version !== undefined ? `${wf}@${str(d.version)}` : wf);
    add('step', d.stepPath);
    add('action', d.action);
    add('reason', d.reason);
  } else if (name === 'task.submitted') {
    const target = (d.target ?? d) as Data;
    add('skill', target.skill);
    add('workflow', target.workflow);
  } else if (name.startsWith('task.')) {
    add('reason', d.reason);
  } else if (name.startsWith('decision.') || name.startsWith('escalation.')) {
    add('type', d.type);
    add('proposal', d.proposal);
    add('choice', d.choice);
    add('by', d.resolvedBy);
    add('trigger', d.trigger);
    add('batch', typeof d.batchId === 'string' ? shortId(d.batchId) : undefined);
  } else if (name.startsWith('skill.invocation.')) {
    add('', d.skill);
    add('attempt', d.attempt);
    add('worker', d.worker);
  } else if (name === 'external.event') {
    add('', d.name);
    add('key', d.key);
  }
  if (err && typeof err === 'object') parts.push(`error=${str(err.code) ?? '?'}${err.message ? ` (${truncate(str(err.message) ?? '', 80)})` : ''}`);
  return parts.join(' ');
}

export interface EventLine {
  seq?: number | string;
  event: CloudEvent;
}

export function formatEventLine({ seq, event }: EventLine, style: Style = NO_COLOURS): string {
  const time = event.time ? event.time.replace(/^\d{4}-\d{2}-\d{2}T/, '').replace(/Z$/, '') : '';
  const name = eventName(event.type);
  const tint = /failed|cancel|parked|dead/.test(name) ? style.red : /completed|resolved|answered/.test(name) ? style.green : /escalated|batch/.test(name) ? style.yellow : (s: string) => s;
  const task = event.correlationid ? style.dim(`task ${shortId(event.correlationid)}`) : '';
  return [seq !== undefined ? style.dim(`#${seq}`) : '', style.dim(time), tint(name.padEnd(26)), task, summariseEvent(event)].filter((s) => s !== '').join('  ');
}
