/** The subset of pino's API the bus uses, so the bus does not depend on a logging library. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** Whether lines of `level` are written (pino has it); lets hot paths skip building a debug line. */
  isLevelEnabled?(level: string): boolean;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
