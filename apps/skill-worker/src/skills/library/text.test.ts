import { describe, expect, it } from 'vitest';
import { lines, regexExtract, replace, slugifySkill, truncate, wordcount } from './text.js';
import { call } from './test-helpers.js';

describe('text skills', () => {
  it('text.wordcount counts words, lines, sentences, paragraphs and top words', async () => {
    const r = await call(wordcount, { text: 'The cat sat. The dog ran!\n\nCafé déjà vu?\n', top: 2 });
    expect(r).toMatchObject({ words: 9, lines: 3, sentences: 3, paragraphs: 2 });
    expect(r.topWords).toEqual([{ word: 'the', count: 2 }, { word: 'café', count: 1 }]);
    expect(await call(wordcount, { text: '' })).toMatchObject({ words: 0, lines: 0, sentences: 0, paragraphs: 0 });
  });

  it('text.regex.extract returns matches with groups and named groups', async () => {
    const r = await call(regexExtract, { text: 'a=1, b=22, c=x', pattern: '(?<key>\\w)=(\\d+)' });
    expect(r.count).toBe(2);
    expect(r.matches[1]).toEqual({ match: 'b=22', index: 5, groups: ['b', '22'], named: { key: 'b' } });
    expect((await call(regexExtract, { text: 'aaa', pattern: 'a', flags: '' })).count).toBe(1);
    expect((await call(regexExtract, { text: 'abc', pattern: 'x*' })).count).toBe(4); // empty matches advance
  });

  it('text.regex.extract stops a catastrophically backtracking pattern', async () => {
    const t0 = Date.now();
    await expect(call(regexExtract, { text: `${'a'.repeat(40)}!`, pattern: '^(a+)+$', timeoutMs: 100 })).rejects.toMatchObject({ code: 'regex_timeout' });
    expect(Date.now() - t0).toBeLessThan(3_000);
    await expect(call(regexExtract, { text: 'x', pattern: '(' })).rejects.toMatchObject({ code: 'invalid_pattern' });
  });

  it('text.truncate cuts by characters at word boundaries, or by words', async () => {
    expect(await call(truncate, { text: 'Hello wonderful world', max: 14 })).toEqual({ text: 'Hello…', truncated: true });
    expect(await call(truncate, { text: 'Hello wonderful world', max: 14, wordBoundary: false })).toEqual({ text: 'Hello wonderf…', truncated: true });
    expect(await call(truncate, { text: 'one two three', max: 2, unit: 'words', ellipsis: '...' })).toEqual({ text: 'one two...', truncated: true });
    expect(await call(truncate, { text: 'short', max: 10 })).toEqual({ text: 'short', truncated: false });
    expect((await call(truncate, { text: '😀😀😀😀', max: 3, wordBoundary: false })).text).toBe('😀😀…');
  });

  it('text.slugify removes accents and collapses separators', async () => {
    expect(await call(slugifySkill, { text: '  Héllo, Wörld & Straße! ' })).toEqual({ slug: 'hello-world-and-strasse' });
    expect(await call(slugifySkill, { text: 'A very long title here', maxLength: 12, separator: '_' })).toEqual({ slug: 'a_very_long' });
  });

  it('text.lines filters, dedupes, sorts and slices', async () => {
    const text = 'b error\na ok\nc error\nb error\n\n';
    expect(await call(lines, { text, contains: 'ERROR', ignoreCase: true, unique: true, sort: 'desc' })).toEqual({ lines: ['c error', 'b error'], count: 2, totalLines: 5 });
    expect((await call(lines, { text: '10\n9\n100', sort: 'numeric', tail: 2 })).lines).toEqual(['10', '100']);
    expect((await call(lines, { text, dropEmpty: true, head: 1 })).lines).toEqual(['b error']);
  });

  it('text.replace replaces literal text (no regex)', async () => {
    expect(await call(replace, { text: 'a.b.c', find: '.', replaceWith: '$&' })).toEqual({ text: 'a$&b$&c', replacements: 2 });
    expect(await call(replace, { text: 'Foo foo FOO', find: 'foo', replaceWith: 'x', ignoreCase: true })).toEqual({ text: 'x x x', replacements: 3 });
  });
});
