// node-postgres' own value serialiser (pg/lib/utils, exported by the package), which @types/pg does not declare.
declare module 'pg/lib/utils.js' {
  /** A parameter value as node-postgres sends it: text (arrays, dates and JSON encoded), a Buffer, or null. */
  export function prepareValue(value: unknown): string | Buffer | null;
}
