/** A failure that will not go away by retrying (bad reference, invariant broken): dead-lettered at once. */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** Any other error is treated as transient: the message is nak'ed with a growing delay until maxDeliver. */
export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}
