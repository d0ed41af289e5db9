import { type ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { unacceptableJson } from './json-limits.js';

/** One problem in a request: a zod issue, or a workflow definition issue (which also names the offending step). */
export interface ApiIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly step?: string;
}

/** The one JSON error shape of the API. */
export interface ApiErrorBody {
  error: { code: string; message: string; issues?: readonly ApiIssue[] };
}

export class ApiError extends HttpException {
  constructor(status: number, code: string, message: string, issues?: readonly ApiIssue[]) {
    super({ error: { code, message, ...(issues ? { issues } : {}) } } satisfies ApiErrorBody, status);
  }
}

/**
 * Parses `value` with `schema` or answers 400 with the zod issues. Before the schema, what no route can take is
 * refused the same way: JSON nested too deeply, and text PostgreSQL cannot store (see json-limits.ts).
 */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const unacceptable = unacceptableJson(value);
  if (unacceptable) throw new ApiError(400, 'invalid_request', `${what} is invalid`, [unacceptable]);
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError(400, 'invalid_request', `${what} is invalid`, r.error.issues);
  return r.data;
}

/** Every error leaves as ApiErrorBody; framework errors (bad JSON, body too large) keep their 4xx status. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(private readonly onUnexpected: (err: unknown) => void) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status = 500;
    let body: ApiErrorBody = { error: { code: 'internal', message: 'internal error' } };
    if (err instanceof ApiError) {
      status = err.getStatus();
      body = err.getResponse() as ApiErrorBody;
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      body = { error: { code: status === 404 ? 'not_found' : 'http_error', message: err.message } };
    } else if (isClientError(err)) {
      status = err.statusCode;
      body = { error: { code: err.code?.toLowerCase() ?? 'bad_request', message: err.message } };
    } else {
      this.onUnexpected(err);
    }
    void reply.status(status).send(body);
  }
}

function isClientError(err: unknown): err is { statusCode: number; message: string; code?: string } {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 500;
}
