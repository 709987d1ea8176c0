/**
 * Readiness for `GET /readyz` (README "Operating it"): a small registry of named checks (checkpoints loaded,
 * CloudWatch reachable, each enabled sink reachable) and a tracker that turns a sink's up/down
 * reports into a check that fails only once the sink has been down longer than a grace period
 * (`http.readySinkDownMs`), so a short broker hiccup does not pull the pod out of service.
 */
import type { ComponentLogger } from '../util/logger.js';
import { scrubMessage } from './error-serializer.js';
import type { Metrics } from './metrics.js';

export interface CheckResult {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface NamedCheckResult extends CheckResult {
  readonly name: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly NamedCheckResult[];
}

/** Named readiness checks: static values (`set`) or probes evaluated on each request. */
export class Readiness {
  readonly #checks = new Map<string, () => CheckResult>();

  /** Sets (or replaces) a check's current value. */
  set(name: string, ok: boolean, detail?: string): void {
    const result: CheckResult = detail === undefined ? { ok } : { ok, detail };
    this.#checks.set(name, () => result);
  }

  /** Registers a check computed at evaluation time. */
  setProbe(name: string, probe: () => CheckResult): void {
    this.#checks.set(name, probe);
  }

  delete(name: string): void {
    this.#checks.delete(name);
  }

  /** Ready when every registered check passes (a probe that throws fails). */
  evaluate(): ReadinessReport {
    const checks: NamedCheckResult[] = [];
    for (const [name, probe] of this.#checks) {
      let result: CheckResult;
      try {
        result = probe();
      } catch (error) {
        result = { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
      checks.push(
        result.detail === undefined
          ? { name, ok: result.ok }
          : { name, ok: result.ok, detail: result.detail },
      );
    }
    return { ready: checks.every((check) => check.ok), checks };
  }
}

export interface SinkHealthOptions {
  /** A sink down for longer than this makes its readiness check fail (ms). */
  readonly downAfterMs: number;
  /** Clock in ms. @default Date.now */
  readonly now?: () => number;
  /** Mirrors the state into `cloudhsm_forwarder_sink_up`. */
  readonly metrics?: Pick<Metrics, 'sinkUp'>;
  /** Told once when a sink goes down and once when it recovers (the retry lines between are rate-limited). */
  readonly logger?: ComponentLogger;
}

interface SinkState {
  up: boolean;
  since: number;
  detail: string | undefined;
}

/** Since when a sink has held writes back because the destination refuses them, and why. */
interface StallState {
  readonly since: number;
  detail: string | undefined;
}

/**
 * Up/down tracker per sink. Sinks report through {@link markUp}/{@link markDown} (or the
 * {@link listener}, matching the sinks' health-listener signature); {@link attach} adds one
 * readiness probe per sink, named `sink:<name>`.
 */
export class SinkHealth {
  readonly #states = new Map<string, SinkState>();
  readonly #stalls = new Map<string, StallState>();
  readonly #downAfterMs: number;
  readonly #now: () => number;
  readonly #metrics: Pick<Metrics, 'sinkUp'> | undefined;
  readonly #logger: ComponentLogger | undefined;

  constructor(options: SinkHealthOptions) {
    this.#downAfterMs = options.downAfterMs;
    this.#now = options.now ?? Date.now;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** Starts tracking a sink, counted up until it reports otherwise. */
  register(sink: string): void {
    if (!this.#states.has(sink)) {
      this.#states.set(sink, { up: true, since: this.#now(), detail: 'not contacted yet' });
      this.#gauge(sink, true);
    }
  }

  markUp(sink: string): void {
    const state = this.#states.get(sink);
    if (state === undefined || !state.up) {
      const now = this.#now();
      if (state !== undefined) {
        this.#logger?.info(
          { sink, downForMs: now - state.since },
          `${sink} is reachable again; held events are being delivered`,
        );
      }
      this.#states.set(sink, { up: true, since: now, detail: undefined });
    } else {
      state.detail = undefined;
    }
    this.#gauge(sink, true);
  }

  /** Marks a sink down; the down period starts at the first report and is not reset by more. */
  markDown(sink: string, detail?: string): void {
    const state = this.#states.get(sink);
    if (state === undefined || state.up) {
      this.#logger?.warn(
        { sink, reason: detail === undefined ? undefined : scrubMessage(detail) },
        `${sink} is unreachable; events are held and retried until it answers (nothing is dead-lettered)`,
      );
      this.#states.set(sink, { up: false, since: this.#now(), detail });
    } else if (detail !== undefined) {
      state.detail = detail;
    }
    this.#gauge(sink, false);
  }

  /** `(sink, up, detail?)`: the shape of a sink health listener. */
  readonly listener = (sink: string, up: boolean, detail?: string): void => {
    if (up) this.markUp(sink);
    else this.markDown(sink, detail);
  };

  /**
   * A sink holding writes back because the destination refuses them (a configuration problem).
   * Kept apart from up/down: the node still answers pings meanwhile, which must not clear it.
   */
  readonly stallListener = (sink: string, stalled: boolean, detail?: string): void => {
    const state = this.#stalls.get(sink);
    if (!stalled) this.#stalls.delete(sink);
    else if (state === undefined) this.#stalls.set(sink, { since: this.#now(), detail });
    else state.detail = detail;
  };

  isUp(sink: string): boolean {
    return this.#states.get(sink)?.up ?? false;
  }

  /** Fails once the sink has been down, or stalled by refusals, for longer than `downAfterMs`. */
  check(sink: string): CheckResult {
    const state = this.#states.get(sink);
    if (state === undefined) return { ok: false, detail: 'unknown sink' };
    const stall = this.#stalls.get(sink);
    if (state.up && stall !== undefined) {
      const stalledMs = this.#now() - stall.since;
      return {
        ok: stalledMs <= this.#downAfterMs,
        detail: `writes refused for ${Math.round(stalledMs / 1000)}s (limit ${Math.round(this.#downAfterMs / 1000)}s): ${stall.detail ?? 'no detail'}`,
      };
    }
    if (state.up) return { ok: true };
    const downMs = this.#now() - state.since;
    const reason = state.detail === undefined ? '' : `: ${state.detail}`;
    return {
      ok: downMs <= this.#downAfterMs,
      detail: `down for ${Math.round(downMs / 1000)}s (limit ${Math.round(this.#downAfterMs / 1000)}s)${reason}`,
    };
  }

  /** Registers `sink:<name>` probes in `readiness` for every sink (registering them too). */
  attach(readiness: Readiness, sinks: readonly string[]): void {
    for (const sink of sinks) {
      this.register(sink);
      readiness.setProbe(`sink:${sink}`, () => this.check(sink));
    }
  }

  #gauge(sink: string, up: boolean): void {
    this.#metrics?.sinkUp.set({ sink }, up ? 1 : 0);
  }
}

export interface WriteHealthOptions {
  /** Writes failing for longer than this make the check fail (ms). */
  readonly downAfterMs: number;
  /** Clock in ms. @default Date.now */
  readonly now?: () => number;
}

/**
 * Readiness of a store written per key (the checkpoint store, one key per stream): fails once the
 * writes of some key have kept failing for longer than `downAfterMs`; a success clears that key.
 * Per key, because one stream's successful write says nothing about another stream's failing one.
 */
export class WriteHealth {
  readonly #failingSince = new Map<string, number>();
  readonly #downAfterMs: number;
  readonly #now: () => number;

  constructor(options: WriteHealthOptions) {
    this.#downAfterMs = options.downAfterMs;
    this.#now = options.now ?? Date.now;
  }

  /** A write failed; the failing period starts at the first failure and is not reset by more. */
  failed(key: string): void {
    if (!this.#failingSince.has(key)) this.#failingSince.set(key, this.#now());
  }

  succeeded(key: string): void {
    this.#failingSince.delete(key);
  }

  check(): CheckResult {
    if (this.#failingSince.size === 0) return { ok: true };
    const downMs = this.#now() - Math.min(...this.#failingSince.values());
    return {
      ok: downMs <= this.#downAfterMs,
      detail:
        `writes of ${this.#failingSince.size} key(s) failing for ${Math.round(downMs / 1000)}s ` +
        `(limit ${Math.round(this.#downAfterMs / 1000)}s)`,
    };
  }
}

export interface ProgressWatchOptions {
  /** Work waiting this long without any of it finishing makes the check fail (ms). */
  readonly downAfterMs: number;
  /** What is watched, for the detail (`kafka`, `the dead letter`). */
  readonly what: string;
  /** Clock in ms. @default Date.now */
  readonly now?: () => number;
}

/**
 * Readiness of a destination by its progress, whatever stops it: work waits (a delivery in
 * flight) and none has finished for longer than `downAfterMs`. Reachability probes miss the
 * stalls that matter most (requests that time out, a deleted topic on a broker that still
 * answers pings, a dead-letter file on a full disk); no progress while work waits catches each.
 */
export class ProgressWatch {
  readonly #downAfterMs: number;
  readonly #what: string;
  readonly #now: () => number;
  #waiting = 0;
  /** When the current wait began: the last time something finished, or work arrived idle. */
  #since = 0;
  #lastFailure: string | undefined;

  constructor(options: ProgressWatchOptions) {
    this.#downAfterMs = options.downAfterMs;
    this.#what = options.what;
    this.#now = options.now ?? Date.now;
  }

  started(): void {
    if (this.#waiting === 0) {
      this.#since = this.#now();
      this.#lastFailure = undefined;
    }
    this.#waiting += 1;
  }

  /** One piece of work is done (or abandoned at shutdown): progress. */
  finished(): void {
    this.#waiting = Math.max(0, this.#waiting - 1);
    this.#since = this.#now();
    this.#lastFailure = undefined;
  }

  /** Why the last attempt failed, for the detail (scrubbed: never record content). */
  failed(reason: string): void {
    this.#lastFailure = scrubMessage(reason);
  }

  check(): CheckResult {
    if (this.#waiting === 0) return { ok: true };
    const stuckMs = this.#now() - this.#since;
    if (stuckMs <= this.#downAfterMs) return { ok: true };
    const why = this.#lastFailure === undefined ? '' : `; last failure: ${this.#lastFailure}`;
    return {
      ok: false,
      detail:
        `no ${this.#what} delivery has finished for ${Math.round(stuckMs / 1000)}s while ` +
        `${this.#waiting} wait (limit ${Math.round(this.#downAfterMs / 1000)}s)${why}`,
    };
  }
}
