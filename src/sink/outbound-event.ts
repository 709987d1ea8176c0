/**
 * An OCSF event as the sinks see it: serialized once, with the fields both sinks route on.
 * Serializing once per event (not once per sink) is the cheapest way to send the same bytes to
 * Kafka and OpenSearch, as `_source` must equal the Kafka payload (docs/ocsf-mapping.md).
 */
export interface OutboundEvent {
  /** `metadata.uid`: Kafka `event-uid` header and OpenSearch `_id`. */
  readonly uid: string;
  /** Kafka key: the HSM id (`device.uid`), or the log stream for cluster-level records. */
  readonly key: string;
  /** Event time, epoch ms: picks the daily OpenSearch index, so a replay lands in the same one. */
  readonly time: number;
  readonly classUid: number;
  /** The OCSF event as JSON (UTF-8). */
  readonly json: string;
}

export interface OcsfLike {
  readonly time: number;
  readonly class_uid: number;
  readonly metadata: { readonly uid: string };
  readonly device?: { readonly uid?: string };
}

export function toOutboundEvent(event: OcsfLike, logStream: string): OutboundEvent {
  return {
    uid: event.metadata.uid,
    key: event.device?.uid ?? logStream,
    time: event.time,
    classUid: event.class_uid,
    json: JSON.stringify(event),
  };
}
