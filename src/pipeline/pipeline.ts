/**
 * Source → transform → dispatcher → acknowledgement. The handler transforms a batch at once (in
 * read order, which the integrity tracker needs) and returns, so the poller may read on while
 * earlier batches are still being delivered; the source's ack tracker bounds how far it gets
 * (backpressure). A batch is acknowledged — and its stream's checkpoint may move — only after
 * every sink and, for rejected events, the dead-letter destination have it.
 */
import type { BatchSource } from '../source/batch-source.js';
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import type { ActorInference } from '../transform/actor-inference.js';
import { streamKeyOf, type IntegrityTracker, type RepairRequest } from '../transform/integrity.js';
import type { RecentRecords } from '../transform/recent-records.js';
import type { NormalizeContext } from '../transform/normalize.js';
import type { SavedTransformState } from '../transform/saved-state.js';
import type { Batch } from '../source/batch.js';
import type { StreamRef } from '../util/identity.js';
import type { Dispatcher } from './dispatcher.js';
import { transformBatch } from './transform-batch.js';
import type { EventEnricher } from '../transform/transform-record.js';
import type { TransformedBatch } from './transform-batch.js';

export interface PipelineObserver {
  transformed(batch: Batch, result: TransformedBatch): void;
  acknowledged(batch: Batch, result: TransformedBatch, now: number): void;
}

export interface PipelineOptions {
  readonly source: BatchSource;
  readonly dispatcher: Dispatcher;
  readonly tracker: IntegrityTracker;
  readonly actors?: ActorInference;
  /** Look-back dedupe of streams without sequence numbers. */
  readonly recent?: RecentRecords;
  readonly context: NormalizeContext | (() => NormalizeContext);
  /** Called once per batch: returns the enrichment step for it (e.g. over a metadata snapshot). */
  readonly enricher?: () => EventEnricher;
  readonly observer?: PipelineObserver;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
  /** Called when something that must not happen did (a bug): the process should exit 1. */
  readonly onFatal?: (error: unknown) => void;
}

export class Pipeline {
  private readonly options: PipelineOptions;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly seeded = new Set<string>();

  constructor(options: PipelineOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  start(): Promise<void> {
    return this.options.source.start(
      (batch) => this.onBatch(batch),
      (stream) => this.forget(streamKeyOf(stream)),
      (stream) => this.streamStarted(stream),
    );
  }

  /** Drops a retired stream's transform state; its checkpoint re-seeds it if it returns. */
  private forget(key: string): void {
    this.seeded.delete(key);
    this.options.tracker.forget(key);
    this.options.actors?.forget(key);
    this.options.recent?.forget(key);
  }

  /**
   * Stops polling, then waits for in-flight batches to be delivered and acknowledged, for at most
   * `timeoutMs`; what is still undelivered then is abandoned unacknowledged (re-read next start).
   * Resolves true when everything drained.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    await this.options.source.stop();
    const drained = Promise.allSettled([...this.inFlight]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!done) {
      this.logger.warn({ pending: this.inFlight.size }, 'shutdown deadline reached; abandoning');
      this.abort.abort(new Error('shutdown deadline reached'));
      await Promise.allSettled([...this.inFlight]);
    }
    return done;
  }

  private onBatch(batch: Batch): void {
    const key = streamKeyOf(batch.stream);
    this.seedState(batch.stream, key);
    const context =
      typeof this.options.context === 'function' ? this.options.context() : this.options.context;
    const now = this.clock.now();
    const result = transformBatch(
      batch,
      {
        integrity: this.options.tracker,
        ...(this.options.actors === undefined ? {} : { actors: this.options.actors }),
        ...(this.options.recent === undefined ? {} : { recent: this.options.recent }),
      },
      context,
      this.options.enricher?.(),
      now,
    );
    this.options.observer?.transformed(batch, result);
    if (result.repaired > 0) {
      this.logger.info(
        { ...batch.stream, gaps: result.repaired },
        'sequence gap repaired: the missing records were delivered late',
      );
    }
    if (result.unrepaired.gaps > 0) {
      this.logger.warn(
        { ...batch.stream, gaps: result.unrepaired.gaps, missing: result.unrepaired.missing },
        'sequence gap still open when its repair window (source.gapRepairWindowMs) ended: ' +
          'delivered as an integrity finding',
      );
    }
    this.requestRepairs(result.repairs, now);
    // The state as of the end of this batch travels with it to its acknowledgement.
    const integrity = this.options.tracker.snapshot(key);
    const actor = this.options.actors?.snapshot(key);
    const recent = this.options.recent?.snapshot(key);
    const saved: SavedTransformState = {
      ...(integrity === undefined ? {} : { integrity }),
      ...(actor === undefined ? {} : { actor }),
      ...(recent === undefined ? {} : { recent }),
    };
    const work = this.deliver(batch, result, saved);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async deliver(
    batch: Batch,
    result: TransformedBatch,
    saved: SavedTransformState,
  ): Promise<void> {
    try {
      await this.options.dispatcher.dispatch(result.events, this.abort.signal);
    } catch (error) {
      if (isAbortError(error) || this.abort.signal.aborted) return;
      this.logger.error({ err: error, batch: batch.id }, 'delivery failed unexpectedly');
      this.options.onFatal?.(error);
      return;
    }
    try {
      // Resolves once the checkpoint is durable: the source retries a failing store itself.
      await this.options.source.ack(batch, saved, this.abort.signal);
      this.options.observer?.acknowledged(batch, result, this.clock.now());
    } catch (error) {
      // Only a shutdown deadline ends the retries: the batch is re-read on the next start.
      if (isAbortError(error) || this.abort.signal.aborted) return;
      this.logger.error({ err: error, batch: batch.id }, 'acknowledgement failed unexpectedly');
      this.options.onFatal?.(error);
    }
  }

  /** Restores a stream's transform state from its checkpoint before its first batch. */
  /**
   * Seeds the stream's state as soon as its reading starts: a gap that was pending at the last
   * checkpoint needs its re-reads again, even if the stream stays quiet and never sends a batch.
   */
  private streamStarted(stream: StreamRef): void {
    this.seedState(stream, streamKeyOf(stream));
    this.requestRepairs(this.options.tracker.takeRepairs(), this.clock.now());
  }

  private requestRepairs(repairs: readonly RepairRequest[], now: number): void {
    // A gap may be a record uploaded late, behind the forward token: re-read around it now, and
    // once more just before its window ends (the re-read's batch also reports what is still
    // missing, should the stream stay quiet).
    for (const repair of repairs) {
      const stream = { logGroup: repair.logGroup, logStream: repair.logStream };
      const range = { fromTime: repair.fromTime, toTime: repair.toTime };
      this.logger.info(
        { ...stream, ...range, reportAt: new Date(repair.deadline).toISOString() },
        'sequence gap: re-reading the stream around it; reported only if still open then',
      );
      this.options.source.reread?.(stream, { ...range, notBefore: now });
      this.options.source.reread?.(stream, { ...range, notBefore: repair.deadline });
    }
  }

  private seedState(stream: StreamRef, key: string): void {
    if (this.seeded.has(key)) return;
    this.seeded.add(key);
    const saved = this.options.source.committedState(stream);
    try {
      if (saved?.integrity !== undefined) this.options.tracker.restore(key, saved.integrity);
      if (saved?.actor !== undefined) this.options.actors?.restore(key, saved.actor);
      if (saved?.recent !== undefined) this.options.recent?.restore(key, saved.recent);
    } catch (error) {
      this.logger.warn({ err: error, stream }, 'ignoring unreadable transform state');
    }
  }
}
