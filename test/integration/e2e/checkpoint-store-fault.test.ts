/**
 * End to end, against a real filesystem fault: while the forwarder binary runs (moto → Kafka),
 * its checkpoint directory is replaced by a regular file, so every checkpoint write fails with
 * ENOTDIR (the tests run as root, so permissions would not stop a write). The failing store must
 * be visible and must stop reading instead of piling up data a restart would read again; once the
 * directory is back, checkpoints are written and readiness recovers (issue 13, defect 3).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

import { ensureStream, putRecords } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../../../src/simulator/fleet.js';
import { freePort, startForwarder, untilRunning, waitFor } from '../support/forwarder-process.js';
import { readTopic } from '../support/kafka-reader.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const cloudwatch = new CloudWatchLogsClient({ endpoint: env.awsEndpoint, region: env.awsRegion });

const PAGE_LIMIT = 20;
const PER_STREAM_BATCHES = 2;
const BEFORE = 100;
const DURING = 400;

after(() => cloudwatch.destroy());

/** Sum of the samples of `name` whose label text contains `labels` (0 when absent). */
function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`cloudhsm_forwarder_${name}`) || !line.includes(labels)) continue;
    const rest = line.slice(`cloudhsm_forwarder_${name}`.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

describe('a failing checkpoint store (real filesystem fault)', { timeout: 300_000 }, () => {
  it('is retried, counted, turns /readyz 503, pauses reading, and recovers when the directory returns', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'e2e-ckpt-fault-'));
    const checkpoints = join(dir, 'checkpoints');
    const topic = `e2e-ckpt-fault-${suffix}`;
    const prefix = `/aws/cloudhsm/e2e-ckpt-fault-${suffix}/`;
    const fleet = simulateFleet({
      clusters: 1,
      hsmsPerCluster: 1,
      recordsPerHsm: BEFORE + DURING,
      certRecords: 0,
      startMs: Date.now() - 3_600_000,
      logGroupPrefix: prefix,
    });
    const stream = fleet.streams[0];
    assert.ok(stream !== undefined && stream.records.length === BEFORE + DURING);
    await ensureStream(cloudwatch, stream.logGroup, stream.logStream);
    await putRecords(
      cloudwatch,
      stream.logGroup,
      stream.logStream,
      stream.records.slice(0, BEFORE),
    );

    const port = await freePort();
    const forwarder = startForwarder({
      LOG_GROUP_PREFIXES: prefix,
      CHECKPOINT_DIR: checkpoints,
      DEAD_LETTER_FILE: join(dir, 'dead-letter.ndjson'),
      DEAD_LETTER_TOPIC: `${topic}-dlq`,
      KAFKA_TOPIC: topic,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_URL: '',
      HTTP_PORT: port,
      START_POSITION: 'beginning',
      PAGE_LIMIT: String(PAGE_LIMIT),
      MAX_IN_FLIGHT_BATCHES_PER_STREAM: String(PER_STREAM_BATCHES),
      READY_SINK_DOWN_MS: '2000',
      POLL_MIN_INTERVAL_MS: '200',
      DISCOVERY_INTERVAL_MS: '2000',
      RATE_LIMIT_GET_LOG_EVENTS: '20',
      ENRICHMENT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    });
    const base = `http://127.0.0.1:${port}`;
    const readyz = async (): Promise<number> => {
      try {
        return (await fetch(`${base}/readyz`)).status;
      } catch {
        return 0;
      }
    };
    const metrics = async (): Promise<string> => {
      try {
        return await (await fetch(`${base}/metrics`)).text();
      } catch {
        return '';
      }
    };
    const delivered = async (): Promise<number> => {
      try {
        return new Set((await readTopic(env.kafkaBrokers, topic)).map((m) => m.uid)).size;
      } catch {
        return 0; // topic not created yet
      }
    };
    const read = (text: string): number =>
      metric(text, 'records_read_total', `log_group="${stream.logGroup}"`);

    try {
      await untilRunning(forwarder);
      await waitFor('/readyz 200 after start-up', async () => (await readyz()) === 200, 60_000);
      await waitFor(
        `${BEFORE} records on ${topic}`,
        async () => (await delivered()) >= BEFORE,
        60_000,
      );
      await waitFor(
        'every batch acknowledged with a durable checkpoint',
        async () => metric(await metrics(), 'in_flight_batches') === 0,
        30_000,
      );
      const commitsBefore = metric(
        await metrics(),
        'checkpoint_commits_total',
        'outcome="success"',
      );
      assert.ok(commitsBefore > 0, 'checkpoints were written before the fault');

      // The fault: the directory becomes a regular file, so every write fails with ENOTDIR.
      await rm(checkpoints, { recursive: true, force: true });
      await writeFile(checkpoints, 'not a directory\n');
      const faultAt = Date.now();
      await putRecords(cloudwatch, stream.logGroup, stream.logStream, stream.records.slice(BEFORE));

      await waitFor(
        '/readyz 503 while checkpoint writes fail',
        async () => (await readyz()) === 503,
        60_000,
      );
      const notReadyAfter = Date.now() - faultAt;
      const report = (await (await fetch(`${base}/readyz`)).json()) as {
        failing: { name: string; detail?: string }[];
      };
      assert.deepEqual(
        report.failing.map((c) => c.name),
        ['checkpoint-writes'],
      );
      await waitFor(
        `the stream's ${PER_STREAM_BATCHES} in-flight batches held while their checkpoint is not durable`,
        async () => metric(await metrics(), 'in_flight_batches') === PER_STREAM_BATCHES,
        30_000,
      );
      const during = await metrics();
      assert.ok(
        metric(during, 'checkpoint_commits_total', 'outcome="error"') >= 2,
        'failures counted',
      );
      assert.ok(metric(during, 'retries_total', 'stage="checkpoint"') >= 2, 'retries counted');
      // Reading paused: at most the held batches were read past the last durable checkpoint,
      // although DURING records wait in the stream.
      assert.ok(
        read(during) <= BEFORE + PER_STREAM_BATCHES * PAGE_LIMIT,
        `records read while the store fails: ${read(during)} (at most ${BEFORE + PER_STREAM_BATCHES * PAGE_LIMIT})`,
      );
      assert.match(forwarder.output(), /checkpoint write failed/);
      assert.match(forwarder.output(), /ENOTDIR/);

      // The directory returns: retries succeed, reading resumes, readiness recovers.
      await rm(checkpoints, { force: true });
      await mkdir(checkpoints);
      const restoredAt = Date.now();
      await waitFor(
        '/readyz 200 with the directory back',
        async () => (await readyz()) === 200,
        60_000,
      );
      const readyAfter = Date.now() - restoredAt;
      await waitFor(
        `all ${BEFORE + DURING} records on ${topic}`,
        async () => (await delivered()) >= BEFORE + DURING,
        120_000,
      );
      await waitFor(
        'the newest record checkpointed',
        async () => {
          const names = (await readdir(checkpoints)).filter((n) => n.endsWith('.json'));
          if (names.length !== 1) return false;
          const saved = JSON.parse(
            await readFile(join(checkpoints, names[0] as string), 'utf8'),
          ) as {
            lastEventTimestamp: number;
          };
          return saved.lastEventTimestamp === stream.records.at(-1)?.timestamp;
        },
        60_000,
      );
      assert.equal(read(await metrics()), BEFORE + DURING, 'every record read exactly once');
      console.log(
        `checkpoint fault: /readyz 503 ${notReadyAfter} ms after the fault (READY_SINK_DOWN_MS=2000), ` +
          `${read(during) - BEFORE} of ${DURING} waiting records read meanwhile, ` +
          `/readyz 200 ${readyAfter} ms after the directory returned`,
      );
      forwarder.child.kill('SIGTERM');
      assert.equal((await forwarder.exited).code, 0, forwarder.output().slice(-3000));
    } finally {
      if (forwarder.child.exitCode === null && forwarder.child.signalCode === null) {
        forwarder.child.kill('SIGKILL');
        await forwarder.exited;
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
