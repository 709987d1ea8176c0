import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chunkBySize, halveUntilAlone } from '../../../src/sink/chunking.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import type { RejectedEvent, SinkResult } from '../../../src/sink/sink.js';
import { event } from './support/fakes.js';

describe('chunkBySize', () => {
  const sizeOf = (n: number) => n;

  it('cuts in order at the byte limit and the item limit', () => {
    assert.deepEqual(chunkBySize([4, 4, 4, 4], { maxBytes: 10, sizeOf }), [
      [4, 4],
      [4, 4],
    ]);
    assert.deepEqual(chunkBySize([1, 1, 1, 1, 1], { maxBytes: 100, maxItems: 2, sizeOf }), [
      [1, 1],
      [1, 1],
      [1],
    ]);
  });

  it('gives an item over the limit a chunk of its own instead of dropping it', () => {
    assert.deepEqual(chunkBySize([2, 50, 2], { maxBytes: 10, sizeOf }), [[2], [50], [2]]);
    assert.deepEqual(chunkBySize([], { maxBytes: 10, sizeOf }), []);
  });
});

describe('halveUntilAlone', () => {
  it('rejects only the item the destination refuses alone and delivers the rest', async () => {
    const events = Array.from({ length: 7 }, (_, i) => event(i));
    const bad = events[4];
    const sent: number[] = [];
    const rejectAlone = (alone: OutboundEvent): RejectedEvent => ({
      event: alone,
      kind: 'too_large',
      detail: 'alone',
    });
    // The destination refuses any request holding the bad event, as a broker over its limit.
    const send = async (part: readonly OutboundEvent[]): Promise<SinkResult> => {
      sent.push(part.length);
      if (bad !== undefined && part.includes(bad)) return halveUntilAlone(part, send, rejectAlone);
      return { delivered: part.length, duplicates: 0, rejected: [] };
    };
    const result = await halveUntilAlone(events, send, rejectAlone);
    assert.equal(result.delivered, 6);
    assert.deepEqual(
      result.rejected.map((r) => [r.event.uid, r.kind]),
      [[bad?.uid, 'too_large']],
    );
    // 7 -> 4 + 3 (bad); 3 -> 2 (bad) + 1; 2 -> 1 (bad, rejected alone) + 1.
    assert.deepEqual(sent, [4, 3, 2, 1, 1, 1]);
  });
});
