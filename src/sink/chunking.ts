/**
 * How both sinks cut a batch into requests, and how they find the one event a destination
 * refuses for its size or content: the logic exists once so the Kafka and OpenSearch sinks cannot
 * drift apart on ordering or on what gets dead-lettered.
 */
import type { RejectedEvent, SinkResult } from './sink.js';

export interface ChunkLimits<T> {
  /** Upper bound of one request's payload, by `sizeOf`. */
  readonly maxBytes: number;
  /** Upper bound of items per request. @default unbounded */
  readonly maxItems?: number;
  /** An item's share of a request's payload (its body plus the per-item framing). */
  readonly sizeOf: (item: T) => number;
}

/**
 * Splits items into consecutive chunks within the limits, keeping their order. An item larger
 * than `maxBytes` on its own still gets a chunk: the destination decides whether it fits.
 */
export function chunkBySize<T>(items: readonly T[], limits: ChunkLimits<T>): T[][] {
  const maxItems = limits.maxItems ?? Number.POSITIVE_INFINITY;
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = limits.sizeOf(item);
    if (current.length > 0 && (size + bytes > limits.maxBytes || current.length >= maxItems)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export const EMPTY_RESULT: SinkResult = { delivered: 0, duplicates: 0, rejected: [] };

export function addResults(a: SinkResult, b: SinkResult): SinkResult {
  return {
    delivered: a.delivered + b.delivered,
    duplicates: a.duplicates + b.duplicates,
    rejected: [...a.rejected, ...b.rejected],
  };
}

/**
 * For a request the destination refused as a whole for its content (too large, unparseable),
 * which it would refuse again forever: halves it, in order, and sends each half with `send`
 * (which comes back here if that half is refused too) until the offending item stands alone,
 * and only that item is rejected, by `rejectAlone`. The others are not at fault.
 */
export async function halveUntilAlone<T>(
  items: readonly T[],
  send: (part: readonly T[]) => Promise<SinkResult>,
  rejectAlone: (item: T) => RejectedEvent,
): Promise<SinkResult> {
  const alone = items.length === 1 ? items[0] : undefined;
  if (alone !== undefined) return { ...EMPTY_RESULT, rejected: [rejectAlone(alone)] };
  const half = Math.ceil(items.length / 2);
  const first = await send(items.slice(0, half));
  const second = await send(items.slice(half));
  return addResults(first, second);
}
