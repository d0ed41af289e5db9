// Where a command writes: results to stdout (JSON with --json), messages and errors to stderr; colour only on a
// terminal that wants it.

export interface OutStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** Everything a command touches outside itself, so tests can give it their own. */
export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface Style {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  cyan: (s: string) => string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** The text without colour escapes. */
export const stripAnsi = (s: string): string => s.replace(ANSI, '');

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string): string => s;

export const COLOURS: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
export const NO_COLOURS: Style = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };

export function wantsColour(stream: OutStream, env: Io['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export class Out {
  readonly style: Style;
  readonly errStyle: Style;

  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {
    this.style = wantsColour(io.stdout, io.env) ? COLOURS : NO_COLOURS;
    this.errStyle = wantsColour(io.stderr, io.env) ? COLOURS : NO_COLOURS;
  }

  get tty(): boolean {
    return this.io.stdout.isTTY === true;
  }

  /** The terminal's width (lines are cut to fit it); unlimited when stdout is not a terminal (a pipe gets it all). */
  get columns(): number {
    if (!this.tty) return Infinity;
    return this.io.stdout.columns && this.io.stdout.columns > 20 ? this.io.stdout.columns : 80;
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** One JSON document (pretty) or, with `compact`, one line (NDJSON). */
  data(value: unknown, compact = false): void {
    this.io.stdout.write(`${compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
  }

  /** A message for the person (stderr, so stdout stays the result). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  raw(text: string): void {
    this.io.stdout.write(text);
  }
}
