import { abortError, monotonicClock, type Clock } from '../util/clock.js';
import { PollScheduler, type CallBudget, type PollSchedulerOptions } from './poll-scheduler.js';
import { DEFAULT_BUDGETS } from '../util/cloudwatch-quotas.js';
import type { ApiOperation } from './source-metrics.js';

/** Rate of one token bucket. */
export interface RateLimit {
  /** Sustained requests per second. */
  readonly ratePerSecond: number;
  /** Requests allowed back to back after an idle period. @default 1 */
  readonly burst?: number;
}

/** Defaults: the budgets derived from the quota table (util/cloudwatch-quotas.ts). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<ApiOperation, Required<RateLimit>>> = {
  GetLogEvents: { ratePerSecond: DEFAULT_BUDGETS.GetLogEvents, burst: 1 },
  DescribeLogStreams: { ratePerSecond: DEFAULT_BUDGETS.DescribeLogStreams, burst: 1 },
  DescribeLogGroups: { ratePerSecond: DEFAULT_BUDGETS.DescribeLogGroups, burst: 1 },
};

/**
 * Sliding window for the per-second cap. A call is counted from when it leaves (`sent`), not
 * from its grant: the delay between the two varies (a garbage-collection pause, a busy event
 * loop), and counted from the grant, one late call followed by punctual ones put rate+1 calls
 * into one second on the wire (9 in 968 ms at 8/s on a 2-core machine, even with a 1.05 s
 * window). What is left is the jitter from the send hook to the receiver, which a loaded machine
 * stretches: at 8/s with a 1 s window, 5 of 2,527 seconds held 9 calls, in 995.8 to 999.5 ms;
 * at 20/s with a 1.02 s window, 4 of 6,175 held 21, the shortest in 936.8 ms (2 cores shared
 * with moto, Kafka, OpenSearch and a CPU benchmark). 100 ms of headroom covers that; at
 * saturation the cap allows floor(rate) calls per 1.1 s, about 9 % below the configured rate,
 * which the quota's own margin (the budget is 80 % of it by default) does not need back.
 */
const WINDOW_MS = 1100;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/**
 * Token bucket with a FIFO queue of waiters: requests are granted in arrival order, so pollers
 * that re-queue after each call are served round-robin and a busy stream cannot starve others.
 * Besides the bucket, grants are capped at `max(1, floor(rate))` in any sliding one-second window,
 * so that a burst never pushes a second over the configured rate.
 */
export class TokenBucket implements CallBudget {
  private readonly rate: number;
  private readonly burst: number;
  private readonly windowCap: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;
  private readonly recent: number[] = [];
  private readonly queue: Waiter[] = [];
  private pumping = false;

  constructor(limit: RateLimit, clock: Clock = monotonicClock) {
    if (!(limit.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    this.rate = limit.ratePerSecond;
    this.burst = Math.max(1, Math.floor(limit.burst ?? 1));
    this.windowCap = Math.max(1, Math.floor(this.rate));
    this.clock = clock;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Number of callers waiting. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves when the caller may issue one request; rejects with AbortError on abort. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    if (this.queue.length === 0 && this.tryTake()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(abortError(signal));
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      void this.pump();
    });
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
  }

  /** Takes a token if both the bucket and the sliding window allow it. */
  private tryTake(): boolean {
    return this.delayUntilNext() === 0;
  }

  take(): { readonly at: number } | { readonly waitMs: number } {
    const waitMs = this.delayUntilNext();
    return waitMs > 0 ? { waitMs } : { at: this.recent.at(-1) as number };
  }

  /**
   * Returns a token whose call was not made: removes its grant from the sliding window (if it
   * is still there) and puts it back in the bucket.
   */
  giveBack(at: number): void {
    const index = this.recent.lastIndexOf(at);
    if (index >= 0) this.recent.splice(index, 1);
    this.tokens = Math.min(this.burst, this.tokens + 1);
    // A waiter may be able to go now.
    if (this.queue.length > 0) void this.pump();
  }

  sent(at: number): void {
    const index = this.recent.lastIndexOf(at);
    const now = this.clock.now();
    if (index < 0 || now <= at) return;
    this.recent.splice(index, 1);
    // Kept in time order: the window drops its oldest entries from the front.
    let insert = this.recent.length;
    while (insert > 0 && (this.recent[insert - 1] as number) > now) insert -= 1;
    this.recent.splice(insert, 0, now);
  }

  /** 0 after taking a token; otherwise ms to wait before trying again. */
  private delayUntilNext(): number {
    const now = this.clock.now();
    this.refill(now);
    while (this.recent.length > 0 && (this.recent[0] as number) <= now - WINDOW_MS) {
      this.recent.shift();
    }
    const windowWait =
      this.recent.length >= this.windowCap ? (this.recent[0] as number) + WINDOW_MS - now : 0;
    const bucketWait = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.rate;
    const wait = Math.max(windowWait, bucketWait);
    if (wait > 0) return wait;
    this.tokens -= 1;
    this.recent.push(now);
    return 0;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const wait = this.delayUntilNext();
        if (wait > 0) {
          // Ceil: a timer that fires a fraction early would otherwise spin.
          await this.clock.sleep(Math.ceil(wait));
          continue;
        }
        const waiter = this.queue.shift();
        if (waiter === undefined) {
          // Everyone aborted while we slept: give the token back.
          this.tokens += 1;
          this.recent.pop();
          break;
        }
        waiter.cleanup();
        waiter.resolve();
      }
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * One token bucket per API operation, shared by every poller and by discovery, because the quotas
 * are per account and region rather than per stream. GetLogEvents calls go through {@link polls},
 * which decides which stream gets the next one.
 */
export class RateLimiter {
  private readonly buckets: Record<ApiOperation, TokenBucket>;
  readonly polls: PollScheduler;

  constructor(
    limits: Partial<Record<ApiOperation, RateLimit>> = {},
    clock: Clock = monotonicClock,
    scheduling: PollSchedulerOptions = {},
  ) {
    const make = (op: ApiOperation): TokenBucket =>
      new TokenBucket(limits[op] ?? DEFAULT_RATE_LIMITS[op], clock);
    this.buckets = {
      GetLogEvents: make('GetLogEvents'),
      DescribeLogStreams: make('DescribeLogStreams'),
      DescribeLogGroups: make('DescribeLogGroups'),
    };
    this.polls = new PollScheduler(this.buckets.GetLogEvents, clock, scheduling);
  }

  acquire(operation: ApiOperation, signal?: AbortSignal): Promise<void> {
    return this.buckets[operation].acquire(signal);
  }
}
