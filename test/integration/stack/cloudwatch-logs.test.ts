import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';

import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

function auditRecord(seq: number, usecs: number): string {
  return [
    `Time: 01/16/18 01:49:39.437708, usecs:${usecs}`,
    `Sequence No : 0x${seq.toString(16)}`,
    'Reboot counter : 0x107',
    'Command Type(hex) : CN_MGMT_CMD (0x0)',
    'Opcode : CN_LOGIN (0xd)',
    'Session Handle : 0x7014006',
    'Response : 0:HSM Return: SUCCESS',
    'Log type : MGMT_USER_DETAILS_LOG (2)',
    'User Name : admin',
    'User Type : CN_CRYPTO_OFFICER (2)',
  ].join('\n');
}

describe('CloudWatch Logs emulator of the local stack, through the AWS SDK', () => {
  const env = stackEnv();
  const client = new CloudWatchLogsClient({ endpoint: env.awsEndpoint, region: env.awsRegion });

  it('stores multi-line events and GetLogEvents returns them until the forward token repeats', async () => {
    const logGroupName = `/aws/cloudhsm/cluster-${uniqueSuffix()}`;
    const logStreamName = 'hsm-abcdefghijk';
    await client.send(new CreateLogGroupCommand({ logGroupName }));
    try {
      await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
      const now = Date.now();
      const total = 25;
      const sent = Array.from({ length: total }, (_, i) => ({
        timestamp: now - total + i,
        message: auditRecord(i, (now - total + i) * 1000),
      }));
      await client.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: sent }));

      const received: string[] = [];
      let token: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await client.send(
          new GetLogEventsCommand({
            logGroupName,
            logStreamName,
            startFromHead: true,
            limit: 10,
            nextToken: token,
          }),
        );
        pages += 1;
        received.push(...(page.events ?? []).map((e) => e.message ?? ''));
        assert.ok(page.nextForwardToken, 'a forward token is always returned');
        if (page.nextForwardToken === token) break;
        token = page.nextForwardToken;
        assert.ok(pages < 20, 'pagination terminates');
      }
      assert.deepEqual(
        received,
        sent.map((e) => e.message),
      );
      assert.ok(received[0]?.includes('\nSequence No : 0x0\n'), 'newlines survive the round trip');
      assert.ok(pages >= 3, `paged through ${pages} pages`);
    } finally {
      await client.send(new DeleteLogGroupCommand({ logGroupName }));
    }
  });
});
