/**
 * One CloudWatch Logs event plus where it came from: the unit every transform step consumes.
 * `timestamp` and `ingestionTime` are CloudWatch's own epoch milliseconds, not the HSM's clock.
 */
export interface SourceRecord {
  /** CloudWatch log group, `/aws/cloudhsm/<cluster-id>`. */
  logGroup: string;
  /** CloudWatch log stream: the HSM id, or the cluster-named certificate-storage stream. */
  logStream: string;
  /** CloudWatch event timestamp (ms since the epoch). */
  timestamp: number;
  /** When CloudWatch ingested the event (ms since the epoch), if known. */
  ingestionTime?: number;
  /** The raw message exactly as CloudWatch returned it. */
  message: string;
  /** CloudWatch's event id, if known. */
  eventId?: string;
}
