import 'reflect-metadata';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { Controller, Get, Global, Header, HttpCode, Inject, Module, Res, SetMetadata, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { traceRequests } from './http-tracing.js';
import { NestPinoLogger } from './logger.js';
import { ServiceRuntime } from './runtime.js';

/** Metadata key of routes that need no credentials (health, readiness, metrics, the API description). */
export const PUBLIC_ROUTE = 'steward:public-route';
/** Marks a controller or handler as reachable without credentials; everything else is authenticated where a service authenticates. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

@Controller()
@Public()
class HealthController {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.runtime.service };
  }

  /** Readiness: every dependency this service uses answers. */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply): Promise<void> {
    const { ready, checks } = await this.runtime.readiness();
    await reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.runtime.registry.metrics();
  }
}

export interface ServeOptions {
  port: number;
  host: string;
  bodyLimitBytes?: number;
}

/** Boots the service's Nest app (its feature module plus health and metrics) and wires SIGTERM/SIGINT to a graceful drain. */
export async function serve(runtime: ServiceRuntime, feature: Type | DynamicModule, opts: ServeOptions): Promise<NestFastifyApplication> {
  @Global()
  @Module({ providers: [{ provide: ServiceRuntime, useValue: runtime }], exports: [ServiceRuntime] })
  class RuntimeModule {}

  @Module({ imports: [RuntimeModule, feature], controllers: [HealthController] })
  class RootModule {}

  const adapter = new FastifyAdapter({
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    // Errors the router raises before any route runs (a malformed percent-encoding, a path parameter over 100
    // characters) leave in the API's one error shape too, not Fastify's.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : err.code === 'FST_ERR_BAD_URL' ? 400 : 500;
      const code = status === 414 ? 'uri_too_long' : status === 400 ? 'bad_url' : 'internal';
      void reply.status(status).send({ error: { code, message: status === 414 ? 'a path parameter is longer than 100 characters' : status === 400 ? 'the URL is not valid (malformed percent-encoding)' : 'internal error' } });
    },
    // Errors Node's HTTP parser raises before Fastify sees a request (headers over the size limit, a malformed
    // request line, a request that took too long to arrive): also the one error shape, and the connection closes.
    clientErrorHandler: answerClientError,
  });
  traceRequests(adapter.getInstance()); // first hooks: everything after them (auth included) runs in the request's scope
  measureRequests(adapter.getInstance(), runtime.registry);
  // Once the drain has begun, every response closes its connection. Fastify closes the connections idle at close
  // time, but a keep-alive connection whose request was in flight would stay open after its response and hold the
  // server's close (and the drain) until the client dropped it.
  let closing = false;
  adapter.getInstance().addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  const app = await NestFactory.create<NestFastifyApplication>(RootModule, adapter, {
    logger: new NestPinoLogger(runtime.log),
    abortOnError: false,
  });
  await app.init();
  await app.listen(opts.port, opts.host);
  runtime.log.info({ url: await app.getUrl() }, 'listening');

  const stop = (signal: string) => {
    runtime.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      runtime.log.error({ timeoutMs: runtime.config.SHUTDOWN_TIMEOUT_MS }, 'drain timed out; exiting');
      process.exit(1);
    }, runtime.config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    runtime.beginDrain();
    closing = true;
    void (async () => {
      await app.close(); // stops accepting requests and waits for those in flight
      await runtime.shutdown();
      process.exit(0);
    })().catch((err: unknown) => {
      runtime.log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return app;
}

/**
 * Node's 'clientError': the request could not be parsed, so there is no request object to answer through; the
 * answer is written to the socket (as Node and Fastify do) in the API's error shape, and the connection is closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'the request headers are larger than the server accepts']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request did not arrive in time']
        : [400, 'bad_request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** Route label of requests no route matched (404s of unknown paths): one series for all of them. */
export const UNMATCHED_ROUTE = 'unmatched';

const httpHistograms = new WeakMap<Registry, Histogram<'method' | 'route' | 'status_code'>>();

/** The HTTP latency histogram of a registry (one per registry, however many apps serve with it). */
export function httpRequestDuration(registry: Registry): Histogram<'method' | 'route' | 'status_code'> {
  let h = httpHistograms.get(registry);
  if (h === undefined) {
    h = new Histogram({
      name: 'steward_http_request_duration_seconds',
      help: 'Time from a request arriving to its response being sent, by method, route pattern ("unmatched" when none) and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    });
    httpHistograms.set(registry, h);
  }
  return h;
}

/**
 * Records every answered request in steward_http_request_duration_seconds, from fastify's own clock
 * (`reply.elapsedTime`, started when the request arrived): one hook, nothing kept per request. The route is the
 * pattern (`/v1/tasks/:id`), never the URL, so the label set stays bounded. Requests that accept
 * `text/event-stream` are left out: a server-sent event stream lasts as long as the client listens, which is not a
 * response time.
 */
export function measureRequests(app: FastifyInstance, registry: Registry): void {
  const duration = httpRequestDuration(registry);
  app.addHook('onResponse', (req, reply, done) => {
    if (req.headers.accept?.includes('text/event-stream') !== true)
      duration.observe({ method: req.method, route: req.routeOptions.url ?? UNMATCHED_ROUTE, status_code: reply.statusCode }, reply.elapsedTime / 1000);
    done();
  });
}
