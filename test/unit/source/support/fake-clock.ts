import { abortError, type Clock } from '../../../../src/util/clock.js';

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly resolve: () => void;
}

/** Lets pending promise callbacks (and their follow-up microtasks) run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((r) => setImmediate(r));
}

/** Deterministic clock: time moves only through `advance`. */
export class FakeClock implements Clock {
  private time: number;
  private order = 0;
  private timers: Timer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        order: this.order++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Pending sleeps. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting their effects run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flush();
    for (;;) {
      const next = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.at);
      next.resolve();
      await flush();
    }
    this.time = end;
    await flush();
  }

  /** Advances in steps until `predicate` holds or `maxMs` elapsed; returns whether it held. */
  async advanceUntil(predicate: () => boolean, maxMs: number, stepMs = 10): Promise<boolean> {
    const end = this.time + maxMs;
    while (!predicate()) {
      if (this.time >= end) return false;
      await this.advance(stepMs);
    }
    return true;
  }
}
