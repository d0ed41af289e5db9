export * from './compile.js';
export * from './duration.js';
export * from './expressions.js';
export * from './register.js';
