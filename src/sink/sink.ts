/**
 * The contract between the dispatcher and each destination. A sink owns its retry loop: `deliver`
 * resolves only once every event is durably accepted or permanently rejected (never "some were
 * dropped"), and rejects only when aborted. Rejected events go to the dead-letter destination.
 */
import type { OutboundEvent } from './outbound-event.js';

export type SinkName = 'kafka' | 'opensearch';

/**
 * Why a destination refused an event for good, set by the sink that knows the cause; the
 * `reason` label of `records_dead_lettered_total` (README metric table). Kept small on purpose.
 */
export const REJECTION_KINDS = ['mapping_error', 'too_large', 'invalid_event', 'rejected'] as const;
export type RejectionKind = (typeof REJECTION_KINDS)[number];

export interface RejectedEvent {
  readonly event: OutboundEvent;
  readonly kind: RejectionKind;
  /** The destination's own words, e.g. `mapper_parsing_exception: failed to parse`. */
  readonly detail: string;
}

export interface SinkResult {
  /** Accepted now. */
  readonly delivered: number;
  /** Already present (OpenSearch 409 on `create`): success, counted apart. */
  readonly duplicates: number;
  readonly rejected: readonly RejectedEvent[];
}

/**
 * Why a destination refused a write for a problem of its configuration, not of the event
 * (permissions, a missing index with auto-create off, a write block, a closed index, an invalid
 * index name). Such writes are retried, never dead-lettered.
 */
export const REFUSAL_REASONS = [
  'forbidden',
  'index_not_found',
  'index_blocked',
  'index_closed',
  'invalid_index_name',
  'no_write_index',
  'pipeline_missing',
  'index_setting',
  'mapping_conflict',
  'other',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * Reports whether a sink is holding writes back because the destination refuses them (a
 * configuration problem), with what to fix. Kept apart from reachability: the node still
 * answers pings while one index is blocked, and that must not make the stall look healthy.
 */
export type SinkStallListener = (sink: SinkName, stalled: boolean, detail?: string) => void;

/** Counts writes refused for a configuration problem (per event and attempt). */
export type SinkRefusalListener = (sink: SinkName, reason: RefusalReason, count: number) => void;

/** A delivery attempt failed and will be retried (`retries_total`, the `/readyz` detail). */
export type SinkRetryListener = (sink: SinkName, reason: string) => void;

/** Reports a sink's reachability as it changes, for `/readyz` and the `sink_up` gauge. */
export type SinkHealthListener = (sink: SinkName, up: boolean, detail?: string) => void;

export interface Sink {
  readonly name: SinkName;
  /** Connects and checks the destination (topic exists, index template installed). */
  start(signal?: AbortSignal): Promise<void>;
  deliver(events: readonly OutboundEvent[], signal: AbortSignal): Promise<SinkResult>;
  /** A cheap round trip that tells whether the destination answers right now (for /readyz). */
  ping(): Promise<boolean>;
  stop(): Promise<void>;
}
