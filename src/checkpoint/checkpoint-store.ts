import { readSavedTransformState, type SavedTransformState } from '../transform/saved-state.js';
import type { StreamRef } from '../util/identity.js';
import { ForwarderError } from '../util/errors.js';

/**
 * Current on-disk schema version of {@link CheckpointRecord}. Version 1 (until issue 14) had no
 * account or region and kept the transform state in an untyped `integrity` field; it is still
 * read (see {@link validateCheckpointRecord}).
 */
export const CHECKPOINT_VERSION = 2;

/**
 * The AWS account and region whose streams a store holds: part of every checkpoint's key, so
 * reading several accounts later does not change the format again. Today it is the pod's own
 * (aws.accountId, null when not configured, and the region app.ts resolves).
 */
export interface CheckpointScope {
  readonly accountId: string | null;
  readonly region: string;
}

/**
 * Committed position of one stream (README "Delivery"), keyed by account, region, log group and log
 * stream. Only ever written for positions whose every record was acknowledged by all sinks.
 * `null` rather than absent keeps the JSON shape fixed.
 */
export interface CheckpointRecord extends CheckpointScope {
  readonly version: typeof CHECKPOINT_VERSION;
  readonly logGroup: string;
  readonly logStream: string;
  /**
   * Forward token to continue from; expires after ~24 h, hence the fields below. Null in the
   * start checkpoint written when a stream is first seen, before it delivered anything.
   */
  readonly nextForwardToken: string | null;
  /**
   * `startTime` to send together with the token (see ResumePosition.tokenStartTime); without a
   * token, where reading starts (null: the beginning of the stream).
   */
  readonly tokenStartTime: number | null;
  /** Re-seek point (`startTime`) when the token is rejected. */
  readonly lastEventTimestamp: number | null;
  readonly lastIngestionTime: number | null;
  /** Hashes of messages delivered at exactly `lastEventTimestamp` (skipped after a re-seek). */
  readonly hashesAtLastTimestamp: readonly string[];
  readonly rebootCounter: string | null;
  readonly lastSequence: string | null;
  /** Transform state as of the end of the committed batch (docs/architecture.md), stored atomically. */
  readonly transformState: SavedTransformState | null;
  /**
   * `creationTime` of the stream this position belongs to (DescribeLogStreams), so that a stream
   * deleted and created again under the same name is read from its own beginning instead of
   * through the old one's token. Null when not known (records written before it was kept).
   */
  readonly streamCreationTime: number | null;
  /** ISO-8601 time of the write. */
  readonly updatedAt: string;
}

/** Durable per-stream checkpoints. Implementations must make `save` atomic per stream. */
export interface CheckpointStore {
  /** The account and region of the streams it holds (written into every record). */
  readonly scope: CheckpointScope;
  /** Prepares the store (creates directories, removes leftovers of interrupted writes). */
  open(): Promise<void>;
  /** Undefined when the stream has no checkpoint; throws FWD_ERR_CHECKPOINT_CORRUPT if unreadable. */
  load(stream: StreamRef): Promise<CheckpointRecord | undefined>;
  /** Every checkpoint; throws FWD_ERR_CHECKPOINT_CORRUPT on the first unreadable one. */
  loadAll(): Promise<CheckpointRecord[]>;
  /** Atomically replaces the stream's checkpoint: after a crash the old or the new one survives. */
  save(record: CheckpointRecord): Promise<void>;
  /** Deletes the checkpoints of the named streams, or all of them; returns how many were removed. */
  reset(streams?: readonly StreamRef[]): Promise<number>;
}

/**
 * Checks the shape of a parsed checkpoint and returns it as the current version. A version 1
 * record (written before issue 14) gets `scope` as its account and region, and its `integrity`
 * field (which held the transform state) becomes `transformState`. Throws a plain Error with the
 * reason; the store wraps it into FWD_ERR_CHECKPOINT_CORRUPT naming the file.
 */
export function validateCheckpointRecord(value: unknown, scope: CheckpointScope): CheckpointRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not a JSON object');
  }
  const v = value as Record<string, unknown>;
  const version = v['version'];
  if (version !== CHECKPOINT_VERSION && version !== 1) {
    throw new Error(`unsupported version ${JSON.stringify(version)}`);
  }
  const str = (key: string): string => {
    const x = v[key];
    if (typeof x !== 'string' || x.length === 0) throw new Error(`"${key}" must be a string`);
    return x;
  };
  const optStr = (key: string): string | null => {
    const x = v[key];
    if (x === null || x === undefined) return null;
    if (typeof x !== 'string') throw new Error(`"${key}" must be a string or null`);
    return x;
  };
  const optNum = (key: string): number | null => {
    const x = v[key];
    if (x === null || x === undefined) return null;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new Error(`"${key}" must be a number or null`);
    }
    return x;
  };
  const hashes = v['hashesAtLastTimestamp'] ?? [];
  if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string')) {
    throw new Error('"hashesAtLastTimestamp" must be an array of strings');
  }
  return {
    version: CHECKPOINT_VERSION,
    ...(version === 1 ? scope : { accountId: optStr('accountId'), region: str('region') }),
    logGroup: str('logGroup'),
    logStream: str('logStream'),
    nextForwardToken: optStr('nextForwardToken'),
    tokenStartTime: optNum('tokenStartTime'),
    lastEventTimestamp: optNum('lastEventTimestamp'),
    lastIngestionTime: optNum('lastIngestionTime'),
    hashesAtLastTimestamp: hashes,
    rebootCounter: optStr('rebootCounter'),
    lastSequence: optStr('lastSequence'),
    transformState: readSavedTransformState(version === 1 ? v['integrity'] : v['transformState']),
    streamCreationTime: optNum('streamCreationTime'),
    updatedAt: str('updatedAt'),
  };
}

/** The error for an unreadable checkpoint: names the file and how to get past it. */
export function corruptCheckpointError(location: string, reason: string, cause?: unknown) {
  return new ForwarderError(
    'FWD_ERR_CHECKPOINT_CORRUPT',
    `checkpoint ${location} is unreadable (${reason}); refusing to start rather than re-reading ` +
      'or skipping the stream. Repair or delete the file, or run with --reset-checkpoints ' +
      '(optionally limited to the affected log group/stream) to restart that stream from the ' +
      'configured start position.',
    cause === undefined ? {} : { cause },
  );
}
