/**
 * Typed errors with stable codes. Callers branch on `code`, never on message text.
 * `retryable` tells the pipeline whether backing off and trying again can help.
 */
export type ErrorCode =
  | 'FWD_ERR_USAGE'
  | 'FWD_ERR_CONFIG'
  | 'FWD_ERR_CHECKPOINT_IO'
  | 'FWD_ERR_CHECKPOINT_CORRUPT'
  | 'FWD_ERR_LOCKED'
  | 'FWD_ERR_SOURCE'
  | 'FWD_ERR_SINK';

export class ForwarderError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ForwarderError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** A command-line or configuration mistake: the process exits with status 2. */
export class UsageError extends ForwarderError {
  constructor(message: string, code: 'FWD_ERR_USAGE' | 'FWD_ERR_CONFIG' = 'FWD_ERR_USAGE') {
    super(code, message);
    this.name = 'UsageError';
  }
}

/** Exit status for an error reaching the top of a command (README "The two commands": exit statuses). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return 2;
  if (
    error instanceof ForwarderError &&
    (error.code === 'FWD_ERR_CHECKPOINT_CORRUPT' || error.code === 'FWD_ERR_LOCKED')
  ) {
    return 2;
  }
  return 1;
}
