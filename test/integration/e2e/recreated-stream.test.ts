/**
 * A log stream deleted and created again under the same name is a new stream: it is read from its
 * own beginning. The checkpoint kept the old stream's forward token, and nothing in it said which
 * stream it belonged to: on the emulator, the new stream's first records (as many as the old one
 * had) were never delivered. Now the checkpoint records the stream's creationTime
 * (DescribeLogStreams) and a different one starts the new stream from its beginning.
 * (Emulator note: moto's tokens are positions in the stream, which is what made the old token
 * skip the new records; what AWS does with a token of a deleted stream is not known here, and the
 * creation time is what tells the two streams apart either way.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  DeleteLogStreamCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { ensureStream, putRecords } from '../../../src/simulator/cloudwatch-writer.js';
import { freePort, startForwarder, untilRunning, waitFor } from '../support/forwarder-process.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();

function records(count: number, at: number, rebootCounter: number) {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: at + i,
    message: formatAuditRecord({
      usecs: BigInt(at + i) * 1000n,
      sequence: BigInt(i + 1),
      rebootCounter,
      opcode: 'CN_FIND_OBJECTS_USING_COUNT',
      sessionHandle: 7,
    }),
  }));
}

describe('a log stream deleted and created again under its name', { timeout: 240_000 }, () => {
  it('is read from its own beginning, every record delivered', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'recreated-'));
    const logGroup = `/aws/cloudhsm/recreated-${suffix}`;
    const logStream = 'hsm-recreatedrec';
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    const at = Date.now() - 3_600_000;
    await ensureStream(cloudwatch, logGroup, logStream);
    await putRecords(cloudwatch, logGroup, logStream, records(100, at, 1));

    const index = `recreated-${suffix}`;
    const checkpoints = join(dir, 'checkpoints');
    const forwarder = startForwarder({
      LOG_GROUPS: logGroup,
      LOG_GROUP_PREFIXES: '',
      CHECKPOINT_DIR: checkpoints,
      DEAD_LETTER_FILE: join(dir, 'dlq.ndjson'),
      KAFKA_BROKERS: '',
      OPENSEARCH_URL: env.opensearchUrl,
      OPENSEARCH_INDEX_PREFIX: index,
      ENRICHMENT_ENABLED: 'false',
      GAP_REPAIR_WINDOW_MS: '0',
      DISCOVERY_INTERVAL_MS: '1000',
      HTTP_PORT: await freePort(),
    });
    await untilRunning(forwarder);
    const opensearch = new Client({ node: env.opensearchUrl });
    const count = async (): Promise<number> => {
      try {
        await opensearch.indices.refresh({ index: `${index}-*` });
        return (await opensearch.count({ index: `${index}-*` })).body.count;
      } catch {
        return 0;
      }
    };
    await waitFor('the first stream delivered', async () => (await count()) >= 100, 60_000);

    await cloudwatch.send(
      new DeleteLogStreamCommand({ logGroupName: logGroup, logStreamName: logStream }),
    );
    await cloudwatch.send(
      new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: logStream }),
    );
    // The HSM rebooted with its new stream: other uids, so each record is a document of its own.
    await putRecords(cloudwatch, logGroup, logStream, records(60, at + 10_000, 2));
    cloudwatch.destroy();
    await waitFor('every record of the new stream', async () => (await count()) >= 160, 90_000);
    // The records, each once, and the HSM reboot the new stream shows (reboot counter 1 → 2).
    const delivered = await opensearch.count({
      index: `${index}-*`,
      body: { query: { bool: { must_not: { prefix: { 'metadata.event_code': 'integrity_' } } } } },
    });
    assert.equal(delivered.body.count, 160);

    forwarder.child.kill('SIGTERM');
    assert.equal((await forwarder.exited).code, 0, forwarder.output());
    assert.match(forwarder.output(), /created again under the same name/);
    const [file] = (await readdir(checkpoints)).filter((n) => n.endsWith('.json'));
    const record = JSON.parse(await readFile(join(checkpoints, file ?? ''), 'utf8')) as {
      streamCreationTime: number | null;
      lastSequence: string;
      rebootCounter: string;
    };
    assert.equal(typeof record.streamCreationTime, 'number');
    assert.equal(record.rebootCounter, '0x2');
    assert.equal(record.lastSequence, '0x3c');
  });
});
