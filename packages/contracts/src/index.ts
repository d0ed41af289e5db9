export * from './common.js';
export * from './envelope.js';
export * from './events.js';
export * from './catalogue.js';
export * from './make-envelope.js';
export * from './decode.js';
export * from './json-schema.js';
export * from './workflow-definition.js';
