// The counting proxy in a process of its own (cloudwatch-proxy-main.ts), as the freshness bench
// runs it: it forwards the SDK's calls to the emulator and answers its recorded calls at
// /__proxy/calls itself, without recording or forwarding that request.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

import { createCloudWatchClient } from '../../../src/source/cloudwatch-port.js';
import { client, endpoint, uniquePrefix, Writer } from '../source/support/aws.js';
import { startCloudWatchProxyProcess } from '../support/cloudwatch-proxy-process.js';

const cwl = client();
after(() => {
  cwl.destroy();
});

describe('the counting CloudWatch proxy in a process of its own', () => {
  it('serves the recorded calls at /__proxy/calls, never forwarded', async () => {
    const group = `${uniquePrefix()}x`;
    const writer = new Writer(cwl);
    await writer.createGroup(group);
    await writer.createStream(group, 'hsm-0');
    await writer.append(group, 'hsm-0', 2);

    const proxy = await startCloudWatchProxyProcess(endpoint());
    const viaProxy = createCloudWatchClient({
      endpoint: proxy.url,
      region: process.env['AWS_REGION'] ?? 'us-east-1',
    });
    try {
      const before = Date.now();
      const page = await viaProxy.send(
        new GetLogEventsCommand({
          logGroupName: group,
          logStreamName: 'hsm-0',
          startFromHead: true,
        }),
      );
      const afterCall = Date.now();
      assert.equal(page.events?.length, 2, 'the emulator answered through the proxy');

      const calls = await proxy.calls();
      const gets = calls.filter((c) => c.operation === 'GetLogEvents');
      assert.deepEqual(
        gets.map((c) => [c.logGroup, c.logStream]),
        [[group, 'hsm-0']],
      );
      // Epoch ms from another process's clock (its timeOrigin + monotonic time): comparable with
      // this process's Date.now() up to clock adjustments, hence the slack of a second.
      const at = gets[0]?.at ?? Number.NaN;
      assert.ok(at >= before - 1000 && at <= afterCall + 1000, `arrival ${at} outside the call`);
      // Fetching the calls is answered by the proxy itself: not recorded, not a CloudWatch call.
      assert.equal((await proxy.calls()).length, calls.length);
      assert.ok(calls.every((c) => c.operation !== 'unknown'));
    } finally {
      viaProxy.destroy();
      await proxy.close();
    }
    assert.throws(() => process.kill(proxy.pid, 0), { code: 'ESRCH' }, 'the proxy process ended');
  });
});
