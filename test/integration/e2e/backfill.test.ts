/**
 * `backfill` end to end against the real stack (moto, Kafka, OpenSearch): a fleet whose middle
 * part the live forwarder already delivered is backfilled over its whole range without a
 * duplicate OpenSearch document (Kafka, at-least-once, gets every record of the range), without
 * touching the live checkpoints, resuming after SIGKILL, with progress lines on stderr;
 * `--dry-run` lists the streams and reads no events.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';
import { Kafka, logLevel } from 'kafkajs';

import { writeStreams } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet, type SimulatedStream } from '../../../src/simulator/fleet.js';
import { startCloudWatchProxy } from '../support/cloudwatch-proxy.js';
import { readTopic, topicEndOffsets } from '../support/kafka-reader.js';
import { startCommand, startForwarder, waitFor } from '../support/forwarder-process.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const SPACING = 240_000;

describe('backfill', { timeout: 600_000 }, () => {
  const suffix = uniqueSuffix();
  const prefix = `/aws/cloudhsm/bf-${suffix}-`;
  const indexPrefix = `bf-${suffix}`;
  // Within the last hours: moto drops events older than 14 days.
  const startMs = Date.now() - 4 * 3_600_000;
  const fleet = simulateFleet({
    clusters: 1,
    hsmsPerCluster: 3,
    recordsPerHsm: 40,
    certRecords: 6,
    startMs,
    spacingMs: SPACING,
    logGroupPrefix: prefix,
  });
  /** The live forwarder starts here, and has only what was written before `written`. */
  const liveFrom = startMs + 15 * SPACING;
  const written = startMs + 30 * SPACING;
  /** The exclusive end of the backfill: exactly the time of a record, which must stay out. */
  const to = startMs + 35 * SPACING;
  const all = fleet.streams.flatMap((s) => s.records);
  const inRange = all.filter((r) => r.timestamp < to).length;
  const live = all.filter((r) => r.timestamp >= liveFrom && r.timestamp < written).length;
  let dir: string;
  let settings: Record<string, string>;
  const opensearch = new Client({ node: env.opensearchUrl });

  const part = (keep: (timestamp: number) => boolean): SimulatedStream[] =>
    fleet.streams.map((s) => ({ ...s, records: s.records.filter((r) => keep(r.timestamp)) }));

  /** The uid of every document in the run's indices (one per document). */
  async function documentUids(): Promise<(string | undefined)[]> {
    try {
      await opensearch.indices.refresh({ index: `${indexPrefix}-*` });
      const response = await opensearch.search({
        index: `${indexPrefix}-*`,
        size: 1000,
        _source: ['metadata.uid'],
      });
      const hits = response.body.hits.hits as { _source?: { metadata?: { uid?: string } } }[];
      return hits.map((hit) => hit._source?.metadata?.uid);
    } catch {
      return [];
    }
  }

  async function documents(): Promise<{ count: number; uids: number }> {
    const uids = await documentUids();
    return { count: uids.length, uids: new Set(uids).size };
  }

  async function liveCheckpoints(): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    for (const name of await readdir(join(dir, 'checkpoints'))) {
      if (name.endsWith('.json')) {
        files.set(name, await readFile(join(dir, 'checkpoints', name), 'utf8'));
      }
    }
    return files;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backfill-'));
    settings = {
      LOG_GROUP_PREFIXES: prefix,
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: join(dir, 'dlq.ndjson'),
      KAFKA_TOPIC: `bf-${suffix}`,
      DEAD_LETTER_TOPIC: `bf-${suffix}-dlq`,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_INDEX_PREFIX: indexPrefix,
      HTTP_PORT: '0',
      ENRICHMENT_ENABLED: 'false',
      PAGE_LIMIT: '4',
    };
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    await writeStreams(
      cloudwatch,
      part((t) => t < written),
    );
    cloudwatch.destroy();
  });

  after(async () => {
    await opensearch.indices.delete({ index: `${indexPrefix}-*` }).catch(() => undefined);
    await opensearch.close();
    const admin = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [`bf-${suffix}`, `bf-${suffix}-dlq`, `bf-${suffix}-x`] })
      .catch(() => undefined);
    await admin.disconnect();
  });

  it('--dry-run lists the streams and the range, reads no events, writes no state', async () => {
    const proxy = await startCloudWatchProxy(env.awsEndpoint);
    try {
      const stateDir = join(dir, 'dry-run-state');
      const dryRun = startCommand('backfill', { ...settings, AWS_ENDPOINT_URL: proxy.url }, [
        '--from',
        String(startMs),
        '--to',
        new Date(to).toISOString(),
        '--dry-run',
        '--state-dir',
        stateDir,
      ]);
      assert.equal((await dryRun.exited).code, 0, dryRun.output());
      for (const stream of fleet.streams) {
        assert.ok(
          dryRun.output().includes(`${stream.logGroup}/${stream.logStream}`),
          `lists ${stream.logStream}: ${dryRun.output()}`,
        );
      }
      assert.match(dryRun.output(), new RegExp(`${new Date(to).toISOString()} \\(exclusive\\)`));
      assert.equal(proxy.calls('GetLogEvents').length, 0, 'no events read');
      assert.ok(proxy.calls('DescribeLogStreams').length > 0, 'the streams were listed');
      assert.equal(existsSync(stateDir), false, 'no state written');

      // A range that ends before the first record: every stream is skipped.
      const before = startCommand('backfill', { ...settings, AWS_ENDPOINT_URL: proxy.url }, [
        `--from=${startMs - 3_600_000}`,
        `--to=${startMs - 1}`,
        '--dry-run',
      ]);
      assert.equal((await before.exited).code, 0, before.output());
      assert.match(before.output(), new RegExp(`: 0 of ${fleet.streams.length} streams`));
    } finally {
      await proxy.close();
    }
  });

  it('refuses a reversed range with exit 2 and a message naming both ends', async () => {
    const refused = startCommand('backfill', settings, [
      '--from',
      new Date(to).toISOString(),
      '--to',
      String(startMs),
    ]);
    assert.equal((await refused.exited).code, 2, refused.output());
    assert.match(refused.stderr(), /--from \(.*\) must be before --to/);
  });

  for (const dryRun of [true, false]) {
    it(`exits 2 naming a --log-group that does not exist${dryRun ? ' (--dry-run)' : ''}`, async () => {
      const typo = `/aws/cloudhsm/typo-${suffix}`;
      const group = fleet.streams[0]?.logGroup ?? '';
      const backfill = startCommand('backfill', settings, [
        `--from=${startMs}`,
        `--to=${to}`,
        `--log-group=${group}`,
        `--log-group=${typo}`,
        ...(dryRun ? ['--dry-run'] : []),
      ]);
      assert.equal((await backfill.exited).code, 2, backfill.output());
      assert.match(backfill.stderr(), new RegExp(`log group ${typo} does not exist`));
    });
  }

  it('stops on SIGTERM with exit 1, saying how to resume', async () => {
    // Its own indices, topic and checkpoints: the test below counts documents.
    const own = {
      ...settings,
      CHECKPOINT_DIR: join(dir, 'sigterm-checkpoints'),
      OPENSEARCH_INDEX_PREFIX: `${indexPrefix}x`,
      KAFKA_TOPIC: `bf-${suffix}-x`,
    };
    const group = fleet.streams[0]?.logGroup ?? '';
    const backfill = startCommand('backfill', own, [
      `--from=${startMs}`,
      `--to=${to}`,
      `--log-group=${group}`,
      '--rate=1',
    ]);
    await waitFor(
      'the backfill to start reading',
      () => Promise.resolve(backfill.output().includes('backfill starting')),
      60_000,
      100,
    );
    assert.match(backfill.output(), new RegExp(`"streams":${fleet.streams.length}\\b`));
    backfill.child.kill('SIGTERM');
    assert.equal((await backfill.exited).code, 1, backfill.output());
    assert.match(
      backfill.stderr(),
      /^backfill interrupted \(SIGTERM.*run the same command again to resume from /m,
    );
    await opensearch.indices.delete({ index: `${indexPrefix}x-*` }).catch(() => undefined);
  });

  it('backfills a partly delivered range once, resumes after SIGKILL, leaves the live checkpoints', async () => {
    // The live forwarder delivers the middle of the range.
    const forwarder = startForwarder({
      ...settings,
      START_POSITION: new Date(liveFrom).toISOString(),
    });
    await waitFor(
      'the live forwarder to deliver its part',
      async () => (await documents()).count === live,
      120_000,
    );
    forwarder.child.kill('SIGTERM');
    assert.equal((await forwarder.exited).code, 0, forwarder.output());
    const checkpointsBefore = await liveCheckpoints();
    assert.equal(checkpointsBefore.size, fleet.streams.length);

    // Written after the live forwarder stopped, partly beyond the end of the range.
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    await writeStreams(
      cloudwatch,
      part((t) => t >= written),
    );
    cloudwatch.destroy();

    const range = ['--from', String(startMs), '--to', new Date(to).toISOString()];
    // Slow (one call a second, 4 events a page), so it is still reading when killed.
    const slow = startCommand('backfill', settings, [...range, '--rate', '1']);
    await waitFor(
      'a progress line and records beyond the live part',
      async () =>
        /^backfill: streams \d+\/\d+ done, \d+ records/m.test(slow.stderr()) &&
        (await documents()).count > live,
      120_000,
    );
    assert.ok((await documents()).count < inRange, 'killed before the end');
    slow.child.kill('SIGKILL');
    await slow.exited;

    const resumed = startCommand('backfill', settings, [...range, '--rate', '5']);
    const exit = await resumed.exited;
    assert.equal(exit.code, 0, resumed.output());
    const summary = /^backfill complete: (\d+)\/(\d+) streams, (\d+) records/m.exec(
      resumed.stderr(),
    );
    assert.ok(summary !== null, `final summary on stderr: ${resumed.stderr()}`);
    assert.equal(Number(summary[1]), fleet.streams.length);
    assert.equal(Number(summary[2]), fleet.streams.length);
    assert.ok(
      Number(summary[3]) < inRange,
      `resumed: read ${summary[3]} records again, fewer than the ${inRange} of the range`,
    );

    // Every record before `to` exactly once; the one at `to` and later ones not at all.
    const { count, uids } = await documents();
    assert.equal(count, inRange, 'every record of the range, nothing at or after --to');
    assert.equal(uids, count, 'no duplicate documents');
    assert.equal(existsSync(join(dir, 'dlq.ndjson')), false, 'no dead-letter fallback file');
    assert.equal(await topicEndOffsets(env.kafkaBrokers, `bf-${suffix}-dlq`).catch(() => 0), 0);
    const kafkaUids = new Set(
      (await readTopic(env.kafkaBrokers, `bf-${suffix}`)).map((m) => m.uid),
    );
    assert.deepEqual(
      kafkaUids,
      new Set(await documentUids()),
      'Kafka has every record of the range',
    );
    assert.deepEqual(await liveCheckpoints(), checkpointsBefore, 'live checkpoints unchanged');

    // Done means done: the same command again reads nothing new and delivers nothing twice.
    const again = startCommand('backfill', settings, [...range, '--rate', '5']);
    assert.equal((await again.exited).code, 0, again.output());
    assert.match(again.stderr(), /^backfill complete: \d+\/\d+ streams, 0 records/m);
    assert.deepEqual(await documents(), { count: inRange, uids: inRange });
  });
});
