/**
 * A burst of records in one millisecond keeps the checkpoint small. The checkpoint kept the hash
 * of every record of the last delivered millisecond: 5,000 records in one millisecond made a
 * 219 KB checkpoint, rewritten on every commit. Against the emulator, through the real forwarder.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { ensureStream, putRecords } from '../../../src/simulator/cloudwatch-writer.js';
import { freePort, startForwarder, untilRunning, waitFor } from '../support/forwarder-process.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const BURST = 5_000;

describe('a burst of records in one millisecond', { timeout: 180_000 }, () => {
  it('is delivered whole, and its checkpoint stays small', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'same-ms-'));
    const logGroup = `/aws/cloudhsm/same-ms-${suffix}`;
    const logStream = 'hsm-burst0001';
    const at = Date.now() - 3_600_000;
    const usecs = BigInt(at) * 1000n;
    const records = Array.from({ length: BURST }, (_, i) => ({
      timestamp: at,
      message: formatAuditRecord({
        usecs,
        sequence: BigInt(i + 1),
        rebootCounter: 1,
        opcode: 'CN_FIND_OBJECTS_USING_COUNT',
        sessionHandle: 7,
      }),
    }));
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    await ensureStream(cloudwatch, logGroup, logStream);
    await putRecords(cloudwatch, logGroup, logStream, records);
    cloudwatch.destroy();

    const index = `same-ms-${suffix}`;
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
      HTTP_PORT: await freePort(),
    });
    await untilRunning(forwarder);
    const opensearch = new Client({ node: env.opensearchUrl });
    await waitFor(
      `${BURST} documents in ${index}-*`,
      async () => {
        try {
          await opensearch.indices.refresh({ index: `${index}-*` });
          return (await opensearch.count({ index: `${index}-*` })).body.count >= BURST;
        } catch {
          return false;
        }
      },
      120_000,
    );
    forwarder.child.kill('SIGTERM');
    assert.equal((await forwarder.exited).code, 0, forwarder.output());

    const [file] = (await readdir(checkpoints)).filter((n) => n.endsWith('.json'));
    assert.ok(file !== undefined, 'a checkpoint was written');
    const size = (await stat(join(checkpoints, file))).size;
    const record = JSON.parse(await readFile(join(checkpoints, file), 'utf8')) as Record<
      string,
      unknown
    > & { lastSequence: string; hashesAtLastTimestamp: string[] };
    const parts = Object.entries(record).map(([k, v]) => `${k}: ${JSON.stringify(v).length}`);
    assert.equal(record.lastSequence, `0x${BURST.toString(16)}`, 'the checkpoint is at the end');
    // 5,000 hashes made it about 200 KB; the transform state (about 8 KB here) is the rest.
    assert.ok(size < 40_000, `the checkpoint is ${size} bytes (${parts.join(', ')})`);
    assert.ok(record.hashesAtLastTimestamp.length <= 64, 'the hash list is bounded');
  });
});
