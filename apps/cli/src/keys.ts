// One key at a time from stdin: raw mode on a terminal; from a pipe, each character written is a key (so a
// program or a test can drive `steward inbox` by writing to its stdin).
import type { InStream } from './output.js';

export type Key = { name: 'char'; char: string } | { name: 'enter' } | { name: 'escape' } | { name: 'interrupt' } | { name: 'eof' } | { name: 'other'; sequence: string };

export interface KeySplitState {
  lastWasCR: boolean;
}

/** Splits a chunk of input into keys: CR, LF and CRLF are one Enter; escape sequences (arrows, …) are one key. */
export function splitKeys(chunk: string, state: KeySplitState): Key[] {
  const keys: Key[] = [];
  const chars = [...chunk];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const afterCR = state.lastWasCR;
    state.lastWasCR = c === '\r';
    if (c === '\n' && afterCR) continue;
    if (c === '\r' || c === '\n') keys.push({ name: 'enter' });
    else if (c === '\x03') keys.push({ name: 'interrupt' });
    else if (c === '\x04') keys.push({ name: 'eof' });
    else if (c === '\x1b') {
      const next = chars[i + 1];
      if (next === '[' || next === 'O') {
        let j = i + 2;
        while (j < chars.length && !/[A-Za-z~]/.test(chars[j]!)) j++;
        keys.push({ name: 'other', sequence: chars.slice(i, j + 1).join('') });
        i = j;
      } else keys.push({ name: 'escape' });
    } else if (c < ' ' || c === '\x7f') keys.push({ name: 'other', sequence: c });
    else keys.push({ name: 'char', char: c });
  }
  return keys;
}

export class KeyReader {
  private readonly queue: Key[] = [];
  private waiting: ((k: Key) => void) | undefined;
  private readonly state: KeySplitState = { lastWasCR: false };
  private ended = false;
  private rawSet = false;
  private readonly onData = (chunk: string | Buffer): void => {
    for (const k of splitKeys(typeof chunk === 'string' ? chunk : chunk.toString('utf8'), this.state)) this.push(k);
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.push({ name: 'eof' });
  };

  constructor(private readonly stdin: InStream) {}

  get isTerminal(): boolean {
    return this.stdin.isTTY === true;
  }

  start(): void {
    if (this.stdin.isTTY && typeof this.stdin.setRawMode === 'function') {
      this.stdin.setRawMode(true);
      this.rawSet = true;
    }
    this.stdin.setEncoding('utf8');
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.resume();
  }

  /** The next key; `eof` once the input has ended (and for every call after). */
  next(): Promise<Key> {
    const k = this.queue.shift();
    if (k) return Promise.resolve(k);
    if (this.ended) return Promise.resolve({ name: 'eof' });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Like next(), but gives up when `signal` aborts (undefined; a key typed later stays queued). */
  nextUnless(signal: AbortSignal): Promise<Key | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    const k = this.queue.shift();
    if (k) return Promise.resolve(k);
    if (this.ended) return Promise.resolve({ name: 'eof' });
    return new Promise((resolve) => {
      const waiter = (key: Key): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(key);
      };
      const onAbort = (): void => {
        if (this.waiting === waiter) this.waiting = undefined;
        resolve(undefined);
      };
      this.waiting = waiter;
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Forgets keys typed ahead on a terminal (a stray key must not answer the next question); a pipe keeps them. */
  discardTypeAhead(): void {
    if (this.isTerminal) this.queue.length = 0;
  }

  close(): void {
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    if (this.rawSet) this.stdin.setRawMode?.(false);
    this.stdin.pause();
  }

  private push(k: Key): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(k);
    } else this.queue.push(k);
  }
}
