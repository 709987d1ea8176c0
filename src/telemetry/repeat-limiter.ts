/**
 * Rate limit for repeated warnings and errors. During an outage every in-flight batch retries on
 * its own backoff and each retry logs the same line; an operator needs the first line, a count,
 * and the line that says it is over (the sink-recovered line), not thousands of copies.
 *
 * A line is "the same" when its level, component, message, error message and the identity fields
 * below match; counters such as `attempt` or `events` do not make a line new. The first line of a
 * kind is written at once; repeats within `windowMs` are counted, and the next line written after
 * the window carries `suppressed` (how many were left out since the previous one).
 */

/** Fields that name what a line is about (a different stream or index is a different line). */
const IDENTITY_FIELDS = ['sink', 'logGroup', 'logStream', 'index', 'topic', 'file', 'status'];

/** Kinds remembered at most; the oldest is forgotten first (a forgotten kind logs again). */
const MAX_KINDS = 1_000;

export interface RepeatLimiterOptions {
  readonly windowMs: number;
  readonly now?: () => number;
}

interface KindState {
  lastWritten: number;
  suppressed: number;
}

export class RepeatLimiter {
  readonly #kinds = new Map<string, KindState>();
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: RepeatLimiterOptions) {
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether to write a line of this kind now; when it is written after repeats were left out,
   * how many (`suppressed` > 0).
   */
  admit(kind: string): { readonly write: boolean; readonly suppressed: number } {
    const now = this.#now();
    const state = this.#kinds.get(kind);
    if (state !== undefined && now - state.lastWritten < this.#windowMs) {
      state.suppressed += 1;
      return { write: false, suppressed: 0 };
    }
    const suppressed = state?.suppressed ?? 0;
    this.#kinds.delete(kind);
    this.#kinds.set(kind, { lastWritten: now, suppressed: 0 });
    if (this.#kinds.size > MAX_KINDS) {
      const oldest = this.#kinds.keys().next().value;
      if (oldest !== undefined) this.#kinds.delete(oldest);
    }
    return { write: true, suppressed };
  }
}

/** The kind of one log call: what makes two lines "the same". */
export function lineKind(
  level: number,
  component: unknown,
  fields: Record<string, unknown> | undefined,
  message: unknown,
): string {
  const parts: unknown[] = [level, component, message];
  const err = fields?.err;
  parts.push(err instanceof Error ? err.message : typeof err === 'string' ? err : undefined);
  for (const name of IDENTITY_FIELDS) parts.push(fields?.[name]);
  return JSON.stringify(parts);
}
