/** Exit codes of `steward` (docs/cli.md): every failure leaves with one of these and a message on stderr. */
export const EXIT = {
  ok: 0,
  /** The task failed or was cancelled (watch), or the API refused the request. */
  failed: 1,
  /** Bad usage: flags, arguments, input, or no gateway configured. */
  usage: 2,
  /** The gateway could not be reached, or answered something the CLI does not understand. */
  unavailable: 3,
  /** `watch --timeout` ran out before the task was final (the task goes on). */
  timeout: 124,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error meant for the person at the terminal: the message is printed as is, the code becomes the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Ends the command with this exit code after it has printed what it had to say (e.g. watch on a failed task). */
export class ExitWith extends Error {
  constructor(readonly exitCode: ExitCode) {
    super(`exit ${exitCode}`);
    this.name = 'ExitWith';
  }
}

/** One problem the API found in a request (a zod issue, or a workflow definition issue naming its step). */
export interface ApiIssueLike {
  path?: (string | number)[];
  message: string;
  step?: string;
}

/** The gateway answered with its error shape (or at least an error status). */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly ApiIssueLike[] = [],
    readonly request = '',
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }

  /** The route itself does not exist on this gateway (an older or newer API), as opposed to a missing resource. */
  get routeMissing(): boolean {
    return (this.status === 404 && /^Cannot [A-Z]+ \//.test(this.message)) || this.status === 405;
  }
}
