/**
 * The forwarder binary against the real stack when the daily index of a record refuses writes
 * (`index.blocks.write`, as ISM's read_only sets on an old index): the record waits, `/readyz`
 * and the metrics report it, another stream keeps flowing, and once the block is lifted the
 * record lands; nothing goes to the dead letter.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { dailyIndex, indexTemplate } from '../../../src/sink/opensearch-template.js';
import { writeStreams } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../../../src/simulator/fleet.js';
import { freePort, startForwarder, untilRunning, waitFor } from '../support/forwarder-process.js';
import { topicEndOffsets } from '../support/kafka-reader.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const cloudwatch = new CloudWatchLogsClient({ endpoint: env.awsEndpoint, region: env.awsRegion });
const opensearch = new Client({ node: env.opensearchUrl });

after(async () => {
  await opensearch.close();
  cloudwatch.destroy();
});

async function count(index: string): Promise<number> {
  try {
    await opensearch.indices.refresh({ index });
    return (await opensearch.count({ index })).body.count;
  } catch {
    return -1;
  }
}

describe('forwarder end to end: a write-blocked daily index', { timeout: 300_000 }, () => {
  it('holds the record dated that day and reports it; delivers it once unblocked; dead letter empty', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'e2e-block-'));
    const indexPrefix = `e2e-block-${suffix}`;
    const dlqTopic = `e2e-block-${suffix}-dlq`;
    const port = await freePort();
    const now = Date.now();
    const fleet = simulateFleet({
      clusters: 1,
      hsmsPerCluster: 1,
      recordsPerHsm: 20,
      startMs: now - 3_600_000,
      logGroupPrefix: `/aws/cloudhsm/e2e-block-${suffix}/`,
    });
    const [stream] = fleet.streams;
    assert.ok(stream !== undefined);
    // A late record, two days old, on a stream of its own: its daily index is the blocked one.
    const late = simulateFleet({
      clusters: 1,
      hsmsPerCluster: 1,
      recordsPerHsm: 1,
      startMs: now - 2 * 86_400_000,
      seed: 42,
    }).streams[0]?.records[0];
    assert.ok(late !== undefined);
    const blocked = dailyIndex(indexPrefix, late.timestamp);
    const flowing = dailyIndex(indexPrefix, stream.records[0]?.timestamp ?? now);
    assert.notEqual(blocked, flowing);

    await opensearch.indices.putIndexTemplate({
      name: `${indexPrefix}-template`,
      body: indexTemplate(indexPrefix),
    });
    await opensearch.indices.create({ index: blocked });
    await opensearch.indices.putSettings({
      index: blocked,
      body: { 'index.blocks.write': true },
    });
    await writeStreams(cloudwatch, [
      stream,
      { ...stream, logStream: 'hsm-blkblkblkblk', records: [late] },
    ]);

    const deadLetterFile = join(dir, 'dead-letter.ndjson');
    const forwarder = startForwarder({
      LOG_GROUP_PREFIXES: `/aws/cloudhsm/e2e-block-${suffix}/`,
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: deadLetterFile,
      DEAD_LETTER_TOPIC: dlqTopic,
      KAFKA_TOPIC: `e2e-block-${suffix}`,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_INDEX_PREFIX: indexPrefix,
      HTTP_PORT: port,
      START_POSITION: 'beginning',
      POLL_MIN_INTERVAL_MS: '200',
      DISCOVERY_INTERVAL_MS: '2000',
      READY_SINK_DOWN_MS: '3000',
      ENRICHMENT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    });
    const readyz = async (): Promise<{ status: number; body: string }> => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        return { status: response.status, body: await response.text() };
      } catch {
        return { status: 0, body: '' };
      }
    };
    const deadLettered = async (): Promise<number> =>
      topicEndOffsets(env.kafkaBrokers, dlqTopic).catch(() => 0);
    try {
      await untilRunning(forwarder);
      await waitFor(
        'the other stream in OpenSearch',
        async () => (await count(flowing)) >= 20,
        120_000,
      );
      // Before the fix, the record went to the dead-letter topic and /readyz stayed 200.
      await waitFor(
        '/readyz 503 (or, wrongly, a dead-letter entry)',
        async () => (await readyz()).status === 503 || (await deadLettered()) > 0,
        60_000,
      );
      assert.equal(await deadLettered(), 0, 'the blocked record must not be dead-lettered');
      const report = await readyz();
      assert.equal(report.status, 503);
      assert.match(report.body, new RegExp(`index ${blocked} refuses writes`));
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const refusals =
        /cloudhsm_forwarder_sink_refusals_total\{sink="opensearch",reason="index_blocked"\} (\d+)/.exec(
          metrics,
        );
      assert.ok(Number(refusals?.[1] ?? 0) >= 1, 'the refusal is counted');
      assert.match(
        forwarder.output(),
        new RegExp(`refused writes to index ${blocked};.*index\\.blocks\\.write`),
      );
      assert.equal(await count(blocked), 0);

      await opensearch.indices.putSettings({
        index: blocked,
        body: { 'index.blocks.write': false },
      });
      await waitFor(
        'the held record in its daily index',
        async () => (await count(blocked)) === 1,
        60_000,
      );
      await waitFor('/readyz 200 again', async () => (await readyz()).status === 200, 30_000);
      assert.equal(await deadLettered(), 0);
      await assert.rejects(readFile(deadLetterFile, 'utf8'), { code: 'ENOENT' });
    } finally {
      forwarder.child.kill('SIGTERM');
      await forwarder.exited;
      await opensearch.indices.delete({ index: `${indexPrefix}-*` });
      await opensearch.indices.deleteIndexTemplate({ name: `${indexPrefix}-template` });
    }
  });
});
