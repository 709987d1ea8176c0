/**
 * What a stream without sequence numbers (certificate storage) delivered recently, so that a
 * look-back re-read of its trailing window delivers only what the forward reader missed (a record
 * ingested with an older timestamp lands behind the forward token). Records are told apart by the
 * hash part of their event uid (timestamp and text), which is what makes them the same document.
 * Pure state, persisted with the checkpoint like the integrity state.
 */
import { hashUid } from './ocsf-builders.js';
import type { SourceRecord } from './source-record.js';

/** Persisted form: `[CloudWatch timestamp, uid hash]` pairs, oldest first. */
export type RecentRecordsState = Array<[number, string]>;

export class RecentRecords {
  private readonly streams = new Map<string, Map<string, number>>();
  private readonly windowMs: number;

  /** `windowMs`: how far back records are remembered (the look-back window and a margin). */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Whether the record was delivered before (within the window). */
  seen(streamKey: string, record: SourceRecord): boolean {
    return this.streams.get(streamKey)?.has(hashUid(record)) === true;
  }

  /** Remembers a delivered record. */
  remember(streamKey: string, record: SourceRecord): void {
    let stream = this.streams.get(streamKey);
    if (stream === undefined) {
      stream = new Map();
      this.streams.set(streamKey, stream);
    }
    stream.set(hashUid(record), record.timestamp);
  }

  /** Forgets the stream's records older than the window before `now` (once per batch). */
  prune(streamKey: string, now: number): void {
    const stream = this.streams.get(streamKey);
    if (stream === undefined) return;
    const cutoff = now - this.windowMs;
    for (const [hash, timestamp] of stream) if (timestamp < cutoff) stream.delete(hash);
  }

  forget(streamKey: string): void {
    this.streams.delete(streamKey);
  }

  snapshot(streamKey: string): RecentRecordsState | undefined {
    const stream = this.streams.get(streamKey);
    if (stream === undefined || stream.size === 0) return undefined;
    return [...stream].map(([hash, timestamp]): [number, string] => [timestamp, hash]);
  }

  restore(streamKey: string, state: RecentRecordsState): void {
    const stream = new Map<string, number>();
    for (const [timestamp, hash] of state) {
      if (typeof timestamp !== 'number' || typeof hash !== 'string') {
        throw new TypeError('invalid recent-records state');
      }
      stream.set(hash, timestamp);
    }
    this.streams.set(streamKey, stream);
  }
}
