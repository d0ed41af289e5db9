export * from './bus.js';
export * from './consumer.js';
export * from './errors.js';
export * from './logger.js';
export * from './metrics.js';
export * from './testing.js';
export * from './tracing.js';
