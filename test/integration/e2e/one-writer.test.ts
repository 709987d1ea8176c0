/**
 * One forwarder per checkpoint directory. Two on one directory both read every stream (each record
 * published twice) and, on open, deleted each other's temp files; now the second exits 2 naming
 * the first, and the lock of a killed forwarder is taken over by the next one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

import { writeStreams } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../../../src/simulator/fleet.js';
import {
  freePort,
  sleep,
  startForwarder,
  untilRunning,
  waitFor,
} from '../support/forwarder-process.js';
import { readTopic, topicEndOffsets } from '../support/kafka-reader.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const RECORDS_PER_HSM = 150;
const HSMS = 2;

describe('one writer per checkpoint directory', { timeout: 240_000 }, () => {
  it('refuses a second forwarder naming the first, and takes over after a kill -9', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'one-writer-'));
    const prefix = `/aws/cloudhsm/one-writer-${suffix}-`;
    const fleet = simulateFleet({
      clusters: 1,
      hsmsPerCluster: HSMS,
      recordsPerHsm: RECORDS_PER_HSM,
      startMs: Date.now() - 3_600_000,
      logGroupPrefix: prefix,
    });
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    await writeStreams(cloudwatch, fleet.streams);
    cloudwatch.destroy();
    const records = fleet.streams.reduce((sum, s) => sum + s.records.length, 0);

    const topic = `one-writer-${suffix}`;
    const settings = {
      LOG_GROUP_PREFIXES: prefix,
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: join(dir, 'dlq.ndjson'),
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      KAFKA_TOPIC: topic,
      DEAD_LETTER_TOPIC: `${topic}.dlq`,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_URL: '',
      ENRICHMENT_ENABLED: 'false',
      GAP_REPAIR_WINDOW_MS: '0',
    };

    const first = startForwarder({ ...settings, HTTP_PORT: await freePort() });
    await untilRunning(first);
    const second = startForwarder({ ...settings, HTTP_PORT: await freePort() });
    const outcome = await Promise.race([
      second.exited,
      sleep(30_000).then(() => 'still running' as const),
    ]);
    assert.notEqual(outcome, 'still running', 'the second forwarder kept running beside the first');
    assert.equal(second.child.exitCode, 2, second.output());
    assert.match(
      second.stderr(),
      new RegExp(`is in use by pid ${first.child.pid} on [^ ]+ \\(run, since `),
    );
    assert.doesNotMatch(second.stderr(), /^\s+at /m, 'no stack trace');

    await waitFor(
      `${records} records on ${topic}`,
      async () => (await topicEndOffsets(env.kafkaBrokers, topic).catch(() => 0)) >= records,
      90_000,
    );
    // Every event once: the refused forwarder published nothing.
    await sleep(2_000);
    const messages = await readTopic(env.kafkaBrokers, topic);
    assert.equal(new Set(messages.map((m) => m.uid)).size, messages.length, 'no event twice');

    // A crash leaves the lock behind; the next forwarder on this host takes it over.
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok((await readdir(settings.CHECKPOINT_DIR)).includes('.lock'), 'the lock outlived it');
    const third = startForwarder({ ...settings, HTTP_PORT: await freePort() });
    await untilRunning(third);
    await sleep(1_000);
    assert.equal(third.child.exitCode, null, third.output());
    third.child.kill('SIGTERM');
    assert.equal((await third.exited).code, 0, third.output());
    assert.ok(
      !(await readdir(settings.CHECKPOINT_DIR)).includes('.lock'),
      'a graceful stop releases the lock',
    );
  });
});
