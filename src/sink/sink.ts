/**
 * The contract between the dispatcher and each destination. A sink owns its retry loop: `deliver`
 * resolves only once every event is durably accepted or permanently rejected (never "some were
 * dropped"), and rejects only when aborted. Rejected events go to the dead-letter destination.
 */
import type { OutboundEvent } from './outbound-event.js';

export type SinkName = 'kafka' | 'opensearch';

export interface RejectedEvent {
  readonly event: OutboundEvent;
  /** Why the destination refused it for good, e.g. `mapper_parsing_exception: failed to parse`. */
  readonly reason: string;
}

export interface SinkResult {
  /** Accepted now. */
  readonly delivered: number;
  /** Already present (OpenSearch 409 on `create`): success, counted apart. */
  readonly duplicates: number;
  readonly rejected: readonly RejectedEvent[];
}

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
