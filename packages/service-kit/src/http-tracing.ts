// Trace context and log ids for HTTP requests (fastify hooks, so controllers need no changes).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { TraceScope, busTracer, formatTraceparent, parseTraceparent, runInScope } from '@steward/bus';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const SCOPE = Symbol('steward.traceScope');
// Stable HTTP semantic conventions (as literals: @opentelemetry/semantic-conventions loads only with tracing on).
const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
const ATTR_HTTP_ROUTE = 'http.route';
const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
const ATTR_URL_PATH = 'url.path';
const ATTR_URL_SCHEME = 'url.scheme';
type ScopedRequest = FastifyRequest & { [SCOPE]?: TraceScope };

/** Probes and scrapes: no span, no scope. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Opens a scope for each request: events the request creates carry its trace context, and its log lines its
 * trace id. Tracing on: a SERVER span per request, child of the caller's `traceparent` header. Off: the caller's
 * valid `traceparent` is passed on to the events (and nothing at all happens for a request without one).
 */
export function traceRequests(app: FastifyInstance): void {
  app.addHook('onRequest', (req: ScopedRequest, _reply, done) => {
    const route = req.routeOptions.url;
    if (route !== undefined && UNTRACED.has(route)) return done();
    const incoming = parseTraceparent(firstHeader(req.headers.traceparent));
    const t = busTracer();
    let scope: TraceScope;
    if (t === undefined) {
      if (incoming === undefined) return done();
      scope = TraceScope.request(formatTraceparent(incoming));
    } else {
      const path = req.url.split('?', 1)[0]!;
      const span = t.startSpan(
        route !== undefined ? `${req.method} ${route}` : req.method,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_PATH]: path, [ATTR_URL_SCHEME]: req.protocol, ...(route !== undefined ? { [ATTR_HTTP_ROUTE]: route } : {}) },
        },
        incoming ? trace.setSpanContext(ROOT_CONTEXT, incoming) : ROOT_CONTEXT,
      );
      scope = TraceScope.request(formatTraceparent(span.spanContext()), trace.setSpan(ROOT_CONTEXT, span), span);
    }
    req[SCOPE] = scope;
    runInScope(scope, done);
  });
  // The body is read in the socket's async context, which loses the scope: enter it again before the handler.
  const reenter = (req: ScopedRequest, _reply: unknown, done: () => void): void => {
    const scope = req[SCOPE];
    if (scope === undefined) done();
    else runInScope(scope, done);
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);
  app.addHook('onError', (req: ScopedRequest, _reply, err, done) => {
    req[SCOPE]?.span?.recordException(err);
    done();
  });
  app.addHook('onResponse', (req: ScopedRequest, reply, done) => {
    const span = req[SCOPE]?.span;
    req[SCOPE] = undefined; // the span ends once
    if (span) endServerSpan(span, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (req: ScopedRequest, done) => {
    const span = req[SCOPE]?.span;
    req[SCOPE] = undefined;
    if (span) {
      span.setAttribute('steward.aborted', true);
      span.end();
    }
    done();
  });
}

function endServerSpan(span: Span, status: number): void {
  if (!span.isRecording()) return span.end();
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
