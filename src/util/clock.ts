/** Time source injected everywhere so that tests can drive time deterministically. */
export interface Clock {
  /** Milliseconds; only differences and comparisons with event timestamps matter. */
  now(): number;
  /** Resolves after `ms`; rejects with an `AbortError` when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Error thrown by aborted sleeps and waits, shaped like the DOM `AbortError`. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error(
    'operation aborted',
    reason === undefined ? undefined : { cause: reason },
  );
  error.name = 'AbortError';
  return error;
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Abortable timer-based sleep. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wall-clock time: event timestamps are epoch ms, so polling lag needs `Date.now()`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};

/**
 * Monotonic, sub-millisecond time for rate limiting: `Date.now()` has 1 ms steps and can jump
 * with NTP, which could let two grants land slightly closer than 1/rate apart.
 */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  sleep,
};
