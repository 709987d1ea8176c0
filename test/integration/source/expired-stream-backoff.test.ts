// A stream whose events expired answers every GetLogEvents at its end with an empty page and a NEW
// forward token (AWS behaviour, github.com/boto/boto3/issues/4591). Such a stream holds no data, so it must be
// polled like any idle stream, not again at once as if the new token were progress.
//
// SHIM: moto 5.2.1 never does this (it returns the token it was sent at the end of a stream), so
// the source talks to moto through test/integration/support/cloudwatch-proxy.ts, which rewrites
// the end-of-stream pages of ONE stream to carry a fresh token each time. Everything else is the
// real emulator.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { FileCheckpointStore } from '../../../src/checkpoint/file-store.js';
import { createCloudWatchClient, SdkCloudWatchPort } from '../../../src/source/cloudwatch-port.js';
import { CloudWatchSource } from '../../../src/source/cloudwatch-source.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';
import { startCloudWatchProxy } from '../support/cloudwatch-proxy.js';
import { client, endpoint, uniquePrefix, waitFor, Writer } from './support/aws.js';
import { checkpointDir } from './support/checkpoint-dir.js';
import { MemorySink } from './support/memory-sink.js';

const cwl = client();
after(() => {
  cwl.destroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an expired stream (empty pages with new tokens) through the shim proxy', () => {
  it('is polled about as often as a plain idle stream, not continually', async () => {
    const prefix = uniquePrefix();
    const group = `${prefix}x`;
    const writer = new Writer(cwl);
    await writer.createGroup(group);
    for (const stream of ['hsm-0plain', 'hsm-expired']) {
      await writer.createStream(group, stream);
      await writer.append(group, stream, 3);
    }
    const proxy = await startCloudWatchProxy(endpoint());
    proxy.rewriteEmptyPages = (_group, stream) => stream === 'hsm-expired';
    const viaProxy = createCloudWatchClient({
      endpoint: proxy.url,
      region: process.env['AWS_REGION'] ?? 'us-east-1',
    });
    const source = new CloudWatchSource({
      port: new SdkCloudWatchPort(viaProxy),
      checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir: await checkpointDir() }),
      discovery: { logGroupPrefixes: [prefix], intervalMs: 60_000 },
      // The budget is far above what two idle streams need, so each idle stream is polled once
      // per minIdleMs: only whether a stream counts as idle decides how often it is called.
      scheduling: { minIdleMs: 200 },
      rateLimits: { GetLogEvents: { ratePerSecond: 50 } },
    });
    const sink = new MemorySink();
    sink.source = source;
    try {
      await source.start(sink.handler);
      await waitFor(() => sink.count >= writer.total(), 20_000, 'both streams caught up');
      await waitFor(() => proxy.rewritten >= 3, 20_000, 'the shim to answer with new tokens');
      await sleep(1000);
      const from = Date.now();
      await sleep(4000);
      const to = Date.now();
      const perStream = proxy.callsPerStream('GetLogEvents', { from, to });
      const plain = perStream.get(`${group} hsm-0plain`) ?? 0;
      const expired = perStream.get(`${group} hsm-expired`) ?? 0;
      assert.ok(plain >= 1, `the plain idle stream was polled in the window (${plain} calls)`);
      assert.ok(
        expired <= 2 * plain + 2,
        `the expired stream got ${expired} GetLogEvents calls in ${to - from} ms, the plain ` +
          `idle stream ${plain}: empty pages with new tokens must count as idle`,
      );
      assert.equal(sink.count, writer.total(), 'no record read twice');
    } finally {
      await source.stop();
      await source.whenAllAcked();
      await source.flush();
      viaProxy.destroy();
      await proxy.close();
    }
  });
});
