/** Exponential backoff settings. */
export interface BackoffOptions {
  /** First retry waits up to this long. @default 200 */
  readonly baseMs?: number;
  /** Cap of the exponential term. @default 30000 */
  readonly maxMs?: number;
  /** Growth per attempt. @default 2 */
  readonly multiplier?: number;
}

/**
 * "Full jitter" delay for the given 0-based attempt: uniform in [0, min(max, base·mult^attempt)].
 * Full jitter spreads retries of many pollers hit by the same throttling burst (AWS architecture
 * blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 30_000;
  const multiplier = options.multiplier ?? 2;
  const ceiling = Math.min(max, base * multiplier ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
