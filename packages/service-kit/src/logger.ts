import type { LoggerService } from '@nestjs/common';
import { NO_LOG_FIELDS, currentLogFields } from '@steward/bus';
import { pino, type DestinationStream, type LoggerOptions, type Logger as PinoLogger } from 'pino';

export type { PinoLogger };

/** Fields whose values never reach a log line, at the top of the line and one object down (`{ req: { headers } }`). */
const SECRET_FIELDS = ['authorization', 'apiKey', 'key', 'secret', 'password', 'token'];
const REDACTED_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'headers.authorization', '*.headers.authorization', 'config.DATABASE_URL', 'config.REDIS_URL'];

/**
 * Structured JSON logs; secret-looking fields are redacted at the source. A line written while a message or request
 * is handled carries its ids (taskId, runId, stepId, invocationId, eventId, traceId, spanId) without the handler
 * passing them: they come from the scope the bus consumer and the HTTP hooks open. The line's own fields win.
 */
export function createLogger(service: string, level: string, destination?: DestinationStream): PinoLogger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '***' },
    mixin: currentLogFields,
    // pino's default merge writes into the mixin's object, which is the scope's cached one: copy instead.
    mixinMergeStrategy: (line: object, ids: object) => (ids === NO_LOG_FIELDS ? line : { ...ids, ...line }),
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Routes NestJS's own logging through pino. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}
  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}
