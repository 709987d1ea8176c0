import type { StreamRef } from '../util/identity.js';

/** CloudWatch Logs operations the source calls; each has its own rate limit. */
export type ApiOperation = 'DescribeLogGroups' | 'DescribeLogStreams' | 'GetLogEvents';

/** Outcome label of one API call (small fixed set, fit for a Prometheus label). */
export type ApiOutcome =
  | 'success'
  | 'throttled'
  | 'retryable_error'
  | 'token_rejected'
  | 'not_found'
  | 'aborted'
  | 'error';

/**
 * Hooks the source calls as it works. A teammate implements them with prom-client; labels that
 * could be unbounded (tokens, stream names) are passed as values, and the implementation decides
 * what becomes a label (log group = cluster is bounded; stream names are not).
 */
export interface SourceMetrics {
  /** One finished API call, with its wall-clock duration. */
  apiCall(operation: ApiOperation, outcome: ApiOutcome, durationMs: number): void;
  /** The API answered ThrottlingException (or HTTP 429). */
  throttled(operation: ApiOperation): void;
  /** A failed call is going to be retried after `delayMs`. */
  retry(operation: ApiOperation, delayMs: number): void;
  /** Time spent waiting for the shared rate limiter before a call. */
  rateLimitWait(operation: ApiOperation, waitMs: number): void;
  /** One GetLogEvents page (possibly empty); `events` were handed to the pipeline. */
  page(stream: StreamRef, events: number): void;
  /** Events read, per log group (cluster). */
  eventsRead(logGroup: string, count: number): void;
  /** now − newest event timestamp of the page just read. */
  pollingLag(stream: StreamRef, lagMs: number): void;
  /** A re-read of a time range behind the forward token finished; `events` were in the range. */
  reread(stream: StreamRef, events: number): void;
  /** Data on `stream` after it was idle made its idle siblings (same log group) due at once. */
  siblingsWoken(stream: StreamRef, woken: number): void;
  /** Streams currently draining (active) versus waiting at the tail (idle). */
  streamStates(active: number, idle: number): void;
  /** The stored forward token was rejected (expired/invalid): resumed from the timestamp. */
  tokenRejected(stream: StreamRef): void;
  /** Records skipped because they were delivered before a token fallback. */
  duplicatesSkipped(stream: StreamRef, count: number): void;
  streamDiscovered(stream: StreamRef): void;
  streamRetired(stream: StreamRef): void;
  /** The last trace of a log group (polled, parked or checkpointed stream) is gone. */
  logGroupForgotten(logGroup: string): void;
  /** Batches and events read but not yet acknowledged (all streams). */
  inFlight(batches: number, events: number): void;
  /** A checkpoint was durably written. */
  checkpointCommitted(stream: StreamRef): void;
  /** A checkpoint write failed (it is retried with backoff; the stream reads no further meanwhile). */
  checkpointFailed(stream: StreamRef): void;
  /** An error escaped a stream poller's loop; the loop restarts after a backoff. */
  pollerRestarted(stream: StreamRef): void;
}

const ignore = (): void => {};

/** Default: metrics disabled. */
export const noopSourceMetrics: SourceMetrics = {
  apiCall: ignore,
  throttled: ignore,
  retry: ignore,
  rateLimitWait: ignore,
  page: ignore,
  eventsRead: ignore,
  pollingLag: ignore,
  siblingsWoken: ignore,
  reread: ignore,
  streamStates: ignore,
  tokenRejected: ignore,
  duplicatesSkipped: ignore,
  streamDiscovered: ignore,
  streamRetired: ignore,
  logGroupForgotten: ignore,
  inFlight: ignore,
  checkpointCommitted: ignore,
  checkpointFailed: ignore,
  pollerRestarted: ignore,
};
