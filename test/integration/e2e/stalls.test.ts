/**
 * Stalls that reachability probes miss, seen by `/readyz` through progress: work waits and none
 * of it finishes. With the Kafka topic deleted, the broker still answered pings and `/readyz`
 * said 200 after 30 s against a 3 s limit; a dead-letter file that cannot be written (a full
 * disk: /dev/full answers every write with ENOSPC) blocked its stream with no readiness check at
 * all. Both against the real stack, through the real forwarder.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Kafka, logLevel } from 'kafkajs';

import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { ensureStream, putRecords } from '../../../src/simulator/cloudwatch-writer.js';
import { freePort, startForwarder, untilRunning, waitFor } from '../support/forwarder-process.js';
import type { ForwarderProcess } from '../support/forwarder-process.js';
import { topicEndOffsets } from '../support/kafka-reader.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();

function records(from: number, count: number, at: number, user?: string) {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: at + i,
    message: formatAuditRecord({
      usecs: BigInt(at + i) * 1000n,
      sequence: BigInt(from + i),
      rebootCounter: 1,
      opcode: 'CN_LOGIN',
      opcodeHex: '0xd',
      sessionHandle: 7,
      user: { name: user ?? 'alice', type: 'CN_CRYPTO_USER' },
    }),
  }));
}

async function readyz(forwarder: ForwarderProcess): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${forwarder.httpPort ?? ''}/readyz`);
  return { status: response.status, body: await response.text() };
}

describe('stalls that /readyz sees by progress', { timeout: 300_000 }, () => {
  it('a deleted Kafka topic on a broker that answers pings fails /readyz, naming it', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'stall-kafka-'));
    const logGroup = `/aws/cloudhsm/stall-kafka-${suffix}`;
    const logStream = 'hsm-stallstallst';
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    const at = Date.now() - 600_000;
    await ensureStream(cloudwatch, logGroup, logStream);
    await putRecords(cloudwatch, logGroup, logStream, records(1, 20, at));

    const topic = `stall-${suffix}`;
    const forwarder = startForwarder({
      LOG_GROUPS: logGroup,
      LOG_GROUP_PREFIXES: '',
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: join(dir, 'dlq.ndjson'),
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      KAFKA_TOPIC: topic,
      DEAD_LETTER_TOPIC: `${topic}.dlq`,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_URL: '',
      ENRICHMENT_ENABLED: 'false',
      GAP_REPAIR_WINDOW_MS: '0',
      READY_SINK_DOWN_MS: '3000',
      HTTP_PORT: await freePort(),
    });
    await untilRunning(forwarder);
    await waitFor(
      '20 records on the topic',
      async () => (await topicEndOffsets(env.kafkaBrokers, topic).catch(() => 0)) >= 20,
      60_000,
    );
    await waitFor('/readyz 200', async () => (await readyz(forwarder)).status === 200, 30_000);

    const admin = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
      await putRecords(cloudwatch, logGroup, logStream, records(21, 10, at + 1_000));
      await waitFor(
        '/readyz to fail on Kafka making no progress',
        async () => {
          const { status, body } = await readyz(forwarder);
          return status === 503 && body.includes('progress:kafka');
        },
        60_000,
      );
      const { body } = await readyz(forwarder);
      assert.match(body, /no kafka delivery has finished for \d+s while \d+ wait \(limit 3s\)/);

      // The operator recreates the topic: the held records go out and /readyz recovers.
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await waitFor(
        'the held records on the recreated topic',
        async () => (await topicEndOffsets(env.kafkaBrokers, topic).catch(() => 0)) >= 10,
        120_000,
      );
      await waitFor(
        '/readyz 200 again',
        async () => (await readyz(forwarder)).status === 200,
        60_000,
      );
    } finally {
      await admin.disconnect();
      cloudwatch.destroy();
    }
    forwarder.child.kill('SIGTERM');
    assert.equal((await forwarder.exited).code, 0, forwarder.output());
  });

  it('a dead letter that cannot be written (a full disk) fails /readyz, naming it', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'stall-dlq-'));
    const logGroup = `/aws/cloudhsm/stall-dlq-${suffix}`;
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    const at = Date.now() - 600_000;
    // A user name longer than OpenSearch indexes as a keyword: a document it rejects.
    await ensureStream(cloudwatch, logGroup, 'hsm-fulldiskfull');
    await putRecords(
      cloudwatch,
      logGroup,
      'hsm-fulldiskfull',
      records(1, 1, at, 'u'.repeat(40_000)),
    );
    cloudwatch.destroy();

    const forwarder = startForwarder({
      LOG_GROUPS: logGroup,
      LOG_GROUP_PREFIXES: '',
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: '/dev/full',
      // The dead-letter write never succeeds: a short drain so that the stop does not wait 30 s.
      SHUTDOWN_TIMEOUT_MS: '2000',
      KAFKA_BROKERS: '',
      OPENSEARCH_URL: env.opensearchUrl,
      OPENSEARCH_INDEX_PREFIX: `stall-dlq-${suffix}`,
      ENRICHMENT_ENABLED: 'false',
      GAP_REPAIR_WINDOW_MS: '0',
      READY_SINK_DOWN_MS: '3000',
      HTTP_PORT: await freePort(),
    });
    await untilRunning(forwarder);
    await waitFor(
      '/readyz to fail on the dead letter making no progress',
      async () => {
        const { status, body } = await readyz(forwarder);
        return status === 503 && body.includes('progress:dead_letter');
      },
      60_000,
    );
    const { body } = await readyz(forwarder);
    assert.match(
      body,
      /no dead-letter delivery has finished .*cannot write the dead-letter file \/dev\/full/,
    );
    forwarder.child.kill('SIGTERM');
    await forwarder.exited;
  });
});
