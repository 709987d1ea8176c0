/**
 * The identities every layer shares, defined once so they cannot drift apart: how a stream is
 * named and keyed, how a message is hashed, how a CloudHSM counter is written, and which OCSF
 * version the events follow. The checkpoint, the source, the transforms and the sinks all depend
 * on these; they live in util/ because util/ is the one folder all of them may import.
 */
import { hash } from 'node:crypto';

/** The OCSF schema version every event (and the OpenSearch template) declares. */
export const OCSF_VERSION = '1.1.0';

/** One CloudWatch Logs stream: the unit of ordering, checkpointing and polling. */
export interface StreamRef {
  readonly logGroup: string;
  readonly logStream: string;
}

/**
 * HSM streams are named with the HSM id; the certificate-storage stream is named for the cluster.
 * The transforms tell record kinds apart by it, and the scheduler which streams CloudHSM copies
 * logins and user management to (the HSM streams, never the certificate-storage one).
 */
export function isHsmStream(logStream: string): boolean {
  return logStream.startsWith('hsm-');
}

/** Stable map key for a stream (JSON, so no separator character can make two streams collide). */
export function streamKey(stream: StreamRef): string {
  return JSON.stringify([stream.logGroup, stream.logStream]);
}

/**
 * Short SHA-256 content hash of a message (lower-case hex, `hexChars` long). The length is part
 * of persisted state (checkpoints hold these hashes), so each user keeps the length it shipped
 * with: 32 for resume positions, 16 for the integrity tracker's window.
 */
export function messageHash(message: string, hexChars = 32): string {
  // The one-shot form: no Hash object per call (a third of the cost of parsing a record without
  // a sequence number, for which this hash is the event's uid).
  return hash('sha256', message, 'hex').slice(0, hexChars);
}

/**
 * A CloudHSM counter (sequence number, reboot counter, session handle) as `0x` + lower-case hex
 * without leading zeros: the form events and checkpoints carry. Accepts a number, a bigint or any
 * text BigInt reads (`0x001F`).
 */
export function hexCounter(value: bigint | number | string): string {
  return `0x${BigInt(value).toString(16)}`;
}
