import { abortError, type Clock } from '../util/clock.js';
import { isHsmStream, streamKey, type StreamRef } from '../util/identity.js';

/**
 * Why a stream asks for its next GetLogEvents call: `now` after a page with events (there may be
 * more), after a re-seek or an error backoff, and for a stream never read; `idle` after the end
 * of the stream, or an empty page (AWS answers a stream whose events expired with empty pages and
 * new tokens forever, so an empty page is no sign of more data).
 */
export type PollUrgency = 'now' | 'idle';

/** The budget the scheduler spends: one call per token (see TokenBucket). */
export interface CallBudget {
  /** Takes a token if the budget allows: its grant time, or how long to wait before trying again. */
  take(): { readonly at: number } | { readonly waitMs: number };
  /** Returns the token granted at `at` for a call that was not made. */
  giveBack(at: number): void;
  /**
   * The call granted at `at` is leaving now: the per-second cap counts it from now, so a call
   * held up between grant and wire cannot end up closer than a second to the calls after it.
   */
  sent(at: number): void;
}

export interface PollSchedulerOptions {
  /**
   * Shortest interval between two polls of an idle stream, however much budget is left, so a
   * small fleet does not poll its streams many times a second. @default 1000
   */
  readonly minIdleMs?: number;
  /** Called when a stream's data woke its idle siblings (metrics). */
  readonly onSiblingsWoken?: (stream: StreamRef, woken: number) => void;
}

/** A granted call. */
export interface PollGrant {
  /** Time between being due and the grant: the wait for budget (metrics). */
  readonly waitedMs: number;
  /** The call will not be made after all: the token goes back to the budget. */
  giveBack(): void;
  /** The call is leaving now (see {@link CallBudget.sent}); a no-op after `giveBack`. */
  sent(): void;
}

/**
 * While streams with data wait, this many of their calls go before each call of an idle stream:
 * a backlog takes at most three quarters of the budget, so idle streams are still polled.
 */
const ACTIVE_CALLS_PER_IDLE_CALL = 3;

interface Waiter {
  readonly stream: StreamRef;
  readonly key: string;
  urgency: PollUrgency;
  /** Not granted before this time. */
  notBefore: number;
  /** Request order: active streams are served first come, first served. */
  readonly seq: number;
  readonly resolve: (grant: PollGrant) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/**
 * Spends one GetLogEvents budget (per account and region, like the quota) on the streams that
 * share it. Each poller asks for its next call with an urgency; the scheduler grants calls at the
 * budget's pace:
 * - a stream that just returned data is served at once, first come first served among such
 *   streams; while they wait, every fourth call still goes to an idle stream, so a backlog never
 *   starves the others;
 * - an idle stream is due `minIdleMs` after its last call, and the most overdue goes first, so
 *   idle streams are polled round-robin as often as the budget left by active streams allows:
 *   the longest wait follows from the budget and the number of streams (streams / rate seconds)
 *   instead of a fixed back-off ceiling;
 * - data on one stream after it was idle wakes its idle siblings ({@link wakeSiblings}), which
 *   then are served like active streams.
 * The budget itself (TokenBucket) guarantees the call rate is never exceeded.
 */
export class PollScheduler {
  private readonly budget: CallBudget;
  private readonly clock: Clock;
  private readonly minIdleMs: number;
  private readonly onSiblingsWoken: ((stream: StreamRef, woken: number) => void) | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private requests = 0;
  /** Calls granted to active streams since the last idle one. */
  private activeStreak = 0;
  private pumping = false;
  private nap: AbortController | undefined;

  constructor(budget: CallBudget, clock: Clock, options: PollSchedulerOptions = {}) {
    this.budget = budget;
    this.clock = clock;
    this.minIdleMs = Math.max(0, options.minIdleMs ?? 1000);
    this.onSiblingsWoken = options.onSiblingsWoken;
  }

  /** Streams waiting for a call. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Resolves when `stream` may make its next call (its token is spent); rejects with AbortError
   * on abort. One request per stream at a time.
   */
  next(stream: StreamRef, urgency: PollUrgency, signal?: AbortSignal): Promise<PollGrant> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const key = streamKey(stream);
    if (this.waiters.has(key)) {
      return Promise.reject(new Error(`stream ${key} already waits for a call`));
    }
    const now = this.clock.now();
    return new Promise<PollGrant>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.waiters.get(key) === waiter) this.waiters.delete(key);
        // With nobody left waiting the pump's nap has nothing to wait for, and its timer would
        // keep a stopping process alive until it fires.
        if (this.waiters.size === 0) this.nap?.abort();
        reject(abortError(signal));
      };
      const notBefore = urgency === 'now' ? now : now + this.minIdleMs;
      const waiter: Waiter = {
        stream,
        key,
        urgency,
        notBefore,
        seq: this.requests++,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(key, waiter);
      this.kick();
    });
  }

  /**
   * `stream` returned data after being idle: its idle sibling HSM streams (same log group) are
   * polled next, like active streams, because CloudHSM copies logins and user management to
   * every HSM of the cluster.
   */
  wakeSiblings(stream: StreamRef): void {
    // Only HSM streams get the copies; the certificate-storage stream never does, so it neither
    // wakes the HSMs nor is woken by them (waking it cost a call per copied login for nothing).
    if (!isHsmStream(stream.logStream)) return;
    const now = this.clock.now();
    const key = streamKey(stream);
    let woken = 0;
    for (const waiter of this.waiters.values()) {
      if (waiter.stream.logGroup !== stream.logGroup || waiter.urgency !== 'idle') continue;
      if (waiter.key === key || !isHsmStream(waiter.stream.logStream)) continue;
      // Keeps its place in request order, so it goes before streams that asked since.
      waiter.urgency = 'now';
      waiter.notBefore = now;
      woken += 1;
    }
    if (woken > 0) {
      this.onSiblingsWoken?.(stream, woken);
      this.kick();
    }
  }

  /** Starts the pump, or cuts its nap short: a new or woken waiter may be due earlier. */
  private kick(): void {
    this.nap?.abort();
    void this.pump();
  }

  /**
   * The waiter to serve now: the longest-waiting active one, except that every
   * ACTIVE_CALLS_PER_IDLE_CALL + 1st call goes to the most overdue idle one if any is due.
   */
  private due(now: number): Waiter | undefined {
    let active: Waiter | undefined;
    let idle: Waiter | undefined;
    for (const waiter of this.waiters.values()) {
      if (waiter.notBefore > now) continue;
      if (waiter.urgency === 'now') {
        if (active === undefined || waiter.seq < active.seq) active = waiter;
      } else if (
        idle === undefined ||
        waiter.notBefore < idle.notBefore ||
        (waiter.notBefore === idle.notBefore && waiter.seq < idle.seq)
      ) {
        idle = waiter;
      }
    }
    if (active === undefined || idle === undefined) return active ?? idle;
    return this.activeStreak >= ACTIVE_CALLS_PER_IDLE_CALL ? idle : active;
  }

  private earliest(): number {
    let earliest = Infinity;
    for (const waiter of this.waiters.values()) earliest = Math.min(earliest, waiter.notBefore);
    return earliest;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiters.size > 0) {
        const now = this.clock.now();
        const earliest = this.earliest();
        if (earliest > now) {
          const nap = new AbortController();
          this.nap = nap;
          // Ceil: a timer that fires a fraction early would otherwise spin.
          await this.clock.sleep(Math.ceil(earliest - now), nap.signal).catch(() => undefined);
          this.nap = undefined;
          continue;
        }
        const token = this.budget.take();
        if ('waitMs' in token) {
          await this.clock.sleep(Math.ceil(token.waitMs));
          continue;
        }
        // Chosen after the token: whoever became due or was woken meanwhile competes too.
        const grantedAt = this.clock.now();
        const waiter = this.due(grantedAt);
        if (waiter === undefined) {
          // Everyone due aborted while we waited for the token.
          this.budget.giveBack(token.at);
          continue;
        }
        this.waiters.delete(waiter.key);
        this.activeStreak = waiter.urgency === 'now' ? this.activeStreak + 1 : 0;
        waiter.cleanup();
        let open = true;
        waiter.resolve({
          waitedMs: Math.max(0, grantedAt - waiter.notBefore),
          giveBack: () => {
            if (!open) return;
            open = false;
            this.budget.giveBack(token.at);
            this.kick();
          },
          sent: () => {
            if (!open) return;
            open = false;
            this.budget.sent(token.at);
          },
        });
      }
    } finally {
      this.pumping = false;
    }
  }
}
