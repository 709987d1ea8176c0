/**
 * A corrupt checkpoint stops `run` with exit 2, naming the file and the reset option; resetting
 * that stream lets it start and re-read the stream from the start position.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { checkpointFileName } from '../../../src/checkpoint/file-store.js';
import { writeStreams } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../../../src/simulator/fleet.js';
import { startForwarder, waitFor } from '../support/forwarder-process.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();

describe('run with an unreadable checkpoint', { timeout: 180_000 }, () => {
  it('exits 2 naming the file and the reset option; --reset-checkpoints recovers', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-cli-'));
    const prefix = `/aws/cloudhsm/ckpt-${suffix}-`;
    const fleet = simulateFleet({
      clusters: 1,
      hsmsPerCluster: 1,
      recordsPerHsm: 20,
      startMs: Date.now() - 3_600_000,
      logGroupPrefix: prefix,
    });
    const [stream] = fleet.streams;
    assert.ok(stream !== undefined);
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    await writeStreams(cloudwatch, fleet.streams);
    cloudwatch.destroy();

    const checkpoints = join(dir, 'checkpoints');
    await mkdir(checkpoints, { recursive: true });
    const file = checkpointFileName(stream);
    await writeFile(join(checkpoints, file), '{"version": 1, "logGroup": "torn');
    const settings = {
      LOG_GROUP_PREFIXES: prefix,
      CHECKPOINT_DIR: checkpoints,
      DEAD_LETTER_FILE: join(dir, 'dlq.ndjson'),
      KAFKA_BROKERS: '',
      OPENSEARCH_INDEX_PREFIX: `ckpt-${suffix}`,
      HTTP_PORT: '0',
      ENRICHMENT_ENABLED: 'false',
    };

    const refused = startForwarder(settings);
    const result = await refused.exited;
    assert.equal(result.code, 2, refused.output());
    assert.ok(refused.output().includes(file), 'the message names the file');
    assert.match(refused.output(), /--reset-checkpoints/);
    assert.doesNotMatch(refused.output(), /^\s+at /m, 'no stack trace');

    const reset = startForwarder(settings, [
      '--reset-checkpoints',
      `${stream.logGroup}/${stream.logStream}`,
    ]);
    const opensearch = new Client({ node: env.opensearchUrl });
    await waitFor(
      'the stream to be read again after the reset',
      async () => {
        try {
          await opensearch.indices.refresh({ index: `ckpt-${suffix}-*` });
          return (await opensearch.count({ index: `ckpt-${suffix}-*` })).body.count === 20;
        } catch {
          return false;
        }
      },
      60_000,
    );
    reset.child.kill('SIGTERM');
    assert.equal((await reset.exited).code, 0);
    assert.ok((await readdir(checkpoints)).includes(file), 'a fresh checkpoint was written');
    await opensearch.indices.delete({ index: `ckpt-${suffix}-*` });
    await opensearch.close();
  });
});
