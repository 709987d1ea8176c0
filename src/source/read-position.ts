/**
 * Where a stream's reading starts and resumes: the start position of a stream without checkpoint,
 * the poller's read position, and the dedupe that keeps a `startTime` re-seek from delivering a
 * record twice. Pure (no I/O), so the resume rules are tested without a poller.
 */
import type { CheckpointRecord } from '../checkpoint/checkpoint-store.js';
import { UsageError } from '../util/errors.js';
import { messageHash } from '../util/identity.js';
import { extractSequence, type RawEvent, type ResumePosition } from './batch.js';

/** Where a stream without a checkpoint starts (README "Configuration", `START_POSITION`). */
export type StartPosition =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'end' }
  | { readonly kind: 'time'; readonly time: number };

/** Parses `beginning`, `end` or an ISO-8601 time; throws a config error naming the key. */
export function parseStartPosition(value: string, key = 'START_POSITION'): StartPosition {
  if (value === 'beginning' || value === 'end') return { kind: value };
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `${key}: invalid value ${JSON.stringify(value)}; accepted: "beginning", "end" or an ISO-8601 time such as 2024-05-01T00:00:00Z`,
      'FWD_ERR_CONFIG',
    );
  }
  return { kind: 'time', time };
}

/** Mutable read position of a poller (ahead of the committed checkpoint by the in-flight batches). */
export interface PollerState {
  token: string | undefined;
  /** `startTime` of the current read session, sent with every call (with or without token). */
  startTime: number | undefined;
  /** Where to re-seek if a token is rejected and nothing was delivered yet. */
  readonly initialStartTime: number | undefined;
  /** True after a `startTime` re-seek: records at `resume.lastEventTimestamp` may repeat. */
  dedupe: boolean;
  resume: Omit<ResumePosition, 'nextForwardToken' | 'tokenStartTime'>;
  /** Ordinal of the next batch. */
  nextSeq: number;
}

/**
 * Initial state from a checkpoint, or from the start position for a stream without one. A
 * checkpoint without a token is a start checkpoint (written when the stream's start position was
 * resolved, before it delivered anything): reading begins at its `tokenStartTime`, null meaning
 * the beginning of the stream, whatever the start position is configured to now.
 */
export function initialPollerState(
  checkpoint: CheckpointRecord | undefined,
  startTime?: number,
): PollerState {
  const sessionStart =
    checkpoint === undefined ? startTime : (checkpoint.tokenStartTime ?? undefined);
  // A token-less checkpoint that names a delivered record (never written by us, but tolerated)
  // re-seeks to that record's timestamp and skips what was delivered there.
  const reseekAt =
    checkpoint?.nextForwardToken === null
      ? (checkpoint.lastEventTimestamp ?? undefined)
      : undefined;
  return {
    token: checkpoint?.nextForwardToken ?? undefined,
    startTime: reseekAt ?? sessionStart,
    initialStartTime: sessionStart,
    dedupe: reseekAt !== undefined,
    resume: {
      lastEventTimestamp: checkpoint?.lastEventTimestamp ?? null,
      lastIngestionTime: checkpoint?.lastIngestionTime ?? null,
      hashesAtLastTimestamp: checkpoint?.hashesAtLastTimestamp ?? [],
      rebootCounter: checkpoint?.rebootCounter ?? null,
      lastSequence: checkpoint?.lastSequence ?? null,
    },
    nextSeq: 1,
  };
}

/** Hashes of the last delivered millisecond kept in a checkpoint (about 40 bytes each). */
export const MAX_HASHES_AT_LAST_TIMESTAMP = 64;

/**
 * Drops records delivered before a re-seek and computes the resume position after the kept
 * ones. Only the millisecond of the last delivered record can repeat (`startTime` excludes
 * older ones); there a record is a repeat if its hash was delivered, or if it is an HSM record
 * whose sequence number is not beyond the last delivered one (same reboot counter). Outside a
 * re-seek, an exact copy (same text) of a record of the last delivered millisecond is dropped
 * too: the emulator's positional tokens hand out the last record again after a back-dated
 * insert, and no stream writes one record twice in the same millisecond.
 */
export function filterAndAdvance(
  state: Pick<PollerState, 'resume' | 'dedupe'>,
  events: readonly RawEvent[],
): {
  kept: RawEvent[];
  resume: PollerState['resume'];
  dedupe: boolean;
  skipped: number;
} {
  const previous = state.resume;
  let dedupe = state.dedupe;
  const seen = new Set(previous.hashesAtLastTimestamp);
  const last = previous.lastEventTimestamp;
  const kept: RawEvent[] = [];
  let skipped = 0;
  for (const event of events) {
    if (dedupe && last !== null) {
      if (event.timestamp < last) {
        skipped += 1;
        continue;
      }
      if (event.timestamp === last) {
        if (seen.has(messageHash(event.message)) || sequenceCovered(previous, event)) {
          skipped += 1;
          continue;
        }
      } else {
        dedupe = false;
      }
    } else if (last !== null && event.timestamp === last && seen.has(messageHash(event.message))) {
      skipped += 1;
      continue;
    }
    kept.push(event);
  }
  if (kept.length === 0) return { kept, resume: previous, dedupe, skipped };

  let maxTs = last ?? Number.NEGATIVE_INFINITY;
  for (const event of kept) if (event.timestamp > maxTs) maxTs = event.timestamp;
  const hashes = maxTs === last ? [...previous.hashesAtLastTimestamp] : [];
  let lastIngestionTime = previous.lastIngestionTime;
  let rebootCounter = previous.rebootCounter;
  let lastSequence = previous.lastSequence;
  for (const event of kept) {
    if (event.timestamp === maxTs) hashes.push(messageHash(event.message));
    lastIngestionTime = event.ingestionTime;
    const sequence = extractSequence(event.message);
    if (sequence !== undefined) {
      rebootCounter = sequence.rebootCounter;
      lastSequence = sequence.sequence;
    }
  }
  // Bounded: a burst in one millisecond (5,000 records seen) would make the checkpoint hundreds
  // of KB, rewritten on every commit. The most recent hashes are kept; past the bound, a re-seek
  // into that millisecond can deliver a record again (a duplicate: OpenSearch keeps one document,
  // Kafka carries its event-uid), never lose one. HSM records are also recognised by sequence.
  if (hashes.length > MAX_HASHES_AT_LAST_TIMESTAMP) {
    hashes.splice(0, hashes.length - MAX_HASHES_AT_LAST_TIMESTAMP);
  }
  return {
    kept,
    resume: {
      lastEventTimestamp: maxTs,
      lastIngestionTime,
      hashesAtLastTimestamp: hashes,
      rebootCounter,
      lastSequence,
    },
    dedupe,
    skipped,
  };
}

function sequenceCovered(resume: PollerState['resume'], event: RawEvent): boolean {
  const { rebootCounter, lastSequence } = resume;
  if (rebootCounter === null || lastSequence === null) return false;
  const sequence = extractSequence(event.message);
  return (
    sequence !== undefined &&
    sequence.rebootCounter === rebootCounter &&
    BigInt(sequence.sequence) <= BigInt(lastSequence)
  );
}
