/**
 * The refusals a sink's deliveries are waiting on, merged into one stall report. A sink delivers
 * several batches at once and each may wait on a refusing index (or a refused request); the sink
 * is stalled while any of them still waits, with every distinct refusal in the detail. Each
 * delivery reports through its own {@link StallHolder}, so one delivery finishing does not clear
 * a refusal another one still waits on.
 */
import type { SinkName, SinkStallListener } from './sink.js';

export interface StallHolder {
  /** What this delivery waits on now: key (index name, or the request) -> what to fix. */
  set(now: ReadonlyMap<string, string>): void;
  /** Waits on nothing any more (delivered, rejected or stopped). */
  clear(): void;
}

export class StallRegister {
  readonly #sink: SinkName;
  readonly #listener: SinkStallListener | undefined;
  readonly #entries = new Map<string, { holders: number; detail: string }>();

  constructor(sink: SinkName, listener: SinkStallListener | undefined) {
    this.#sink = sink;
    this.#listener = listener;
  }

  holder(): StallHolder {
    const held = new Set<string>();
    const set = (now: ReadonlyMap<string, string>): void => {
      let changed = false;
      for (const key of [...held]) {
        if (now.has(key)) continue;
        held.delete(key);
        const entry = this.#entries.get(key);
        if (entry !== undefined && (entry.holders -= 1) === 0) this.#entries.delete(key);
        changed = true;
      }
      for (const [key, detail] of now) {
        const entry = this.#entries.get(key);
        if (!held.has(key)) {
          held.add(key);
          this.#entries.set(key, { holders: (entry?.holders ?? 0) + 1, detail });
          changed = true;
        } else if (entry !== undefined && entry.detail !== detail) {
          entry.detail = detail;
          changed = true;
        }
      }
      if (changed) this.#report();
    };
    return { set, clear: () => set(new Map()) };
  }

  #report(): void {
    const details = [...this.#entries.values()].map((entry) => entry.detail);
    if (details.length === 0) this.#listener?.(this.#sink, false);
    else this.#listener?.(this.#sink, true, details.join('; '));
  }
}
