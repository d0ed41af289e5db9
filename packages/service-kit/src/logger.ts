import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as PinoLogger } from 'pino';

export type { PinoLogger };

/** Structured JSON logs; secret-looking fields are redacted at the source. */
export function createLogger(service: string, level: string): PinoLogger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.authorization', '*.headers.authorization', '*.apiKey', '*.password', 'config.DATABASE_URL', 'config.REDIS_URL'], censor: '***' },
  });
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
