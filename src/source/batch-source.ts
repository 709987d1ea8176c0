/**
 * The interface between the source and the consumer of its batches (the pipeline), so that the
 * consumer depends on this contract rather than on the CloudWatch source class.
 */
import type { CheckpointRecord } from '../checkpoint/checkpoint-store.js';
import type { StreamRef } from '../util/identity.js';
import type { Batch } from './batch.js';

/** Told when a retired stream's in-memory state is dropped, so other layers drop theirs. */
export type StreamForgottenHandler = (stream: StreamRef) => void;

/** Told when a stream's reading starts, before its first batch (or if none ever comes). */
export type StreamStartedHandler = (stream: StreamRef) => void;

/** Receives each batch read; acknowledge it later with {@link BatchSource.ack}. */
export type BatchHandler = (batch: Batch) => Promise<void> | void;

/**
 * The consumer's per-stream state as of the end of a batch (the transform state, docs/architecture.md),
 * committed with the checkpoint that covers the batch.
 */
export type BatchState = NonNullable<CheckpointRecord['transformState']>;

/** A re-read of a stream's time range behind its forward token, wanted from `notBefore` on. */
export interface RereadRequest {
  /** Inclusive range of CloudWatch event timestamps (epoch ms). */
  readonly fromTime: number;
  readonly toTime: number;
  readonly notBefore: number;
}

/** What a consumer of batches (the pipeline) needs of a source. */
export interface BatchSource {
  /**
   * Starts reading; `onForgotten` hears of retired streams whose state should be dropped,
   * `onStarted` of each stream whose reading starts.
   */
  start(
    handler: BatchHandler,
    onForgotten?: StreamForgottenHandler,
    onStarted?: StreamStartedHandler,
  ): Promise<void>;
  /** Stops reading; batches already handed out stay ackable. */
  stop(): Promise<void>;
  /** Acknowledges a batch with the consumer's state as of its end (the checkpoint moves over the contiguous acknowledged prefix). */
  ack(batch: Batch, state?: BatchState, signal?: AbortSignal): Promise<void>;
  /** The state committed with the stream's newest checkpoint, to continue from after a restart. */
  committedState(stream: StreamRef): BatchState | undefined;
  /**
   * Re-reads a time range of the stream (gap repair): its pages arrive as `replay` batches in
   * the stream's order, even empty ones, so the consumer sees each re-read happen.
   */
  reread?(stream: StreamRef, request: RereadRequest): void;
}
