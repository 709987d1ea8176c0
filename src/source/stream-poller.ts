import type { AckTracker, Reservation } from './ack-tracker.js';
import type { Batch } from './batch.js';
import { streamKey, type StreamRef } from '../util/identity.js';
import { filterAndAdvance, type PollerState } from './read-position.js';
import { instrumentedCall } from './api-call.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import { classifyError } from './aws-errors.js';
import type { Clock } from '../util/clock.js';
import type { CloudWatchPort } from './cloudwatch-port.js';
import type { ComponentLogger } from '../util/logger.js';
import type { RereadRequest } from './batch-source.js';
import type { PollUrgency } from './poll-scheduler.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SourceMetrics } from './source-metrics.js';

/** A granted call with the pipeline capacity for its page. */
interface Turn {
  readonly reservation: Reservation;
  /** To call when the request leaves: the budget counts the call from then. */
  readonly sent: () => void;
}

/** Tuning of one poller (when it polls is the scheduler's: PollScheduler). */
export interface PollerOptions {
  /** Events per GetLogEvents call (API maximum 10,000). @default 10000 */
  readonly pageLimit?: number;
  readonly backoff?: BackoffOptions;
  /**
   * Streams without sequence numbers (certificate storage) re-read this trailing window every
   * `lookBackIntervalMs`, to catch records ingested with an older timestamp, which land behind
   * the forward token. 0 disables. @default 0
   */
  readonly lookBackWindowMs?: number;
  /** @default 300000 */
  readonly lookBackIntervalMs?: number;
  /**
   * Exclusive end of a bounded read (`backfill --to`): events at or after it are not delivered,
   * and the poller is done once it sees one or reaches the end of the stream. Not sent as the
   * API's `endTime`: AWS treats it as exclusive, the emulator as inclusive; filtering here
   * behaves the same on both. Unset: the poller follows the stream forever.
   */
  readonly endTime?: number;
  /**
   * Bounded reads only: consecutive empty pages (each with a new token) after which a stream
   * counts as done, with a warning. AWS answers a stream whose events expired with empty pages
   * forever; it may also answer a few while scanning a long quiet stretch, hence not 1.
   * @default 10
   */
  readonly maxEmptyPages?: number;
}

/** Most pages one re-read may take: a repair is bounded, whatever range it was asked for. */
const MAX_REREAD_PAGES = 20;

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
  /** Bounded reads only (`options.endTime`): the stream is read up to the bound; the poller has stopped. */
  readonly onDone?: (stream: StreamRef) => void;
}

type PageResult = 'end' | 'data' | 'empty' | 'reseek' | 'reread' | 'bound';

/**
 * Polls one stream with GetLogEvents, following its forward token (`startFromHead: true`). End of
 * stream is "the returned token equals the token sent". When it calls is the shared scheduler's
 * (the limiter's PollScheduler): after a page with events it asks to be read again at once, after
 * the end or an empty page it waits its turn as an idle stream. An empty page with a new token is
 * idle too: AWS answers a stream whose events expired that way forever. A rejected token (expired
 * after ~24 h, or garbage) re-seeks with `startTime = lastEventTimestamp` and skips records
 * already delivered.
 */
export class StreamPoller {
  readonly stream: StreamRef;
  private readonly deps: StreamPollerDeps;
  private readonly state: PollerState;
  private readonly controller = new AbortController();
  private readonly pageLimit: number;
  private readonly random: () => number;
  private running: Promise<void> | undefined;
  private idleFlag = false;
  /** Re-reads asked for (gap repair) or due (look-back), earliest first. */
  private readonly rereads: RereadRequest[] = [];
  private nextLookBack: number | undefined;

  constructor(deps: StreamPollerDeps) {
    this.deps = deps;
    this.stream = deps.stream;
    this.state = deps.state;
    const options = deps.options ?? {};
    this.pageLimit = Math.max(
      1,
      Math.min(options.pageLimit ?? 10_000, 10_000, deps.tracker.maxInFlightEvents),
    );
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

  /** Queues a re-read of a time range behind the forward token (see {@link Batch.replay}). */
  reread(request: RereadRequest): void {
    this.rereads.push(request);
    this.rereads.sort((a, b) => a.notBefore - b.notBefore);
  }

  /** The first re-read due now, if any; queues the look-back of an unsequenced stream. */
  private dueReread(): RereadRequest | undefined {
    const now = this.deps.clock.now();
    const window = this.deps.options?.lookBackWindowMs ?? 0;
    const { resume } = this.state;
    // Only streams whose records carry no sequence number: gaps in the others are repaired.
    if (window > 0 && resume.lastEventTimestamp !== null && resume.lastSequence === null) {
      const interval = this.deps.options?.lookBackIntervalMs ?? 300_000;
      this.nextLookBack ??= now + interval;
      if (now >= this.nextLookBack) {
        this.nextLookBack = now + interval;
        this.reread({ fromTime: now - window, toTime: now, notBefore: now });
      }
    }
    const first = this.rereads[0];
    if (first === undefined || first.notBefore > now) return undefined;
    return this.rereads.shift();
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
    let emptyPages = 0;
    let urgency: PollUrgency = 'now';
    while (!signal.aborted) {
      let result: PageResult;
      const reread = this.dueReread();
      try {
        result =
          reread === undefined
            ? await this.pollPage(urgency, signal)
            : await this.replay(reread, signal);
        failures = 0;
      } catch (error) {
        // A failed re-read is made again after the backoff.
        if (reread !== undefined) this.reread(reread);
        const errorClass = classifyError(error);
        if (errorClass === 'aborted' || signal.aborted) return;
        if (errorClass === 'not-found') {
          this.deps.logger.warn({ ...this.stream }, 'log stream no longer exists; poller retired');
          this.deps.onGone?.(this.stream);
          // A bounded read of a deleted stream has nothing left to read.
          if (this.deps.options?.endTime !== undefined) this.deps.onDone?.(this.stream);
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
        urgency = 'now';
        continue;
      }
      if (result === 'reread') continue;
      if (this.deps.options?.endTime !== undefined) {
        emptyPages = result === 'empty' ? emptyPages + 1 : 0;
        const maxEmpty = this.deps.options.maxEmptyPages ?? 10;
        if (result === 'bound' || result === 'end' || emptyPages >= maxEmpty) {
          if (emptyPages >= maxEmpty) {
            this.deps.logger.warn(
              { ...this.stream, emptyPages, readUpTo: this.state.resume.lastEventTimestamp },
              'bounded read ends after consecutive empty pages without the end-of-stream token; if the stream holds later records in the range, run the backfill again from readUpTo',
            );
          }
          this.deps.onDone?.(this.stream);
          return;
        }
      }
      if (result === 'data') {
        if (this.idleFlag) this.deps.limiter.polls.wakeSiblings(this.stream);
        this.setIdle(false);
      } else if (result !== 'reseek') this.setIdle(true);
      urgency = result === 'end' || result === 'empty' ? 'idle' : 'now';
    }
  }

  private setIdle(idle: boolean): void {
    if (this.idleFlag === idle) return;
    this.idleFlag = idle;
    this.deps.onIdleChange?.(this.stream, idle);
  }

  /**
   * Waits for the stream's turn, then for pipeline capacity. Capacity is claimed after the turn,
   * so idle streams waiting for theirs hold none; when it is not there at once, the turn goes
   * back to the budget (no call was made) and the stream queues for capacity, then for a turn
   * again: a granted call is made at once, so the budget's per-second cap holds on the wire.
   */
  private async turnWithCapacity(urgency: PollUrgency, signal: AbortSignal): Promise<Turn> {
    const { tracker, limiter, metrics } = this.deps;
    const grant = await limiter.polls.next(this.stream, urgency, signal);
    const now = tracker.tryReserve(this.stream, this.pageLimit);
    if (now !== undefined) {
      metrics.rateLimitWait('GetLogEvents', grant.waitedMs);
      return { reservation: now, sent: () => grant.sent() };
    }
    grant.giveBack();
    // Backpressure before the API call: a slow pipeline stops reads, CloudWatch keeps the data.
    const reservation = await tracker.reserve(this.stream, this.pageLimit, signal);
    try {
      const again = await limiter.polls.next(this.stream, 'now', signal);
      metrics.rateLimitWait('GetLogEvents', again.waitedMs);
      return { reservation, sent: () => again.sent() };
    } catch (error) {
      reservation.release();
      throw error;
    }
  }

  private async pollPage(urgency: PollUrgency, signal: AbortSignal): Promise<PageResult> {
    const { port, clock, metrics } = this.deps;
    const { reservation, sent: onSend } = await this.turnWithCapacity(urgency, signal);
    let registered = false;
    try {
      const sent = this.state.token;
      const startTime = this.state.startTime;
      let out;
      try {
        out = await instrumentedCall(
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
              onSend,
            ),
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
      const endTime = this.deps.options?.endTime;
      // Events are in timestamp order: the first one at or after the bound ends the read.
      const bound =
        endTime === undefined ? -1 : out.events.findIndex((e) => e.timestamp >= endTime);
      const events = bound < 0 ? out.events : out.events.slice(0, bound);
      const { kept, resume, dedupe, skipped } = filterAndAdvance(this.state, events);
      metrics.page(this.stream, kept.length);
      if (skipped > 0) metrics.duplicatesSkipped(this.stream, skipped);
      const newest = out.events.at(-1);
      if (newest !== undefined) metrics.pollingLag(this.stream, clock.now() - newest.timestamp);
      if (kept.length > 0) {
        metrics.eventsRead(this.stream.logGroup, kept.length);
        registered = true;
        await this.handOver(reservation, {
          events: kept,
          fromToken: sent,
          toToken: out.nextForwardToken,
          resume: {
            ...resume,
            nextForwardToken: out.nextForwardToken,
            tokenStartTime: startTime ?? null,
          },
        });
        this.state.resume = resume;
      }
      this.state.dedupe = dedupe;
      this.state.token = out.nextForwardToken;
      if (bound >= 0) return 'bound';
      if (atEnd) return 'end';
      // Events all skipped as already delivered still move the read on: read again at once.
      return out.events.length > 0 ? 'data' : 'empty';
    } finally {
      if (!registered) reservation.release();
    }
  }

  /**
   * Numbers a page as the stream's next batch, registers it on the reservation and hands it to
   * the pipeline. A refused batch is withdrawn (the caller reads the same page again later).
   */
  private async handOver(
    reservation: Reservation,
    page: Pick<Batch, 'events' | 'fromToken' | 'toToken' | 'resume' | 'replay'>,
  ): Promise<void> {
    const seq = this.state.nextSeq;
    const batch: Batch = {
      id: `${streamKey(this.stream)}#${seq}`,
      stream: this.stream,
      seq,
      readAt: this.deps.clock.now(),
      ...page,
    };
    reservation.register(batch);
    try {
      await this.deps.deliver(batch);
    } catch (error) {
      this.deps.tracker.withdraw(batch);
      throw error;
    }
    this.state.nextSeq = seq + 1;
  }

  /**
   * Re-reads a time range (startTime/endTime, no forward token) and hands each page to the
   * pipeline as a `replay` batch, empty pages included: its resume position is the current one,
   * so the checkpoint stays where it is, and the batch keeps its place in the stream's order.
   * Before the first forward page there is nothing behind the token: the forward read covers it.
   */
  private async replay(request: RereadRequest, signal: AbortSignal): Promise<PageResult> {
    const { port, metrics } = this.deps;
    const token = this.state.token;
    if (token === undefined) return 'reread';
    let sent: string | undefined;
    let events = 0;
    for (let page = 0; page < MAX_REREAD_PAGES; page += 1) {
      const { reservation, sent: onSend } = await this.turnWithCapacity('now', signal);
      let registered = false;
      try {
        const out = await instrumentedCall(this.deps, 'GetLogEvents', () =>
          port.getLogEvents(
            {
              logGroupName: this.stream.logGroup,
              logStreamName: this.stream.logStream,
              nextToken: sent,
              startTime: request.fromTime,
              endTime: request.toTime + 1,
              startFromHead: true,
              limit: this.pageLimit,
            },
            signal,
            onSend,
          ),
        );
        const atEnd = sent !== undefined && out.nextForwardToken === sent;
        const inRange = out.events.filter(
          (e) => e.timestamp >= request.fromTime && e.timestamp <= request.toTime,
        );
        events += inRange.length;
        if (inRange.length > 0 || atEnd || page === MAX_REREAD_PAGES - 1) {
          registered = true;
          await this.handOver(reservation, {
            events: inRange,
            fromToken: token,
            toToken: token,
            resume: {
              ...this.state.resume,
              nextForwardToken: token,
              tokenStartTime: this.state.startTime ?? null,
            },
            replay: true,
          });
        }
        if (atEnd) break;
        sent = out.nextForwardToken;
      } finally {
        if (!registered) reservation.release();
      }
    }
    metrics.reread(this.stream, events);
    return 'reread';
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
