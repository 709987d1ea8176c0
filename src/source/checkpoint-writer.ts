/**
 * The source's checkpoint writes: serialised and coalesced per stream, retried with backoff
 * until durable. Split from the source because it is a job of its own (ordering, retries,
 * logging an outage once) with a narrow interface: write, flush, forget.
 */
import type { CheckpointRecord, CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import type { Clock } from '../util/clock.js';
import type { StreamRef } from '../util/identity.js';
import type { ComponentLogger } from '../util/logger.js';
import type { Batch } from './batch.js';
import type { SourceMetrics } from './source-metrics.js';

/**
 * Retries of a failed checkpoint write. The store is local, so retries are cheap; the cap bounds
 * how long reading stays paused after the store recovers.
 */
const CHECKPOINT_RETRY: BackoffOptions = { baseMs: 100, maxMs: 5_000 };

interface PersistState {
  chain: Promise<void>;
  /** The newest record to write, with the committed batch it covers. */
  latest: { readonly record: CheckpointRecord; readonly batch: Batch | undefined } | undefined;
  saved: CheckpointRecord | undefined;
}

export interface CheckpointWriterDeps {
  readonly store: CheckpointStore;
  readonly clock: Clock;
  readonly logger: ComponentLogger;
  readonly metrics: SourceMetrics;
  readonly random?: () => number;
  /** A record is durable; `committed` is the batch it covers (undefined: a start checkpoint). */
  readonly onDurable: (key: string, record: CheckpointRecord, committed: Batch | undefined) => void;
}

export class CheckpointWriter {
  private readonly deps: CheckpointWriterDeps;
  private readonly persistence = new Map<string, PersistState>();

  constructor(deps: CheckpointWriterDeps) {
    this.deps = deps;
  }

  /** The newest record queued or written for the stream by this process. */
  latest(key: string): CheckpointRecord | undefined {
    return this.persistence.get(key)?.latest?.record;
  }

  /** Resolves when every write started so far has finished. */
  async flush(): Promise<void> {
    await Promise.all([...this.persistence.values()].map((p) => p.chain));
  }

  /** Drops the state of a stream whose checkpoint was deleted. */
  forget(key: string): void {
    this.persistence.delete(key);
  }

  /**
   * Serialises writes per stream and coalesces them: a write requested while one is running
   * makes the next write carry the newest record, so checkpoints on disk only move forward. A
   * failed write is counted, logged once per outage and retried until it succeeds or `signal`
   * aborts (then the promise rejects). Only a durable write calls `onDurable`, which releases
   * the committed batches' capacity to the pollers.
   */
  write(
    key: string,
    stream: StreamRef,
    record: CheckpointRecord,
    committed: Batch | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { store, clock, logger, metrics } = this.deps;
    const state = this.persistState(key);
    state.latest = { record, batch: committed };
    const write = state.chain.then(async () => {
      for (let attempt = 0; ; attempt += 1) {
        const latest = state.latest;
        if (latest === undefined || latest.record === state.saved) return;
        try {
          await store.save(latest.record);
        } catch (error) {
          metrics.checkpointFailed(stream);
          const delayMs = backoffDelay(attempt, CHECKPOINT_RETRY, this.deps.random);
          const fields = { ...stream, err: String(error), attempt, retryInMs: delayMs };
          const message =
            'checkpoint write failed; the stream stops reading until a retry succeeds';
          // One error per outage and stream; every attempt is counted in the metrics.
          if (attempt === 0) logger.error(fields, message);
          else logger.debug(fields, message);
          await clock.sleep(delayMs, signal);
          continue;
        }
        if (attempt > 0) {
          logger.info({ ...stream, failedAttempts: attempt }, 'checkpoint write succeeded again');
        }
        state.saved = latest.record;
        this.deps.onDurable(key, latest.record, latest.batch);
        return;
      }
    });
    state.chain = write.catch(() => {});
    return write;
  }

  private persistState(key: string): PersistState {
    let state = this.persistence.get(key);
    if (state === undefined) {
      state = { chain: Promise.resolve(), latest: undefined, saved: undefined };
      this.persistence.set(key, state);
    }
    return state;
  }
}
