/** Why a provider call failed; callers branch on `code`, never on the message. */
export type LlmErrorCode =
  | 'invalid_output' // the model never produced a value that passes the schema
  | 'rate_limited' // 429 after all retries
  | 'overloaded' // 529 after all retries
  | 'unavailable' // 5xx or connection failure after all retries
  | 'timeout' // no response within timeoutMs, after all retries
  | 'aborted' // the caller's AbortSignal fired
  | 'bad_request' // the API or this package refused the request (4xx, bad options); not retried
  | 'auth' // 401/403: the key is wrong or lacks permission; not retried
  | 'config'; // the environment or provider options are invalid

export interface LlmErrorOptions {
  status?: number;
  attempts?: number;
  requestId?: string;
  cause?: unknown;
}

export class LlmError extends Error {
  override readonly name = 'LlmError';
  readonly code: LlmErrorCode;
  /** HTTP status of the last response, when there was one. */
  readonly status: number | undefined;
  /** Requests sent to the API before giving up (0 when none was sent). */
  readonly attempts: number;
  readonly requestId: string | undefined;

  constructor(code: LlmErrorCode, message: string, options: LlmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.attempts = options.attempts ?? 0;
    this.requestId = options.requestId;
  }
}

export function isLlmError(err: unknown, code?: LlmErrorCode): err is LlmError {
  return err instanceof LlmError && (code === undefined || err.code === code);
}
