import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { buildInput, parseJsonObject, parsePair, setPath } from './input.js';

const files: Record<string, string> = {
  'in.json': '{"a": 1, "to": {"name": "x"}}',
  'in.yaml': 'a: 2\nlist: [1, 2]\nnested:\n  ok: true\n',
  'empty.yml': '',
  'list.yaml': '- 1\n- 2\n',
  'bad.json': '{nope',
};
const read = async (p: string): Promise<string> => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  return text;
};

describe('parsePair', () => {
  it('reads key=value as a string and key:=json as JSON', () => {
    expect(parsePair('message=hello world')).toEqual({ path: ['message'], value: 'hello world' });
    expect(parsePair('n=3')).toEqual({ path: ['n'], value: '3' });
    expect(parsePair('n:=3')).toEqual({ path: ['n'], value: 3 });
    expect(parsePair('flags:=[true,null]')).toEqual({ path: ['flags'], value: [true, null] });
    expect(parsePair('expr=a=b')).toEqual({ path: ['expr'], value: 'a=b' });
    expect(parsePair('empty=')).toEqual({ path: ['empty'], value: '' });
  });

  it('nests dotted keys', () => {
    expect(parsePair('to.name=world')).toEqual({ path: ['to', 'name'], value: 'world' });
  });

  it('refuses pairs without a key, empty parts and bad JSON, saying why', () => {
    expect(() => parsePair('novalue')).toThrow(/expected key=value/);
    expect(() => parsePair('=x')).toThrow(CliError);
    expect(() => parsePair('a..b=x')).toThrow(/empty part/);
    expect(() => parsePair('n:=nope')).toThrow(/not JSON \(for a string, use n=nope\)/);
  });
});

describe('setPath', () => {
  it('creates objects along the way and refuses to descend into a non-object', () => {
    const o: Record<string, unknown> = { keep: 1 };
    setPath(o, ['a', 'b', 'c'], 1);
    setPath(o, ['a', 'd'], 2);
    expect(o).toEqual({ keep: 1, a: { b: { c: 1 }, d: 2 } });
    expect(() => setPath(o, ['keep', 'x'], 1)).toThrow(/keep is already set/);
  });
});

describe('buildInput', () => {
  it('merges the file, then --input, then the pairs (later wins)', async () => {
    expect(await buildInput({ inputFile: 'in.json', input: '{"a": 5, "b": 6}', set: ['b:=7', 'to.first=y'] }, read)).toEqual({ a: 5, b: 7, to: { name: 'x', first: 'y' } });
  });

  it('reads YAML files, an empty one as {}', async () => {
    expect(await buildInput({ inputFile: 'in.yaml' }, read)).toEqual({ a: 2, list: [1, 2], nested: { ok: true } });
    expect(await buildInput({ inputFile: 'empty.yml' }, read)).toEqual({});
  });

  it('is {} without flags', async () => {
    expect(await buildInput({})).toEqual({});
  });

  it('refuses what is not an object, and unreadable files', async () => {
    await expect(buildInput({ inputFile: 'list.yaml' }, read)).rejects.toThrow(/must hold a mapping/);
    await expect(buildInput({ inputFile: 'bad.json' }, read)).rejects.toThrow(/bad.json is not valid JSON/);
    await expect(buildInput({ inputFile: 'gone.json' }, read)).rejects.toThrow(/cannot read gone.json: ENOENT/);
    expect(() => parseJsonObject('[1]', '--input')).toThrow('--input must be a JSON object ({…}), not an array');
    expect(() => parseJsonObject('null', '--input')).toThrow(/not null/);
  });
});
