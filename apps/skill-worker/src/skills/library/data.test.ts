import { describe, expect, it } from 'vitest';
import { applyJsonPatch, csvParse, dataDiff, jsonDiff, jsonQuery, jsonschemaValidate, jsonTransform, templateRender, yamlParse, yamlStringify } from './data.js';
import { call } from './test-helpers.js';

const orders = { orders: [{ id: 1, status: 'open', total: 10 }, { id: 2, status: 'done', total: 5 }, { id: 3, status: 'open', total: 7.5 }] };

describe('data.json.query', () => {
  it('evaluates JSONata with bindings', async () => {
    expect(await call(jsonQuery, { expression: 'orders[status=$s].total ~> $sum()', data: orders, bindings: { s: 'open' } })).toEqual({ result: 17.5 });
    expect(await call(jsonQuery, { expression: 'orders[status="open"].id', data: orders })).toEqual({ result: [1, 3] });
    expect(await call(jsonQuery, { expression: 'nothing.here', data: orders })).toEqual({ result: null });
  });

  it('reports syntax errors and stops runaway expressions', async () => {
    await expect(call(jsonQuery, { expression: 'orders[', data: {} })).rejects.toMatchObject({ code: 'invalid_expression' });
    await expect(call(jsonQuery, { expression: '($f := function($n) { $f($n + 1) }; $f(0))', data: {}, timeoutMs: 200 })).rejects.toMatchObject({ code: 'evaluation_failed' });
  });
});

describe('data.json.transform', () => {
  it('applies RFC 6902 operations in order', () => {
    const out = applyJsonPatch({ a: 1, list: [1, 2], nested: { x: 'y' } }, [
      { op: 'test', path: '/a', value: 1 },
      { op: 'replace', path: '/a', value: 2 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'remove', path: '/list/1' },
      { op: 'copy', from: '/nested', path: '/copy' },
      { op: 'move', from: '/nested/x', path: '/moved' },
      { op: 'add', path: '/with~1slash', value: true },
    ]);
    expect(out).toEqual({ a: 2, list: [0, 2, 3], nested: {}, copy: { x: 'y' }, moved: 'y', 'with/slash': true });
  });

  it('fails on a failed test or a missing path, leaving the input untouched', async () => {
    const data = { a: 1 };
    await expect(call(jsonTransform, { data, operations: [{ op: 'test', path: '/a', value: 2 }] })).rejects.toMatchObject({ code: 'patch_test_failed' });
    await expect(call(jsonTransform, { data, operations: [{ op: 'replace', path: '/b', value: 2 }] })).rejects.toMatchObject({ code: 'patch_path_missing' });
    expect(data).toEqual({ a: 1 });
  });

  it('reshapes with a JSONata map after patching', async () => {
    expect(await call(jsonTransform, { data: { n: 1 }, operations: [{ op: 'add', path: '/m', value: 2 }], map: '{ "sum": n + m }' })).toEqual({ result: { sum: 3 } });
  });
});

describe('YAML', () => {
  it('parses one or several documents and reports errors with position', async () => {
    expect(await call(yamlParse, { text: 'a: 1\nb: [x, y]\n' })).toEqual({ value: { a: 1, b: ['x', 'y'] } });
    expect((await call(yamlParse, { text: 'a: 1\n---\nb: 2\n', multiDocument: true })).documents).toEqual([{ a: 1 }, { b: 2 }]);
    await expect(call(yamlParse, { text: 'a: 1\n---\nb: 2\n' })).rejects.toMatchObject({ code: 'yaml_multiple_documents' });
    await expect(call(yamlParse, { text: 'a: [1, 2\nb: 3' })).rejects.toMatchObject({ code: 'yaml_invalid', message: expect.stringMatching(/line \d+/) as unknown });
    await expect(call(yamlParse, { text: 'a: 1\na: 2\n' })).rejects.toMatchObject({ code: 'yaml_invalid' });
  });

  it('stringifies with sorted keys and round-trips', async () => {
    const { text } = await call(yamlStringify, { value: { b: 1, a: { c: [1, 2] } }, sortKeys: true });
    expect(text).toBe('a:\n  c:\n    - 1\n    - 2\nb: 1\n');
    expect((await call(yamlParse, { text })).value).toEqual({ a: { c: [1, 2] }, b: 1 });
  });
});

describe('data.jsonschema.validate', () => {
  const schema = { type: 'object', required: ['name'], properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, additionalProperties: false };
  it('validates and lists every violation with its path', async () => {
    expect(await call(jsonschemaValidate, { schema, value: { name: 'a', age: 3 } })).toEqual({ valid: true, errors: [] });
    const r = await call(jsonschemaValidate, { schema, value: { age: -1, extra: 1 } });
    expect(r.valid).toBe(false);
    expect(r.errors.map((e) => [e.path, e.keyword]).sort()).toEqual([['', 'additionalProperties'], ['', 'required'], ['/age', 'minimum']]);
  });

  it('supports 2020-12 schemas and rejects invalid schemas', async () => {
    const s2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', prefixItems: [{ type: 'number' }], items: false };
    expect((await call(jsonschemaValidate, { schema: s2020, value: [1, 2] })).valid).toBe(false);
    await expect(call(jsonschemaValidate, { schema: { type: 'nope' }, value: 1 })).rejects.toMatchObject({ code: 'schema_invalid' });
  });
});

describe('data.template.render', () => {
  it('renders sections, partials and escapes HTML by default', async () => {
    const r = await call(templateRender, { template: 'Hi {{name}}! {{#items}}[{{.}}]{{/items}}{{>sig}}', data: { name: '<b>Ann</b>', items: [1, 2] }, partials: { sig: ' --{{name}}' } });
    expect(r.text).toBe('Hi &lt;b&gt;Ann&lt;&#x2F;b&gt;! [1][2] --&lt;b&gt;Ann&lt;&#x2F;b&gt;');
    expect((await call(templateRender, { template: '{{v}}', data: { v: '<x>' }, escape: 'none' })).text).toBe('<x>');
  });

  it('strict mode names missing values; bad syntax fails', async () => {
    await expect(call(templateRender, { template: '{{a}} {{b.c}}', data: { a: 1 }, strict: true })).rejects.toMatchObject({ code: 'template_missing_values', message: expect.stringContaining('b.c') as unknown });
    await expect(call(templateRender, { template: '{{#open}}', data: {} })).rejects.toMatchObject({ code: 'template_invalid' });
  });
});

describe('data.diff', () => {
  it('gives a structural JSON diff usable as a patch', async () => {
    const before = { a: 1, b: { c: [1, 2, 3] }, gone: true };
    const after = { a: 2, b: { c: [1, 5] }, added: 'x' };
    const r = await call(dataDiff, { mode: 'json', before, after });
    expect(r.equal).toBe(false);
    expect(r.changes).toEqual([
      { op: 'replace', path: '/a', from: 1, to: 2 },
      { op: 'replace', path: '/b/c/1', from: 2, to: 5 },
      { op: 'remove', path: '/b/c/2', from: 3 },
      { op: 'remove', path: '/gone', from: true },
      { op: 'add', path: '/added', to: 'x' },
    ]);
    const ops = jsonDiff(before, after).map((c) => (c.op === 'remove' ? { op: c.op, path: c.path } : { op: c.op, path: c.path, value: c.to }));
    expect(applyJsonPatch(before, ops)).toEqual(after);
    expect((await call(dataDiff, { mode: 'json', before: [1], after: [1] })).equal).toBe(true);
  });

  it('gives a unified text diff with counts', async () => {
    const r = await call(dataDiff, { mode: 'text', before: 'a\nb\nc\n', after: 'a\nB\nc\nd\n' });
    expect(r).toMatchObject({ equal: false, added: 2, removed: 1 });
    expect(r.unified).toContain('-b\n+B\n');
    expect(r.unified).toContain('--- before');
    expect(await call(dataDiff, { mode: 'text', before: 'x', after: 'x' })).toMatchObject({ equal: true, unified: '', added: 0, removed: 0 });
  });
});

describe('data.csv.parse', () => {
  it('parses headers, quotes and casts', async () => {
    const r = await call(csvParse, { text: 'name,age,note\n"Smith, J",42,"said ""hi"""\nAnn,x,\n', cast: true });
    expect(r.columns).toEqual(['name', 'age', 'note']);
    expect(r.rows).toEqual([{ name: 'Smith, J', age: 42, note: 'said "hi"' }, { name: 'Ann', age: 'x', note: '' }]);
  });

  it('parses TSV without header, truncates at maxRows, and rejects ragged rows', async () => {
    const r = await call(csvParse, { text: 'a\tb\nc\td\ne\tf\n', delimiter: '\t', header: false, maxRows: 2 });
    expect(r).toMatchObject({ columns: null, rows: [['a', 'b'], ['c', 'd']], rowCount: 2, truncated: true });
    await expect(call(csvParse, { text: 'a,b\n1,2,3\n' })).rejects.toMatchObject({ code: 'csv_invalid' });
  });
});
