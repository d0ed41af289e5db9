// What every command gets: its streams, the gateway client (built on first use from the config), and the error
// printer that turns any failure into a message and an exit code.
import type { ApiClient } from './api/client.js';
import { ApiRequestError, CliError, EXIT, ExitWith, type ExitCode } from './errors.js';
import { Out, type Io } from './output.js';

export const VERSION = '0.1.0';

export class Ctx {
  private clientPromise: Promise<ApiClient> | undefined;
  exitCode: ExitCode = EXIT.ok;

  constructor(readonly io: Io) {}

  now(): number {
    return this.io.now ? this.io.now() : Date.now();
  }

  out(json: boolean | undefined): Out {
    return new Out(this.io, json === true);
  }

  client(): Promise<ApiClient> {
    this.clientPromise ??= (async () => {
      const [{ resolveConfig }, { ApiClient }] = await Promise.all([import('./config.js'), import('./api/client.js')]);
      const c = await resolveConfig(this.io.env);
      return new ApiClient({ baseUrl: c.url, apiKey: c.apiKey, userAgent: `steward-cli/${VERSION}`, ...(this.io.fetch ? { fetch: this.io.fetch } : {}) });
    })();
    return this.clientPromise;
  }

  /** Prints `err` for the person (or as JSON on stderr with --json) and records the exit code. */
  fail(err: unknown, json: boolean): void {
    if (err instanceof ExitWith) {
      this.exitCode = err.exitCode;
      return;
    }
    const out = this.out(json);
    const s = out.errStyle;
    if (err instanceof ApiRequestError) {
      this.exitCode = err.status >= 500 && err.status !== 501 ? EXIT.unavailable : EXIT.failed;
      if (json) {
        this.io.stderr.write(`${JSON.stringify({ error: { status: err.status, code: err.code, message: err.message, ...(err.issues.length ? { issues: err.issues } : {}), ...(err.request ? { request: err.request } : {}) } })}\n`);
        return;
      }
      const lines = [`${s.red('error:')} ${err.message}`, s.dim(`  HTTP ${err.status} ${err.code}${err.request ? ` (${err.request})` : ''}`)];
      for (const i of err.issues) lines.push(`  - ${i.path && i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}${i.step ? ` (step ${i.step})` : ''}`);
      const hint = hintFor(err);
      if (hint) lines.push(`${s.dim('hint:')} ${hint}`);
      this.io.stderr.write(`${lines.join('\n')}\n`);
      return;
    }
    if (err instanceof CliError) {
      this.exitCode = err.exitCode;
      if (json) this.io.stderr.write(`${JSON.stringify({ error: { code: 'cli', message: err.message, ...(err.hint ? { hint: err.hint } : {}) } })}\n`);
      else this.io.stderr.write(`${s.red('error:')} ${err.message}\n${err.hint ? `${s.dim('hint:')} ${err.hint}\n` : ''}`);
      return;
    }
    this.exitCode = EXIT.failed;
    const e = err as Error;
    if (json) this.io.stderr.write(`${JSON.stringify({ error: { code: 'unexpected', message: e?.message ?? String(err) } })}\n`);
    else this.io.stderr.write(`${s.red('error:')} ${e?.message ?? String(err)}\n${this.io.env.STEWARD_DEBUG && e?.stack ? `${e.stack}\n` : ''}`);
  }
}

function hintFor(err: ApiRequestError): string | undefined {
  switch (err.code) {
    case 'unauthenticated':
      return 'the API key is missing, unknown or revoked: run `steward login` again';
    case 'forbidden':
      return 'ask an admin for a key with that scope (POST /v1/keys)';
    case 'rate_limited':
      return 'too many requests for this key; wait a second and retry';
    case 'unknown_skill':
      return 'list the skills with `steward skills list`';
    case 'unknown_workflow':
      return 'list the workflows with `steward workflows list` (pass --workflow for a workflow)';
    default:
      return err.routeMissing ? 'this gateway does not have that route (an older version?)' : undefined;
  }
}
