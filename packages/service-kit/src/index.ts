export * from './config.js';
export * from './logger.js';
export * from './runtime.js';
export * from './http.js';
export * from './timer-loop.js';
export * from './tracing.js';
export * from './http-tracing.js';
export { addLogContext } from '@steward/bus';
// The metric classes of the registry's prom-client, for services that do not depend on prom-client themselves.
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
