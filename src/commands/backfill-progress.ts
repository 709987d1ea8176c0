/**
 * Progress of a backfill: streams done, records acknowledged, rate, and an ETA from the share of
 * the range covered so far. Pure (the caller passes the time), so the figures are unit-tested;
 * backfill-command.ts prints them.
 */
import { streamKey, type StreamRef } from '../util/identity.js';

export interface ProgressFigures {
  readonly streamsDone: number;
  readonly streams: number;
  /** Records acknowledged (delivered or dead-lettered) by this run. */
  readonly records: number;
  readonly recordsPerSecond: number;
  /** Share of stream × time covered, 0..1. */
  readonly covered: number;
  /** Estimated time left; undefined until something is covered. */
  readonly etaMs: number | undefined;
  readonly elapsedMs: number;
}

export class BackfillProgress {
  private readonly from: number;
  private readonly to: number;
  private readonly startedAt: number;
  private streams = 0;
  private records = 0;
  /** Newest acknowledged timestamp per unfinished stream. */
  private readonly reached = new Map<string, number>();
  private readonly done = new Set<string>();

  constructor(range: { readonly from: number; readonly to: number }, startedAt: number) {
    this.from = range.from;
    this.to = range.to;
    this.startedAt = startedAt;
  }

  /** The number of streams read (known once the source has listed them). */
  setStreams(count: number): void {
    this.streams = count;
  }

  acknowledged(stream: StreamRef, records: number, lastTimestamp: number | undefined): void {
    this.records += records;
    if (lastTimestamp === undefined) return;
    const key = streamKey(stream);
    this.reached.set(key, Math.max(this.reached.get(key) ?? this.from, lastTimestamp));
  }

  streamDone(stream: StreamRef): void {
    this.done.add(streamKey(stream));
  }

  figures(now: number): ProgressFigures {
    const elapsedMs = Math.max(0, now - this.startedAt);
    const streams = Math.max(this.streams, this.done.size);
    // A range reaching into the future is covered once it reaches now.
    const span = Math.max(1, Math.min(this.to, now) - this.from);
    let sum = this.done.size;
    for (const [key, reached] of this.reached) {
      if (!this.done.has(key)) sum += Math.min(1, Math.max(0, (reached - this.from) / span));
    }
    const covered = streams === 0 ? 1 : Math.min(1, sum / streams);
    return {
      streamsDone: this.done.size,
      streams,
      records: this.records,
      recordsPerSecond: elapsedMs === 0 ? 0 : (this.records * 1000) / elapsedMs,
      covered,
      etaMs: covered > 0 && elapsedMs > 0 ? (elapsedMs * (1 - covered)) / covered : undefined,
      elapsedMs,
    };
  }

  /** `streams 2/5 done, 1234 records, 56.7 records/s, 43% of the range, ETA 3m20s` */
  line(now: number): string {
    const f = this.figures(now);
    return (
      `streams ${f.streamsDone}/${f.streams} done, ${f.records} records, ` +
      `${f.recordsPerSecond.toFixed(1)} records/s, ${Math.floor(f.covered * 100)}% of the range, ` +
      `ETA ${f.etaMs === undefined ? 'unknown' : formatDuration(f.etaMs)}`
    );
  }

  /** `5/5 streams, 1234 records in 1m02s (19.9 records/s)` */
  summary(now: number): string {
    const f = this.figures(now);
    return (
      `${f.streamsDone}/${f.streams} streams, ${f.records} records in ` +
      `${formatDuration(f.elapsedMs)} (${f.recordsPerSecond.toFixed(1)} records/s)`
    );
  }
}

/** `45s`, `3m20s`, `2h05m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
