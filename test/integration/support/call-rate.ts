// Arrival-rate figures over the calls a CloudWatch proxy recorded (in-process or in a process of
// its own): pure functions, so the bench can compute them on calls fetched from another process.
import type { ProxyCall } from './cloudwatch-proxy.js';

/** A time range in epoch ms, `from` inclusive, `to` exclusive. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** A stretch of arrivals: the first one at `from`, the last `span` ms later. */
export interface ArrivalSpan {
  readonly from: number;
  readonly span: number;
}

const SECOND_MS = 1000;

function inRange(at: number, range: TimeRange | undefined): boolean {
  return range === undefined || (at >= range.from && at < range.to);
}

/** Arrival times (epoch ms, ascending) of `operation` inside `range`. */
export function arrivals(
  calls: readonly ProxyCall[],
  operation: string,
  range?: TimeRange,
): number[] {
  return calls
    .filter((c) => c.operation === operation && inRange(c.at, range))
    .map((c) => c.at)
    .sort((a, b) => a - b);
}

/** Calls of `operation` per stream (key `<group> <stream>`) inside `range`. */
export function callsPerStream(
  calls: readonly ProxyCall[],
  operation: string,
  range?: TimeRange,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    if (call.operation !== operation || !inRange(call.at, range)) continue;
    const key = `${call.logGroup ?? ''} ${call.logStream ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * For every call of the ascending `times`, how many calls (itself included) arrived in the second
 * it opens, [t, t + 1 s). The fullest such window is the fullest sliding second: a window holding
 * the most calls can always be moved right until it starts at a call.
 */
function countsPerSecondFromEachCall(times: readonly number[]): number[] {
  const counts: number[] = [];
  let end = 0;
  for (let start = 0; start < times.length; start += 1) {
    end = Math.max(end, start);
    while (end < times.length && (times[end] as number) - (times[start] as number) < SECOND_MS) {
      end += 1;
    }
    counts.push(end - start);
  }
  return counts;
}

/** The most of the ascending `times` inside any sliding second. */
export function peakPerSecond(times: readonly number[]): number {
  return countsPerSecondFromEachCall(times).reduce((peak, n) => Math.max(peak, n), 0);
}

/**
 * How many seconds, one opening at each call, held more than `budget` calls; beside the number
 * of windows looked at. One stray early call makes a handful of windows; a limiter that lets
 * too much through makes many.
 */
export function secondsOverBudget(
  times: readonly number[],
  budget: number,
): { over: number; windows: number } {
  const counts = countsPerSecondFromEachCall(times);
  return { over: counts.filter((n) => n > budget).length, windows: counts.length };
}

/** The `limit` shortest spans holding `count` consecutive calls of the ascending `times`. */
export function shortestSpans(
  times: readonly number[],
  count: number,
  limit: number,
): ArrivalSpan[] {
  const spans: ArrivalSpan[] = [];
  for (let i = 0; i + count - 1 < times.length; i += 1) {
    const from = times[i] as number;
    spans.push({ from, span: (times[i + count - 1] as number) - from });
  }
  return spans.sort((a, b) => a.span - b.span || a.from - b.from).slice(0, limit);
}
