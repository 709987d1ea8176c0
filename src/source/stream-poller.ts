import type { AckTracker } from './ack-tracker.js';
import type { Batch } from './batch.js';
import { streamKey, type StreamRef } from '../util/identity.js';
import { filterAndAdvance, type PollerState } from './read-position.js';
import { limitedCall } from './api-call.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import { classifyError } from './aws-errors.js';
import type { Clock } from '../util/clock.js';
import type { CloudWatchPort } from './cloudwatch-port.js';
import type { ComponentLogger } from '../util/logger.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SourceMetrics } from './source-metrics.js';

/** Tuning of one poller. */
export interface PollerOptions {
  /** Events per GetLogEvents call (API maximum 10,000). @default 10000 */
  readonly pageLimit?: number;
  /** First wait after reaching the end of a stream. @default 1000 */
  readonly minIdleMs?: number;
  /** Longest wait between polls of an idle stream. @default 30000 */
  readonly maxIdleMs?: number;
  /** Pages read back to back before yielding to other work. @default 10 */
  readonly maxPagesPerCycle?: number;
  readonly backoff?: BackoffOptions;
}

/** Never throws, whatever was thrown (String() itself throws on some objects). */
function errorText(error: unknown): string {
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

export interface StreamPollerDeps {
  readonly stream: StreamRef;
  readonly port: CloudWatchPort;
  readonly limiter: RateLimiter;
  readonly tracker: AckTracker;
  readonly clock: Clock;
  readonly logger: ComponentLogger;
  readonly metrics: SourceMetrics;
  readonly random?: () => number;
  readonly options?: PollerOptions;
  readonly state: PollerState;
  /** Hands a batch to the pipeline; a rejection makes the poller re-read it after a backoff. */
  readonly deliver: (batch: Batch) => Promise<void> | void;
  /** The stream or its group no longer exists; the poller has stopped. */
  readonly onGone?: (stream: StreamRef) => void;
  /** The poller switched between draining (false) and waiting at the tail (true). */
  readonly onIdleChange?: (stream: StreamRef, idle: boolean) => void;
}

type PageResult = 'end' | 'data' | 'empty' | 'reseek';

/**
 * Polls one stream with GetLogEvents, following its forward token (`startFromHead: true`). End of
 * stream is "the returned token equals the token sent" — an empty page with a new token is not
 * the end. Active streams are drained page after page (bounded per cycle); idle streams back off
 * between `minIdleMs` and `maxIdleMs` with jitter. A rejected token (expired after ~24 h, or
 * garbage) re-seeks with `startTime = lastEventTimestamp` and skips records already delivered.
 */
export class StreamPoller {
  readonly stream: StreamRef;
  private readonly deps: StreamPollerDeps;
  private readonly state: PollerState;
  private readonly controller = new AbortController();
  private readonly pageLimit: number;
  private readonly minIdleMs: number;
  private readonly maxIdleMs: number;
  private readonly maxPagesPerCycle: number;
  private readonly random: () => number;
  private running: Promise<void> | undefined;
  private idleFlag = false;

  constructor(deps: StreamPollerDeps) {
    this.deps = deps;
    this.stream = deps.stream;
    this.state = deps.state;
    const options = deps.options ?? {};
    this.pageLimit = Math.max(
      1,
      Math.min(options.pageLimit ?? 10_000, 10_000, deps.tracker.maxInFlightEvents),
    );
    this.minIdleMs = Math.max(0, options.minIdleMs ?? 1000);
    this.maxIdleMs = Math.max(this.minIdleMs, options.maxIdleMs ?? 30_000);
    this.maxPagesPerCycle = Math.max(1, options.maxPagesPerCycle ?? 10);
    this.random = deps.random ?? Math.random;
  }

  /** True while waiting at the tail of the stream. */
  get idle(): boolean {
    return this.idleFlag;
  }

  /** The in-memory read position (handed to a successor if the stream is re-discovered). */
  get position(): PollerState {
    return this.state;
  }

  start(): void {
    this.running ??= this.supervise();
  }

  /** Stops polling (in-flight batches stay ackable) and waits for the loop to exit. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  /**
   * Runs the polling loop and restarts it when an error escapes it (a fault its own handling did
   * not foresee). A loop that just ended would stall its stream for good: discovery still lists
   * the stream, so nothing would ever start another poller. The read position lives in `state`,
   * so the new loop reads on where the old one stopped. Restarts back off like unknown API
   * errors, are logged and counted.
   */
  private async supervise(): Promise<void> {
    const signal = this.controller.signal;
    for (let restarts = 0; ; restarts += 1) {
      try {
        // Returns only when stopped or when the stream is gone.
        await this.run();
        return;
      } catch (error) {
        if (signal.aborted) return;
        const delay = backoffDelay(restarts + 5, this.deps.options?.backoff, this.random);
        this.deps.metrics.pollerRestarted(this.stream);
        this.deps.logger.error(
          { ...this.stream, err: errorText(error), restarts: restarts + 1, delayMs: delay },
          'stream poller failed unexpectedly; restarting it after a backoff',
        );
        try {
          await this.deps.clock.sleep(delay, signal);
        } catch {
          return;
        }
      }
    }
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let failures = 0;
    let idleRounds = 0;
    while (!signal.aborted) {
      let pages = 0;
      let atEnd = false;
      try {
        while (!atEnd && pages < this.maxPagesPerCycle && !signal.aborted) {
          const result = await this.pollPage(signal);
          failures = 0;
          if (result === 'reseek') continue;
          pages += 1;
          if (result === 'end') atEnd = true;
          else {
            if (result === 'data') idleRounds = 0;
            this.setIdle(false);
          }
        }
      } catch (error) {
        const errorClass = classifyError(error);
        if (errorClass === 'aborted' || signal.aborted) return;
        if (errorClass === 'not-found') {
          this.deps.logger.warn({ ...this.stream }, 'log stream no longer exists; poller retired');
          this.deps.onGone?.(this.stream);
          return;
        }
        // Unknown errors (access denied, bad parameters) are retried slowly and loudly: an
        // operator can fix them at runtime, and exiting would only stop every other stream too.
        const attempt =
          failures + (errorClass === 'unknown' || errorClass === 'invalid-parameter' ? 5 : 0);
        failures += 1;
        const delay = backoffDelay(attempt, this.deps.options?.backoff, this.random);
        const fields = { ...this.stream, errorClass, err: String(error), delayMs: delay, failures };
        if (errorClass === 'throttled' || errorClass === 'retryable') {
          this.deps.logger.debug(fields, 'GetLogEvents failed; backing off');
        } else {
          this.deps.logger.error(fields, 'GetLogEvents failed; backing off');
        }
        this.deps.metrics.retry('GetLogEvents', delay);
        try {
          await this.deps.clock.sleep(delay, signal);
        } catch {
          return;
        }
        continue;
      }
      try {
        if (atEnd) {
          this.setIdle(true);
          const ceiling = Math.min(this.maxIdleMs, this.minIdleMs * 2 ** Math.min(idleRounds, 30));
          idleRounds += 1;
          // Equal jitter: at least half the interval, so idle streams stay cheap, but spread out
          // so hundreds of idle streams do not poll in lockstep.
          await this.deps.clock.sleep(ceiling / 2 + (this.random() * ceiling) / 2, signal);
        } else {
          // Cycle bound reached: yield so other pollers and the pipeline get the event loop.
          await this.deps.clock.sleep(0, signal);
        }
      } catch (error) {
        // Only a stop ends the loop here; anything else is the supervisor's to report.
        if (signal.aborted) return;
        throw error;
      }
    }
  }

  private setIdle(idle: boolean): void {
    if (this.idleFlag === idle) return;
    this.idleFlag = idle;
    this.deps.onIdleChange?.(this.stream, idle);
  }

  private async pollPage(signal: AbortSignal): Promise<PageResult> {
    const { tracker, port, clock, metrics } = this.deps;
    // Backpressure before the API call: a slow pipeline stops reads, CloudWatch keeps the data.
    const reservation = await tracker.reserve(this.stream, this.pageLimit, signal);
    let registered = false;
    try {
      const sent = this.state.token;
      const startTime = this.state.startTime;
      let out;
      try {
        out = await limitedCall(
          this.deps,
          'GetLogEvents',
          () =>
            port.getLogEvents(
              {
                logGroupName: this.stream.logGroup,
                logStreamName: this.stream.logStream,
                nextToken: sent,
                startTime,
                startFromHead: true,
                limit: this.pageLimit,
              },
              signal,
            ),
          signal,
          sent !== undefined,
        );
      } catch (error) {
        if (sent !== undefined && classifyError(error) === 'invalid-parameter') {
          this.reseekAfterRejectedToken(error);
          return 'reseek';
        }
        throw error;
      }
      const atEnd = sent !== undefined && out.nextForwardToken === sent;
      const { kept, resume, dedupe, skipped } = filterAndAdvance(this.state, out.events);
      metrics.page(this.stream, kept.length);
      if (skipped > 0) metrics.duplicatesSkipped(this.stream, skipped);
      const newest = out.events.at(-1);
      if (newest !== undefined) metrics.pollingLag(this.stream, clock.now() - newest.timestamp);
      if (kept.length > 0) {
        metrics.eventsRead(this.stream.logGroup, kept.length);
        const seq = this.state.nextSeq;
        const batch: Batch = {
          id: `${streamKey(this.stream)}#${seq}`,
          stream: this.stream,
          seq,
          events: kept,
          fromToken: sent,
          toToken: out.nextForwardToken,
          readAt: clock.now(),
          resume: {
            ...resume,
            nextForwardToken: out.nextForwardToken,
            tokenStartTime: startTime ?? null,
          },
        };
        reservation.register(batch);
        registered = true;
        try {
          await this.deps.deliver(batch);
        } catch (error) {
          // The pipeline refused the batch: forget it and read the same page again later.
          tracker.withdraw(batch);
          throw error;
        }
        this.state.nextSeq = seq + 1;
        this.state.resume = resume;
      }
      this.state.dedupe = dedupe;
      this.state.token = out.nextForwardToken;
      if (atEnd) return 'end';
      return kept.length > 0 ? 'data' : 'empty';
    } finally {
      if (!registered) reservation.release();
    }
  }

  private reseekAfterRejectedToken(error: unknown): void {
    const { resume } = this.state;
    this.deps.metrics.tokenRejected(this.stream);
    this.deps.logger.warn(
      {
        ...this.stream,
        err: String(error),
        resumeFrom: resume.lastEventTimestamp ?? this.state.initialStartTime ?? 'beginning',
      },
      'forward token rejected (expired or invalid); re-seeking by timestamp',
    );
    this.state.token = undefined;
    if (resume.lastEventTimestamp === null) {
      this.state.startTime = this.state.initialStartTime;
      this.state.dedupe = false;
    } else {
      // startTime is inclusive, so the last delivered millisecond is read again and deduped.
      this.state.startTime = resume.lastEventTimestamp;
      this.state.dedupe = true;
    }
  }
}
