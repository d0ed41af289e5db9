import { describe, expect, it } from 'vitest';
import { errorlogAnalyse } from './errorlog.js';
import { call } from './test-helpers.js';

const nodeLog = `> app@1.0.0 start
TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/app/src/users.js:12:20)
    at async handler (/app/src/server.js:40:5)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
`;
const nodeLib = `Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'zod' imported from /app/src/a.js
    at packageResolve (node:internal/modules/esm/resolve:854:9)
    at moduleResolve (node:internal/modules/esm/resolve:927:20)
`;
const pyLog = `Traceback (most recent call last):
  File "/app/main.py", line 10, in <module>
    main()
  File "/app/main.py", line 6, in main
    print(config["port"])
  File "/usr/lib/python3.11/site-packages/thing/__init__.py", line 3, in get
    raise KeyError(k)
KeyError: 'port'
`;
const javaLog = `Exception in thread "main" java.lang.IllegalStateException: wrapper failed
\tat com.example.App.run(App.java:25)
\tat java.base/java.lang.Thread.run(Thread.java:833)
Caused by: java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null
\tat com.example.Util.len(Util.java:7)
\t... 2 more
`;
const goLog = `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47d2a1]

goroutine 1 [running]:
main.load(0x0)
\t/home/dev/app/main.go:14 +0x21
main.main()
\t/home/dev/app/main.go:8 +0x1d
exit status 2
`;

describe('dev.errorlog.analyse', () => {
  it('reads a Node stack trace: type, message, first app frame, cause', async () => {
    const r = await call(errorlogAnalyse, { log: nodeLog });
    expect(r.languages).toEqual(['node']);
    expect(r.firstError).toMatchObject({ type: 'TypeError', message: "Cannot read properties of undefined (reading 'id')", line: 2 });
    expect(r.firstFailingFrame).toMatchObject({ function: 'getUser', file: '/app/src/users.js', line: 12, column: 20, internal: false });
    expect(r.causes[0]?.category).toBe('null_reference');
    expect(r.summary).toContain('/app/src/users.js:12');
  });

  it('reads a Node error with a code where every frame is internal', async () => {
    const r = await call(errorlogAnalyse, { log: nodeLib });
    expect(r.firstError).toMatchObject({ type: 'Error [ERR_MODULE_NOT_FOUND]', firstAppFrame: null });
    expect(r.causes.map((c) => c.category)).toContain('module_not_found');
  });

  it('reads a Python traceback: the innermost application frame is at fault', async () => {
    const r = await call(errorlogAnalyse, { log: pyLog });
    expect(r.firstError).toMatchObject({ language: 'python', type: 'KeyError', message: "'port'" });
    expect(r.firstError?.frames).toHaveLength(3);
    expect(r.firstFailingFrame).toMatchObject({ file: '/app/main.py', line: 6, function: 'main' });
    expect(r.causes.map((c) => c.category)).toContain('index_or_key');
  });

  it('reads a Java exception with its cause chain', async () => {
    const r = await call(errorlogAnalyse, { log: javaLog });
    expect(r.firstError).toMatchObject({ language: 'java', type: 'java.lang.IllegalStateException', message: 'wrapper failed' });
    expect(r.firstError?.causedBy).toEqual([{ type: 'java.lang.NullPointerException', message: 'Cannot invoke "String.length()" because "s" is null' }]);
    expect(r.firstFailingFrame).toMatchObject({ function: 'com.example.App.run', file: 'App.java', line: 25 });
    expect(r.causes.map((c) => c.category)).toContain('null_reference');
  });

  it('reads a Go panic', async () => {
    const r = await call(errorlogAnalyse, { log: goLog });
    expect(r.firstError).toMatchObject({ language: 'go', type: 'runtime error' });
    expect(r.firstFailingFrame).toMatchObject({ function: 'main.load', file: '/home/dev/app/main.go', line: 14 });
    expect(r.causes[0]?.category).toBe('null_reference');
  });

  it('finds several errors across languages and causes without stack traces', async () => {
    const r = await call(errorlogAnalyse, { log: `${nodeLog}\n${pyLog}` });
    expect(r.errors.map((e) => e.language)).toEqual(['node', 'python']);
    const plain = await call(errorlogAnalyse, { log: 'connecting...\nError: connect ECONNREFUSED 127.0.0.1:5432\n' });
    expect(plain.errors).toEqual([]);
    expect(plain.causes[0]?.category).toBe('network');
    expect(plain.summary).toContain('network');
  });
});
