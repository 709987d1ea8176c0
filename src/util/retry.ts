/**
 * The one retry driver of the delivery path (after Vector's `RetryLogic`): the caller's attempt
 * sends the work once and classifies what happened; the driver owns the loop, the abort check
 * and the backoff. Delivery never gives up on its own: only the classifier ends the loop
 * (success, or reject when retrying cannot help), so an outage stalls instead of dropping.
 */
import { backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { Clock } from './clock.js';

/** What one attempt's outcome calls for. */
export type RetryAction<W, R, J = never> =
  /** Done: `value` is the result. */
  | { readonly kind: 'success'; readonly value: R }
  /** The same work again after a backoff (an outage, a throttle, a refusal to wait out). */
  | { readonly kind: 'retry' }
  /**
   * Part of the work was taken: `work` is what is left. `backoff: false` retries at once, for
   * work that was only re-routed and has not failed yet.
   */
  | { readonly kind: 'retry-partial'; readonly work: W; readonly backoff?: boolean }
  /** Retrying cannot help (the destination refuses the work itself): the caller decides. */
  | { readonly kind: 'reject'; readonly value: J };

/** How the loop ended; on reject, `work` is what the last attempt was given. */
export type RetryEnd<W, R, J = never> =
  | { readonly kind: 'success'; readonly value: R }
  | { readonly kind: 'reject'; readonly value: J; readonly work: W };

/**
 * Backoff of each retrying stage, in one place. Sinks start fast and cap low so a recovered
 * destination is used again within seconds; the dead-letter write backs off further since its
 * failures (a full disk, a broken directory) need an operator.
 */
export const RETRY_BACKOFF = {
  sink: { baseMs: 250, maxMs: 10_000 },
  deadLetter: { baseMs: 500, maxMs: 30_000 },
  /** A sink unreachable at start-up: `run` waits for it rather than exit into a crash loop. */
  startUp: { baseMs: 1_000, maxMs: 30_000 },
} as const satisfies Record<string, BackoffOptions>;

export interface RetryOptions {
  readonly backoff: BackoffOptions;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
  /** Jitter source (tests pin it). @default Math.random */
  readonly random?: () => number;
  /** Told of each backoff before it is slept, e.g. for a retry metric. */
  readonly onRetry?: (delayMs: number, attempt: number) => void;
}

/**
 * Runs `attempt` until its classifier says success or reject. `attempt` receives the work left
 * and the 0-based attempt number (which grows across partial retries, so the backoff does too).
 * Throws the abort reason once `signal` aborts, checked before every attempt.
 */
export async function retryUntilDone<W, R, J = never>(
  work: W,
  attempt: (work: W, attempt: number) => Promise<RetryAction<W, R, J>>,
  options: RetryOptions,
): Promise<RetryEnd<W, R, J>> {
  const { signal } = options;
  let current = work;
  for (let n = 0; ; n += 1) {
    if (signal?.aborted === true) throw signal.reason;
    const action = await attempt(current, n);
    switch (action.kind) {
      case 'success':
        return action;
      case 'reject':
        return { kind: 'reject', value: action.value, work: current };
      case 'retry-partial':
        current = action.work;
        if (action.backoff === false) continue;
        break;
      case 'retry':
        break;
    }
    const delay = backoffDelay(n, options.backoff, options.random);
    options.onRetry?.(delay, n);
    await options.clock.sleep(delay, signal);
  }
}
