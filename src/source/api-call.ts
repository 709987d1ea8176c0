import type { BackoffOptions } from '../util/backoff.js';
import { retryUntilDone } from '../util/retry.js';
import type { RetryAction } from '../util/retry.js';
import { classifyError, type ErrorClass } from './aws-errors.js';
import type { Clock } from '../util/clock.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ApiOperation, ApiOutcome, SourceMetrics } from './source-metrics.js';

/** Metric outcome for an error class. */
export function outcomeOf(errorClass: ErrorClass, tokenSent = false): ApiOutcome {
  switch (errorClass) {
    case 'throttled':
      return 'throttled';
    case 'retryable':
      return 'retryable_error';
    case 'invalid-parameter':
      return tokenSent ? 'token_rejected' : 'error';
    case 'not-found':
      return 'not_found';
    case 'aborted':
      return 'aborted';
    case 'unknown':
      return 'error';
  }
}

export interface ApiCallContext {
  readonly limiter: RateLimiter;
  readonly metrics: SourceMetrics;
  readonly clock: Clock;
}

/**
 * One rate-limited, instrumented attempt. Waits for the shared limiter first (so every attempt,
 * retries included, counts against the quota), then records duration and outcome.
 */
export async function limitedCall<T>(
  context: ApiCallContext,
  operation: ApiOperation,
  call: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const waitStart = context.clock.now();
  await context.limiter.acquire(operation, signal);
  context.metrics.rateLimitWait(operation, context.clock.now() - waitStart);
  return instrumentedCall(context, operation, call);
}

/**
 * One attempt whose budget was already granted (GetLogEvents: by the poll scheduler): records
 * duration and outcome. `tokenSent` tells a rejected forward token from another bad parameter.
 */
export async function instrumentedCall<T>(
  context: Pick<ApiCallContext, 'metrics' | 'clock'>,
  operation: ApiOperation,
  call: () => Promise<T>,
  tokenSent = false,
): Promise<T> {
  const started = context.clock.now();
  try {
    const result = await call();
    context.metrics.apiCall(operation, 'success', context.clock.now() - started);
    return result;
  } catch (error) {
    const errorClass = classifyError(error);
    context.metrics.apiCall(
      operation,
      outcomeOf(errorClass, tokenSent),
      context.clock.now() - started,
    );
    if (errorClass === 'throttled') context.metrics.throttled(operation);
    throw error;
  }
}

/**
 * {@link limitedCall} with up to `attempts` tries, backing off (full jitter) on throttling and
 * transient errors. Used by discovery, where giving up a round is harmless (the next round
 * retries); pollers run their own endless loop instead.
 */
export async function retryingCall<T>(
  context: ApiCallContext & { readonly backoff: BackoffOptions; readonly random: () => number },
  operation: ApiOperation,
  call: () => Promise<T>,
  options: { readonly attempts: number; readonly signal?: AbortSignal | undefined },
): Promise<T> {
  const end = await retryUntilDone(
    undefined,
    async (_work, attempt): Promise<RetryAction<undefined, T, unknown>> => {
      try {
        return {
          kind: 'success',
          value: await limitedCall(context, operation, call, options.signal),
        };
      } catch (error) {
        const errorClass = classifyError(error);
        const retry =
          (errorClass === 'throttled' || errorClass === 'retryable') &&
          attempt + 1 < options.attempts;
        return retry ? { kind: 'retry' } : { kind: 'reject', value: error };
      }
    },
    {
      backoff: context.backoff,
      clock: context.clock,
      signal: options.signal,
      random: context.random,
      onRetry: (delay) => context.metrics.retry(operation, delay),
    },
  );
  if (end.kind === 'reject') throw end.value;
  return end.value;
}
