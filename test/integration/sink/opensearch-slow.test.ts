// A node slower than the request timeout, through a proxy in front of the stack's OpenSearch that
// holds large bulk requests back. The same 1,000-document bulk used to be retried at full size
// forever (the document count flat, retries_total 0): a timed-out bulk is now retried in halves,
// down to what the node answers in time, and every retry is counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createOpenSearchClient } from '../../../src/sink/opensearch-client.js';
import { OpenSearchSink } from '../../../src/sink/opensearch.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import { startHttpGate } from '../support/http-gate.js';
import type { HttpGate } from '../support/http-gate.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const DAY = Date.UTC(2026, 10, 25, 12);
/** Bulk requests with more documents than this are held past the client's timeout. */
const SLOW_ABOVE = 8;

function event(i: number): OutboundEvent {
  const uid = `hsm-slowslowslo:0x1:0x${i.toString(16)}`;
  const doc = { time: DAY + i, class_uid: 3002, metadata: { uid, version: '1.1.0', sequence: i } };
  return { uid, key: 'hsm-slowslowslo', time: DAY + i, classUid: 3002, json: JSON.stringify(doc) };
}

/** Documents in a `_bulk` body: one action line and one source line each. */
function documentsIn(body: Buffer): number {
  return (
    body
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '').length / 2
  );
}

describe('OpenSearch slower than the request timeout (real node behind a slow proxy)', () => {
  const prefix = `slow-${uniqueSuffix()}`;
  const direct = createOpenSearchClient({ url: env.opensearchUrl });
  let gate: HttpGate;
  const sizes: number[] = [];

  before(async () => {
    gate = await startHttpGate(env.opensearchUrl, () => undefined);
    gate.delay = (req, body) => {
      if (req.url?.startsWith('/_bulk') !== true) return undefined;
      const documents = documentsIn(body);
      sizes.push(documents);
      return documents > SLOW_ABOVE ? 2_500 : undefined;
    };
    await new OpenSearchSink({ client: direct, indexPrefix: prefix }).start();
  });

  after(async () => {
    await gate.close();
    await direct.indices.delete({ index: `${prefix}-*` });
    await direct.indices.deleteIndexTemplate({ name: `${prefix}-template` });
    await direct.close();
  });

  it('retries a timed-out bulk in halves until the node answers, counting each retry', async () => {
    const retries: string[] = [];
    const sink = new OpenSearchSink({
      client: createOpenSearchClient({ url: gate.url, requestTimeoutMs: 1_000 }),
      indexPrefix: prefix,
      onRetry: (_sink, reason) => retries.push(reason),
    });
    const events = Array.from({ length: 40 }, (_, i) => event(i + 1));
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(new Error('not delivered in 60 s')), 60_000);
    try {
      const result = await sink.deliver(events, abort.signal);
      // A held request still reaches the node after the client gave up on it: its documents are
      // then found again as duplicates, which count as held.
      assert.equal(result.delivered + result.duplicates, 40);
      assert.deepEqual(result.rejected, []);
    } finally {
      clearTimeout(deadline);
    }
    assert.ok(retries.length > 0, 'every retry is reported');
    assert.match(retries[0] ?? '', /timed out/i);
    assert.equal(sizes[0], 40, 'the first try sends everything');
    assert.ok(
      sizes.some((n) => n <= SLOW_ABOVE),
      `smaller requests followed: ${sizes.join(', ')}`,
    );
    await direct.indices.refresh({ index: `${prefix}-*` });
    assert.equal((await direct.count({ index: `${prefix}-*` })).body.count, 40);
  });
});
