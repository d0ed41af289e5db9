import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KeyReader, splitKeys, type KeySplitState } from './keys.js';

describe('splitKeys', () => {
  it('makes one key of each character, and one Enter of CR, LF or CRLF (also across chunks)', () => {
    const st: KeySplitState = { lastWasCR: false };
    expect(splitKeys('a1\r\nq', st)).toEqual([{ name: 'char', char: 'a' }, { name: 'char', char: '1' }, { name: 'enter' }, { name: 'char', char: 'q' }]);
    expect(splitKeys('\r', st)).toEqual([{ name: 'enter' }]);
    expect(splitKeys('\ns', st)).toEqual([{ name: 'char', char: 's' }]);
    expect(splitKeys('\n\n', st)).toEqual([{ name: 'enter' }, { name: 'enter' }]);
  });

  it('knows Ctrl-C, Ctrl-D, Escape and escape sequences', () => {
    const st: KeySplitState = { lastWasCR: false };
    expect(splitKeys('\x03', st)).toEqual([{ name: 'interrupt' }]);
    expect(splitKeys('\x04', st)).toEqual([{ name: 'eof' }]);
    expect(splitKeys('\x1b', st)).toEqual([{ name: 'escape' }]);
    expect(splitKeys('\x1b[Aa', st)).toEqual([{ name: 'other', sequence: '\x1b[A' }, { name: 'char', char: 'a' }]);
    expect(splitKeys('\x1b[15~', st)).toEqual([{ name: 'other', sequence: '\x1b[15~' }]);
  });
});

describe('KeyReader', () => {
  it('reads keys written to a pipe one at a time, then eof when it ends', async () => {
    const stdin = new PassThrough();
    const keys = new KeyReader(stdin);
    keys.start();
    const first = keys.next();
    stdin.write('a');
    expect(await first).toEqual({ name: 'char', char: 'a' });
    stdin.write('2\n');
    expect(await keys.next()).toEqual({ name: 'char', char: '2' });
    expect(await keys.next()).toEqual({ name: 'enter' });
    stdin.end();
    expect(await keys.next()).toEqual({ name: 'eof' });
    expect(await keys.next()).toEqual({ name: 'eof' });
    keys.close();
  });
});

describe('KeyReader.nextUnless', () => {
  it('gives up when its signal aborts, and the next key still arrives afterwards', async () => {
    const stdin = new PassThrough();
    const keys = new KeyReader(stdin);
    keys.start();
    const abort = new AbortController();
    const waiting = keys.nextUnless(abort.signal);
    abort.abort();
    expect(await waiting).toBeUndefined();
    stdin.write('q');
    expect(await keys.next()).toEqual({ name: 'char', char: 'q' });
    keys.close();
  });
});
