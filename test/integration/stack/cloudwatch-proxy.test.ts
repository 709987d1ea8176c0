// The counting proxy the freshness bench measures call rates with must time a call when the
// request is first seen (its 'request' event), not when its body has been read: the body may
// arrive, or be read, later, and that delay is not the client's.
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { describe, it } from 'node:test';

import { endpoint, uniquePrefix, waitFor } from '../source/support/aws.js';
import { startCloudWatchProxy } from '../support/cloudwatch-proxy.js';

describe('the counting CloudWatch proxy', () => {
  it('records a call at its request event, before the body has arrived', async () => {
    const proxy = await startCloudWatchProxy(endpoint());
    try {
      const body = JSON.stringify({ logGroupName: `${uniquePrefix()}x`, logStreamName: 'hsm-0' });
      let out: ClientRequest | undefined;
      const answered = new Promise<void>((resolve, reject) => {
        out = request(
          `${proxy.url}/`,
          {
            method: 'POST',
            headers: {
              'x-amz-target': 'Logs_20140328.GetLogEvents',
              'content-type': 'application/x-amz-json-1.1',
              'content-length': String(Buffer.byteLength(body)),
            },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        out.on('error', reject);
      });
      // Awaited below; this only keeps a failure before then (the proxy closing the request)
      // from surfacing as an unhandled rejection after the test.
      answered.catch(() => undefined);
      // Headers now, the body only once the proxy shows it counted the call: a proxy that times
      // calls when the body ends never records this one, and the wait times out.
      out?.flushHeaders();
      await waitFor(
        () => proxy.calls('GetLogEvents').length === 1,
        10_000,
        'the proxy to record a call whose body has not been sent',
      );
      const [early] = proxy.calls('GetLogEvents');
      out?.end(body);
      await answered;
      assert.ok(early !== undefined);
      const [call] = proxy.calls('GetLogEvents');
      assert.equal(call?.logStream, 'hsm-0', 'the stream is filled in once the body is read');
      assert.equal(call.at, early.at, 'the arrival time stays the one taken at the request event');
    } finally {
      await proxy.close();
    }
  });
});
