/**
 * The OpenSearch sink's own logic with an injected client (src/app.ts builds the real one):
 * chunking, per-item classification with partial retries, the typed rejection kinds and the
 * halving of a request refused as a whole. The bulk answers are injected through the client
 * port; test/integration/sink covers the same paths against a real node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { dailyIndex, lateIndex } from '../../../src/sink/opensearch-template.js';
import { OpenSearchSink } from '../../../src/sink/opensearch.js';
import { DAY, event, FakeOpenSearch, recordingClock } from './support/fakes.js';

const signal = new AbortController().signal;
const prefix = 'audit';

function sink(client: FakeOpenSearch, extra: { bulkMaxDocs?: number; lateIndex?: boolean } = {}) {
  const stalls: Array<string | undefined> = [];
  const clock = recordingClock();
  const built = new OpenSearchSink({
    client,
    indexPrefix: prefix,
    clock,
    onStall: (_name, stalled, detail) => stalls.push(stalled ? detail : undefined),
    ...extra,
  });
  return { sink: built, stalls, clock };
}

describe('OpenSearchSink with an injected client', () => {
  it('sends chunks of bulkMaxDocs into the daily index, counting 409 as a duplicate', async () => {
    const client = new FakeOpenSearch();
    client.item = (line) => ({ status: line.uid.endsWith('0x2') ? 409 : 201 });
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    const result = await sink(client, { bulkMaxDocs: 2 }).sink.deliver(events, signal);
    assert.deepEqual(result, { delivered: 4, duplicates: 1, rejected: [] });
    assert.deepEqual(
      client.requests.map((r) => r.length),
      [2, 2, 1],
    );
    assert.ok(client.requests.flat().every((line) => line.index === dailyIndex(prefix, DAY)));
  });

  it('retries only the throttled items, and rejects a mapping error with its kind', async () => {
    const client = new FakeOpenSearch();
    client.item = (line, attempt) => {
      if (line.uid.endsWith('0x1') && attempt < 2) return { status: 429 };
      if (line.uid.endsWith('0x2')) {
        const reason = 'failed to parse field [time]';
        return { status: 400, error: { type: 'mapper_parsing_exception', reason } };
      }
      return { status: 201 };
    };
    const { sink: osSink, clock } = sink(client);
    const result = await osSink.deliver([event(0), event(1), event(2)], signal);
    assert.equal(result.delivered, 2);
    assert.deepEqual(
      result.rejected.map((r) => [r.event.uid, r.kind, r.detail]),
      [[event(2).uid, 'mapping_error', 'mapper_parsing_exception: failed to parse field [time]']],
    );
    assert.deepEqual(
      client.requests.map((r) => r.map((line) => line.uid)),
      [[event(0).uid, event(1).uid, event(2).uid], [event(1).uid], [event(1).uid]],
    );
    assert.equal(clock.sleeps.length, 2, 'each throttled round backs off');
  });

  it('halves a request refused as too large and rejects only the event too large alone', async () => {
    const client = new FakeOpenSearch();
    const big = event(3, 5000);
    client.whole = (lines) => (lines.some((l) => l.uid === big.uid) ? 413 : undefined);
    const events = [event(0), event(1), event(2), big, event(4)];
    const result = await sink(client).sink.deliver(events, signal);
    assert.equal(result.delivered, 4);
    assert.deepEqual(
      result.rejected.map((r) => [r.event.uid, r.kind]),
      [[big.uid, 'too_large']],
    );
    assert.match(result.rejected[0]?.detail ?? '', /^bulk 413: .*http\.max_content_length/);
  });

  it('rejects the one event of a request refused with 400 as an invalid event', async () => {
    const client = new FakeOpenSearch();
    const bad = event(1);
    client.whole = (lines) => (lines.some((l) => l.uid === bad.uid) ? 400 : undefined);
    const result = await sink(client).sink.deliver([event(0), bad], signal);
    assert.equal(result.delivered, 1);
    assert.deepEqual(
      result.rejected.map((r) => [r.event.uid, r.kind]),
      [[bad.uid, 'invalid_event']],
    );
  });

  it('holds events of a write-blocked index, reporting the stall, until it takes them', async () => {
    const client = new FakeOpenSearch();
    const blocked = { type: 'cluster_block_exception', reason: 'index [audit] blocked' };
    client.item = (_line, attempt) =>
      attempt < 2 ? { status: 403, error: blocked } : { status: 201 };
    const { sink: osSink, stalls } = sink(client);
    const result = await osSink.deliver([event(0)], signal);
    assert.deepEqual(result, { delivered: 1, duplicates: 0, rejected: [] });
    assert.match(stalls[0] ?? '', /refuses writes/);
    assert.equal(stalls.at(-1), undefined, 'the stall is cleared once delivered');
  });

  it('re-routes a write-blocked event to the late index at once when allowed', async () => {
    const client = new FakeOpenSearch();
    const blocked = { type: 'cluster_block_exception', reason: 'index blocked' };
    client.item = (line) =>
      line.index === dailyIndex(prefix, DAY) ? { status: 403, error: blocked } : { status: 201 };
    const { sink: osSink, clock } = sink(client, { lateIndex: true });
    const result = await osSink.deliver([event(0)], signal);
    assert.deepEqual(result, { delivered: 1, duplicates: 0, rejected: [] });
    assert.equal(client.requests[1]?.[0]?.index, lateIndex(prefix, DAY));
    assert.equal(clock.sleeps.length, 0, 'a re-routed event is retried without a backoff');
  });

  it('retries a request that fails as a whole for an outage until it goes through', async () => {
    const client = new FakeOpenSearch();
    let outage = 3;
    client.whole = () => (outage-- > 0 ? 503 : undefined);
    const { sink: osSink, clock } = sink(client);
    const result = await osSink.deliver([event(0), event(1)], signal);
    assert.deepEqual(result, { delivered: 2, duplicates: 0, rejected: [] });
    assert.equal(clock.sleeps.length, 3);
  });
});
