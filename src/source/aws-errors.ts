import { isAbortError } from '../util/clock.js';

/**
 * What the caller should do about an error from a CloudWatch Logs call:
 * - `throttled`: quota exceeded; back off, count it, never fatal.
 * - `retryable`: network error, timeout or 5xx; back off and retry, never fatal.
 * - `invalid-parameter`: InvalidParameterException; with a forward token sent it means the
 *   token was rejected (expired or garbage) and the poller re-seeks by timestamp.
 * - `not-found`: the log group or stream no longer exists.
 * - `aborted`: we are shutting down.
 * - `unknown`: anything else (e.g. AccessDenied); logged loudly and retried slowly, because an
 *   audit forwarder must not exit over something an operator can fix at runtime.
 */
export type ErrorClass =
  'throttled' | 'retryable' | 'invalid-parameter' | 'not-found' | 'aborted' | 'unknown';

const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const RETRYABLE_NAMES = new Set([
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ProvisionedThroughputExceededException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function classifyError(error: unknown): ErrorClass {
  if (isAbortError(error)) return 'aborted';
  if (typeof error !== 'object' || error === null) return 'unknown';
  const e = error as {
    name?: unknown;
    retryable?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: { throttling?: unknown };
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : 0;
  if (THROTTLE_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true) {
    return 'throttled';
  }
  if (name === 'InvalidParameterException') return 'invalid-parameter';
  if (name === 'ResourceNotFoundException') return 'not-found';
  if (RETRYABLE_NAMES.has(name) || status >= 500) return 'retryable';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'retryable';
  if (e.$retryable !== undefined || e.retryable === true) return 'retryable';
  // Errors thrown by the HTTP layer before any response carry no status.
  if (
    error instanceof Error &&
    error.cause !== undefined &&
    classifyError(error.cause) === 'retryable'
  ) {
    return 'retryable';
  }
  return 'unknown';
}
