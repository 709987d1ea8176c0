import type { CheckpointRecord, CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { CHECKPOINT_VERSION } from '../checkpoint/checkpoint-store.js';
import { AckTracker, type AckTrackerOptions } from './ack-tracker.js';
import type { Batch } from './batch.js';
import type {
  BatchHandler,
  BatchSource,
  BatchState,
  RereadRequest,
  StreamForgottenHandler,
  StreamStartedHandler,
} from './batch-source.js';
import { streamKey, type StreamRef } from '../util/identity.js';
import type { BackoffOptions } from '../util/backoff.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import { monotonicClock, systemClock, type Clock } from '../util/clock.js';
import type { CloudWatchPort } from './cloudwatch-port.js';
import { noopLogger, type ComponentLogger } from '../util/logger.js';
import type { PollSchedulerOptions } from './poll-scheduler.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';
import { noopSourceMetrics, type ApiOperation, type SourceMetrics } from './source-metrics.js';
import { StreamDiscovery, type StreamDiscoveryOptions } from './stream-discovery.js';
import { initialPollerState, type PollerState, type StartPosition } from './read-position.js';
import { StreamPoller, type PollerOptions } from './stream-poller.js';

export interface CloudWatchSourceOptions {
  readonly port: CloudWatchPort;
  readonly checkpointStore: CheckpointStore;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
  readonly metrics?: SourceMetrics;
  readonly random?: () => number;
  /** Where streams without a checkpoint start. @default { kind: 'beginning' } */
  readonly startPosition?: StartPosition;
  readonly discovery?: StreamDiscoveryOptions;
  readonly polling?: PollerOptions;
  readonly backpressure?: AckTrackerOptions;
  /** Per-operation limits (defaults in DEFAULT_RATE_LIMITS); ignored when `limiter` is given. */
  readonly rateLimits?: Partial<Record<ApiOperation, RateLimit>>;
  /** How the GetLogEvents budget is spent over the streams; ignored when `limiter` is given. */
  readonly scheduling?: PollSchedulerOptions;
  /** The budget of the account and region, shared with its other users (BudgetRegistry). */
  readonly limiter?: RateLimiter;
  readonly backoff?: BackoffOptions;
  /**
   * How long the read position of a retired stream is kept for its return; afterwards a
   * returning stream resumes from its checkpoint. @default 86400000 (forward tokens expire
   * after about 24 h anyway)
   */
  readonly parkedRetentionMs?: number;
  /**
   * How long the checkpoint of a stream that discovery no longer lists is kept after its last
   * write; afterwards the file is deleted, and a stream of that name that appears later is read
   * as a new one (a deleted and recreated stream has new content). 0 keeps them forever.
   * @default 604800000 (7 days)
   */
  readonly retiredCheckpointRetentionMs?: number;
  /** Bounded reads (`polling.endTime`): a stream was read up to the bound (backfill progress). */
  readonly onStreamDone?: (stream: StreamRef) => void;
}

/**
 * The CloudWatch Logs source: discovery, one poller per stream, the ack tracker and the
 * checkpoint store wired together. Batches go to the handler in read order per stream; the
 * checkpoint of a stream moves only when `ack` completes a contiguous prefix of its batches.
 */
export class CloudWatchSource implements BatchSource {
  private readonly options: CloudWatchSourceOptions;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly metrics: SourceMetrics;
  private readonly limiter: RateLimiter;
  private readonly tracker: AckTracker<BatchState>;
  private readonly store: CheckpointStore;
  private readonly checkpoints = new Map<string, CheckpointRecord>();
  private readonly pollers = new Map<string, StreamPoller>();
  /** Read positions of retired pollers, reused if the stream comes back (see pruneParked). */
  private readonly parked = new Map<
    string,
    {
      readonly stream: StreamRef;
      readonly state: PollerState;
      readonly at: number;
      readonly creationTime: number | undefined;
    }
  >();
  /** `creationTime` of the incarnation of each stream being read (see CheckpointRecord). */
  private readonly creationTimes = new Map<string, number | undefined>();
  private readonly writer: CheckpointWriter;
  private discovery: StreamDiscovery | undefined;
  private handler: BatchHandler | undefined;
  private onForgotten: StreamForgottenHandler | undefined;
  private onStarted: StreamStartedHandler | undefined;
  private startedAt = 0;
  private initialRoundDone = false;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(options: CloudWatchSourceOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.metrics = options.metrics ?? noopSourceMetrics;
    this.limiter =
      options.limiter ??
      new RateLimiter(
        options.rateLimits,
        options.clock === undefined ? monotonicClock : options.clock,
        {
          ...options.scheduling,
          onSiblingsWoken: (stream, woken) => this.metrics.siblingsWoken(stream, woken),
        },
      );
    this.tracker = new AckTracker<BatchState>(options.backpressure);
    this.store = options.checkpointStore;
    this.writer = new CheckpointWriter({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      ...(options.random === undefined ? {} : { random: options.random }),
      onDurable: (key, record, committed) => {
        this.checkpoints.set(key, record);
        if (committed !== undefined) this.tracker.settle(committed);
        this.metrics.checkpointCommitted({
          logGroup: record.logGroup,
          logStream: record.logStream,
        });
        this.metrics.inFlight(this.tracker.inFlightBatches, this.tracker.inFlightEvents);
      },
    });
  }

  /**
   * Loads every checkpoint (an unreadable one is a start-up error: FWD_ERR_CHECKPOINT_CORRUPT),
   * runs the first discovery round and starts a poller per stream. Resolves once polling runs.
   */
  async start(
    handler: BatchHandler,
    onForgotten?: StreamForgottenHandler,
    onStarted?: StreamStartedHandler,
  ): Promise<void> {
    if (this.handler !== undefined) throw new Error('CloudWatchSource already started');
    this.handler = handler;
    this.onForgotten = onForgotten;
    this.onStarted = onStarted;
    await this.store.open();
    for (const record of await this.store.loadAll()) {
      this.checkpoints.set(streamKey(record), record);
    }
    this.logger.info({ checkpoints: this.checkpoints.size }, 'checkpoints loaded');
    this.startedAt = this.clock.now();
    this.discovery = new StreamDiscovery({
      port: this.options.port,
      limiter: this.limiter,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      options: { ...this.options.discovery, ...this.backoffOption() },
      onAdded: (stream, creationTime) => this.addStream(stream, creationTime),
      onRemoved: (stream) => void this.retireStream(stream),
      onRound: () => void this.pruneRetired(),
    });
    await this.discovery.start();
    this.initialRoundDone = true;
  }

  reread(stream: StreamRef, request: RereadRequest): void {
    this.pollers.get(streamKey(stream))?.reread(request);
  }

  committedState(stream: StreamRef): BatchState | undefined {
    return this.checkpoints.get(streamKey(stream))?.transformState ?? undefined;
  }

  /** Retired streams whose read position is kept for their return. */
  get parkedStreams(): number {
    return this.parked.size;
  }

  /** Streams with a running poller. */
  activeStreams(): StreamRef[] {
    return [...this.pollers.values()].map((p) => p.stream);
  }

  /** Read but not yet acknowledged with a durable checkpoint. */
  inFlight(): { batches: number; events: number } {
    return { batches: this.tracker.inFlightBatches, events: this.tracker.inFlightEvents };
  }

  /**
   * Acknowledges a batch: every enabled sink has it. When this completes the contiguous prefix of
   * the stream's batches, the checkpoint is written; the promise resolves once a checkpoint at or
   * beyond this batch is durable (or at once if an earlier batch is still pending). A failed write
   * is counted and retried with backoff until it succeeds or `signal` aborts (then the promise
   * rejects); meanwhile the batches keep their in-flight capacity, so the stream stops reading.
   * `state` is the consumer's state as of the end of this batch; the checkpoint gets the state
   * of the newest committed batch that carried one.
   */
  async ack(batch: Batch, state?: BatchState, signal?: AbortSignal): Promise<void> {
    const key = streamKey(batch.stream);
    const committed = this.tracker.ack(batch, state);
    this.metrics.inFlight(this.tracker.inFlightBatches, this.tracker.inFlightEvents);
    if (committed === undefined) return;
    const previous = this.writer.latest(key) ?? this.checkpoints.get(key);
    const record: CheckpointRecord = {
      version: CHECKPOINT_VERSION,
      ...this.store.scope,
      logGroup: committed.stream.logGroup,
      logStream: committed.stream.logStream,
      nextForwardToken: committed.resume.nextForwardToken,
      tokenStartTime: committed.resume.tokenStartTime,
      lastEventTimestamp: committed.resume.lastEventTimestamp,
      lastIngestionTime: committed.resume.lastIngestionTime,
      hashesAtLastTimestamp: committed.resume.hashesAtLastTimestamp,
      rebootCounter: committed.resume.rebootCounter,
      lastSequence: committed.resume.lastSequence,
      transformState:
        this.tracker.committedState(committed.stream) ?? previous?.transformState ?? null,
      streamCreationTime: this.creationTimes.get(key) ?? previous?.streamCreationTime ?? null,
      updatedAt: new Date(this.clock.now()).toISOString(),
    };
    await this.writer.write(key, committed.stream, record, committed, signal);
  }

  /** Resolves when every batch read so far is acknowledged and its checkpoint durable. */
  whenAllAcked(): Promise<void> {
    return this.tracker.whenIdle();
  }

  /** Resolves when every checkpoint write started so far has finished. */
  async flush(): Promise<void> {
    await this.writer.flush();
  }

  /**
   * Stops discovery and every poller (no new batches after this resolves). Batches already handed
   * out stay ackable: the pipeline drains and acks them, then calls {@link flush}.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.discovery?.stop();
    await Promise.all([...this.pollers.values()].map((p) => p.stop()));
    this.pollers.clear();
    this.reportStates();
  }

  private backoffOption(): { backoff?: BackoffOptions } {
    return this.options.backoff === undefined ? {} : { backoff: this.options.backoff };
  }

  private addStream(stream: StreamRef, creationTime?: number): void {
    if (this.stopped) return;
    const key = streamKey(stream);
    if (this.pollers.has(key)) return;
    const handler = this.handler;
    if (handler === undefined) return;
    const recreated = this.isRecreated(key, creationTime);
    if (recreated && this.tracker.pending(stream) > 0) {
      // Batches of the old incarnation are still in flight and will commit its position: the
      // new one is taken up by a later discovery round, once they are done.
      this.discovery?.forget(stream);
      return;
    }
    if (recreated) {
      this.logger.warn(
        { ...stream, creationTime },
        'log stream created again under the same name: reading it from its beginning, not through the old stream position',
      );
      this.parked.delete(key);
      this.checkpoints.delete(key);
      this.writer.forget(key);
    }
    this.creationTimes.set(key, creationTime ?? this.recordedCreationTime(key));
    const checkpoint = this.checkpoints.get(key);
    const parked = this.parked.get(key)?.state;
    this.parked.delete(key);
    // A stream without checkpoint was never read (see startWhenDurable): a parked state of it
    // still holds the start resolved when it was first seen. A new incarnation of a stream
    // starts at its own beginning, whatever the start position says (it was not read yet).
    const start =
      checkpoint === undefined
        ? this.startCheckpoint(
            stream,
            recreated ? undefined : (parked?.startTime ?? this.startTimeFor()),
          )
        : undefined;
    const state = parked ?? initialPollerState(checkpoint ?? start);
    const poller = new StreamPoller({
      stream,
      port: this.options.port,
      limiter: this.limiter,
      tracker: this.tracker,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      options: { ...this.options.polling, ...this.backoffOption() },
      state,
      deliver: async (batch) => {
        this.metrics.inFlight(this.tracker.inFlightBatches, this.tracker.inFlightEvents);
        await handler(batch);
      },
      onGone: (ref) => {
        this.parkPoller(ref);
        this.discovery?.forget(ref);
      },
      onIdleChange: () => this.reportStates(),
      ...(this.options.onStreamDone === undefined ? {} : { onDone: this.options.onStreamDone }),
    });
    this.pollers.set(key, poller);
    this.reportStates();
    this.onStarted?.(stream);
    if (start === undefined) poller.start();
    else void this.startWhenDurable(key, poller, start);
  }

  /**
   * The checkpoint of a stream that has delivered nothing yet: no token, and the resolved start
   * time as the session's `startTime` (null: the beginning of the stream).
   */
  private startCheckpoint(stream: StreamRef, startTime: number | undefined): CheckpointRecord {
    return {
      version: CHECKPOINT_VERSION,
      ...this.store.scope,
      logGroup: stream.logGroup,
      logStream: stream.logStream,
      nextForwardToken: null,
      tokenStartTime: startTime ?? null,
      lastEventTimestamp: null,
      lastIngestionTime: null,
      hashesAtLastTimestamp: [],
      rebootCounter: null,
      lastSequence: null,
      transformState: null,
      streamCreationTime: this.creationTimes.get(streamKey(stream)) ?? null,
      updatedAt: new Date(this.clock.now()).toISOString(),
    };
  }

  /** The `creationTime` the stream's parked state or checkpoint belongs to, if known. */
  private recordedCreationTime(key: string): number | undefined {
    const parked = this.parked.get(key);
    if (parked !== undefined) return parked.creationTime;
    return (this.writer.latest(key) ?? this.checkpoints.get(key))?.streamCreationTime ?? undefined;
  }

  /** Whether `creationTime` names another incarnation than the position held for the stream. */
  private isRecreated(key: string, creationTime: number | undefined): boolean {
    const recorded = this.recordedCreationTime(key);
    return creationTime !== undefined && recorded !== undefined && recorded !== creationTime;
  }

  /**
   * Persists where a new stream starts before its poller reads anything. The start is resolved
   * from the clock (`end`) and from whether discovery had finished its first round, so a restart
   * would resolve it differently: a stream that stays quiet until then would skip the records
   * written in between. A failed write is retried (and counted) without reading the stream;
   * CloudWatch keeps the records meanwhile.
   */
  private async startWhenDurable(
    key: string,
    poller: StreamPoller,
    record: CheckpointRecord,
  ): Promise<void> {
    try {
      // Retried with backoff (logged and counted) until durable; only a stop ends it.
      await this.writer.write(key, poller.stream, record, undefined, this.stopping.signal);
    } catch {
      return;
    }
    // Retired or stopped meanwhile: the parked state still starts at the same place.
    if (this.pollers.get(key) === poller) poller.start();
  }

  /**
   * Start time for a stream without checkpoint. `end` means "from now" for the streams found by
   * the first discovery round only: a stream created later (a replaced HSM) is read from its
   * beginning, or its first records would be lost. The answer depends on when it is asked, hence
   * the start checkpoint (see startWhenDurable).
   */
  private startTimeFor(): number | undefined {
    const position = this.options.startPosition ?? { kind: 'beginning' };
    switch (position.kind) {
      case 'beginning':
        return undefined;
      case 'end':
        return this.initialRoundDone ? undefined : this.startedAt;
      case 'time':
        return position.time;
    }
  }

  private parkPoller(stream: StreamRef): StreamPoller | undefined {
    const key = streamKey(stream);
    const poller = this.pollers.get(key);
    if (poller === undefined) return undefined;
    this.pollers.delete(key);
    this.pruneParked();
    this.parked.set(key, {
      stream,
      state: poller.position,
      at: this.clock.now(),
      creationTime: this.creationTimes.get(key),
    });
    this.reportStates();
    return poller;
  }

  /**
   * Drops read positions parked longer than the retention, so streams that come and go (replaced
   * HSMs) do not grow memory without bound. A position whose stream still has batches in flight
   * is kept: its checkpoint is behind it until they are acknowledged, and a successor must
   * continue their batch numbering.
   */
  private pruneParked(): void {
    const cutoff = this.clock.now() - (this.options.parkedRetentionMs ?? 86_400_000);
    for (const [key, parked] of this.parked) {
      if (parked.at <= cutoff && this.tracker.pending(parked.stream) === 0) {
        this.parked.delete(key);
        this.onForgotten?.(parked.stream);
      }
    }
  }

  /**
   * After each discovery round: forgets parked positions past their retention, and deletes the
   * checkpoints of streams that are neither polled nor parked and were last written longer ago
   * than `retiredCheckpointRetentionMs` (also those of streams gone before this process started),
   * so a fleet whose HSMs are replaced over the years keeps neither files nor state of them all.
   */
  private async pruneRetired(): Promise<void> {
    this.pruneParked();
    const retention = this.options.retiredCheckpointRetentionMs ?? 7 * 86_400_000;
    if (retention === 0) return;
    const cutoff = this.clock.now() - retention;
    for (const [key, record] of [...this.checkpoints]) {
      if (this.pollers.has(key) || this.parked.has(key)) continue;
      const written = Date.parse(record.updatedAt);
      if (!(written <= cutoff)) continue;
      const stream = { logGroup: record.logGroup, logStream: record.logStream };
      try {
        await this.store.reset([stream]);
      } catch (error) {
        this.logger.warn({ ...stream, err: String(error) }, 'could not delete retired checkpoint');
        continue;
      }
      // Discovered again while the file was being deleted: its poller already holds the old
      // position and will write it again with its next acknowledgement.
      if (this.pollers.has(key)) continue;
      this.checkpoints.delete(key);
      this.writer.forget(key);
      this.onForgotten?.(stream);
      if (!this.knowsLogGroup(stream.logGroup)) this.metrics.logGroupForgotten(stream.logGroup);
      this.logger.info(
        { ...stream, lastWrite: record.updatedAt },
        'checkpoint of a stream gone for longer than the retention deleted',
      );
    }
  }

  /** Whether any stream of the group is polled, parked or has a checkpoint. */
  private knowsLogGroup(logGroup: string): boolean {
    for (const poller of this.pollers.values())
      if (poller.stream.logGroup === logGroup) return true;
    for (const parked of this.parked.values()) if (parked.stream.logGroup === logGroup) return true;
    for (const record of this.checkpoints.values()) if (record.logGroup === logGroup) return true;
    return false;
  }

  private async retireStream(stream: StreamRef): Promise<void> {
    const poller = this.parkPoller(stream);
    await poller?.stop();
  }

  private reportStates(): void {
    let idle = 0;
    for (const poller of this.pollers.values()) if (poller.idle) idle += 1;
    this.metrics.streamStates(this.pollers.size - idle, idle);
  }
}
