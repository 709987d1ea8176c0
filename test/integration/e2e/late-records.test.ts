/**
 * Records that reach CloudWatch late, against the real stack with real PutLogEvents: a record
 * ingested with a timestamp older than the forward token's position lands behind the token, where
 * the forward reader never looks. The forwarder must still deliver it exactly once:
 * - an HSM record: its sequence gap is held back and the stream re-read around it (gap repair);
 * - a certificate-storage record (no sequence numbers): the trailing look-back re-read finds it;
 * - same-millisecond and out-of-order timestamps: delivered once each, no finding;
 * - a gap whose records really are missing: still reported, once, after the repair window.
 *
 * Emulator differences the test does not lean on (docs/cloudwatch-logs.md): after a back-dated
 * insert moto's positional token hands out the previously last record again (AWS does not; the
 * source drops that exact repeat either way), and moto's `endTime` is inclusive where AWS's is
 * exclusive (the re-read asks for one millisecond more and filters). Timestamps stay within the
 * last hour: moto drops events older than 14 days.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { formatAuditRecord, formatCertStoreRecord } from '../../../src/simulator/audit-record.js';
import { ensureStream, putRecords } from '../../../src/simulator/cloudwatch-writer.js';
import {
  freePort,
  startForwarder,
  untilRunning,
  waitFor,
  sleep,
} from '../support/forwarder-process.js';
import { readTopic } from '../support/kafka-reader.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const cloudwatch = new CloudWatchLogsClient({ endpoint: env.awsEndpoint, region: env.awsRegion });
const opensearch = new Client({ node: env.opensearchUrl });

after(async () => {
  await opensearch.close();
  cloudwatch.destroy();
});

const REPAIR_WINDOW_MS = 15_000;

function login(sequence: number, timestamp: number): { timestamp: number; message: string } {
  return {
    timestamp,
    message: formatAuditRecord({
      usecs: BigInt(timestamp) * 1000n,
      sequence: BigInt(sequence),
      rebootCounter: 0x107,
      opcode: 'CN_LOGIN',
      sessionHandle: 0xc008002 + sequence,
      user: { name: `user${sequence}`, type: 'CN_CRYPTO_USER' },
    }),
  };
}

function certRecord(handle: number, timestamp: number): { timestamp: number; message: string } {
  return {
    timestamp,
    message: formatCertStoreRecord({
      objectHandle: String(handle),
      opCode: 'CreateObject',
      response: 'Success',
      attributes: null,
      timestamp,
    }),
  };
}

interface Doc {
  readonly uid: string;
  readonly classUid: number;
  readonly eventCode: string | undefined;
  readonly stream: string | undefined;
  readonly missing: string | undefined;
}

async function documents(indexPattern: string): Promise<Doc[]> {
  try {
    await opensearch.indices.refresh({ index: indexPattern });
    const response = await opensearch.search({
      index: indexPattern,
      body: { size: 1000, query: { match_all: {} } },
    });
    const hits = response.body.hits.hits as Array<{ _source: Record<string, unknown> }>;
    return hits.map(({ _source: source }) => {
      const metadata = source['metadata'] as Record<string, unknown>;
      const unmapped = (source['unmapped'] as Record<string, Record<string, unknown>> | undefined)
        ?.cloudhsm;
      const resources = source['resources'] as Array<Record<string, unknown>> | undefined;
      const device = source['device'] as Record<string, unknown> | undefined;
      return {
        uid: String(metadata['uid']),
        classUid: Number(source['class_uid']),
        eventCode: metadata['event_code'] as string | undefined,
        stream: (resources?.[0]?.['uid'] ?? device?.['uid']) as string | undefined,
        missing: unmapped?.['missing_count'] as string | undefined,
      };
    });
  } catch {
    return [];
  }
}

/** Names and a directory of one test's own: log group, index prefix, topic. */
async function newRun(name: string): Promise<{
  group: string;
  dir: string;
  indexPrefix: string;
  topic: string;
}> {
  const suffix = uniqueSuffix();
  return {
    group: `/aws/cloudhsm/${name}-${suffix}`,
    dir: await mkdtemp(join(tmpdir(), `${name}-`)),
    indexPrefix: `${name}-${suffix}`,
    topic: `${name}-${suffix}`,
  };
}

/** The forwarder's environment for a run, with fast polling; `settings` adds or overrides. */
async function forwarderEnv(
  run: Awaited<ReturnType<typeof newRun>>,
  settings: Record<string, string>,
): Promise<Record<string, string>> {
  return {
    LOG_GROUP_PREFIXES: run.group,
    CHECKPOINT_DIR: join(run.dir, 'checkpoints'),
    DEAD_LETTER_FILE: join(run.dir, 'dead-letter.ndjson'),
    KAFKA_TOPIC: run.topic,
    DEAD_LETTER_TOPIC: `${run.topic}-dlq`,
    KAFKA_CREATE_TOPIC: 'true',
    OPENSEARCH_INDEX_PREFIX: run.indexPrefix,
    HTTP_PORT: await freePort(),
    START_POSITION: 'beginning',
    POLL_MIN_INTERVAL_MS: '200',
    DISCOVERY_INTERVAL_MS: '2000',
    ENRICHMENT_ENABLED: 'false',
    ...settings,
  };
}

describe(
  'records that reach CloudWatch late (behind the forward token)',
  { timeout: 300_000 },
  () => {
    it('delivers each exactly once, raises no finding for them, and still reports a real gap', async () => {
      const run = await newRun('e2e-late');
      const { group, indexPrefix, topic } = run;
      const base = Date.now() - 10 * 60_000;
      const at = (seconds: number): number => base + seconds * 1000;

      // hsm-late: 4 comes later, dated between 3 and 5. hsm-gap: 3 never comes. hsm-order: 3 comes
      // later dated before 4; 5 and 6 share a millisecond and arrive as 6 then 5.
      const initial = {
        'hsm-late': [1, 2, 3, 5, 6].map((s) => login(s, at(s))),
        'hsm-gap': [1, 2, 4, 5].map((s) => login(s, at(s))),
        'hsm-order': [login(1, at(1)), login(2, at(1)), login(4, at(4))],
        'cluster-late': [certRecord(1, at(1)), certRecord(2, at(3)), certRecord(3, at(6))],
      };
      for (const [stream, records] of Object.entries(initial)) {
        await ensureStream(cloudwatch, group, stream);
        await putRecords(cloudwatch, group, stream, records);
      }
      const initialCount = Object.values(initial).reduce((n, r) => n + r.length, 0);

      const settings = await forwarderEnv(run, {
        GAP_REPAIR_WINDOW_MS: String(REPAIR_WINDOW_MS),
        LOOK_BACK_WINDOW_MS: '3600000',
        LOOK_BACK_INTERVAL_MS: '2000',
        LOG_LEVEL: 'warn',
      });
      const port = settings['HTTP_PORT'] as string;
      const forwarder = startForwarder(settings);
      const records = async (): Promise<Doc[]> =>
        (await documents(`${indexPrefix}-*`)).filter((d) => d.classUid !== 2004);
      const findings = async (): Promise<Doc[]> =>
        (await documents(`${indexPrefix}-*`)).filter((d) => d.classUid === 2004);
      try {
        await untilRunning(forwarder);
        await waitFor(
          `the ${initialCount} first records in OpenSearch`,
          async () => (await records()).length >= initialCount,
          120_000,
        );

        // Now the late ones, each dated before what the reader of its stream already passed.
        await putRecords(cloudwatch, group, 'hsm-late', [login(4, at(4))]);
        await putRecords(cloudwatch, group, 'hsm-order', [login(3, at(3))]);
        await putRecords(cloudwatch, group, 'hsm-order', [login(6, at(7)), login(5, at(7))]);
        await putRecords(cloudwatch, group, 'cluster-late', [certRecord(4, at(2))]);
        const total = initialCount + 5;
        await waitFor(
          `all ${total} records in OpenSearch`,
          async () => (await records()).length >= total,
          REPAIR_WINDOW_MS + 60_000,
        );
        // The gap of hsm-gap is reported once its window has passed; wait a little longer so a
        // wrong finding for the repaired streams would have had its chance to appear too.
        await waitFor(
          'the finding of the unrepairable gap',
          async () => (await findings()).some((f) => f.eventCode === 'integrity_gap'),
          REPAIR_WINDOW_MS + 60_000,
        );
        await sleep(5000);

        const delivered = await records();
        assert.equal(delivered.length, total, 'every record once in OpenSearch');
        assert.equal(new Set(delivered.map((d) => d.uid)).size, total);
        for (const late of ['hsm-late:0x107:0x4', 'hsm-order:0x107:0x3']) {
          assert.ok(
            delivered.some((d) => d.uid === late),
            `${late} delivered`,
          );
        }
        const found = await findings();
        assert.deepEqual(
          found.map((f) => [f.eventCode, f.stream, f.missing]),
          [['integrity_gap', 'hsm-gap', '1']],
          'one finding: the gap whose record never came; none for the late records',
        );

        const messages = await readTopic(env.kafkaBrokers, topic);
        const perUid = new Map<string, number>();
        for (const m of messages) perUid.set(m.uid, (perUid.get(m.uid) ?? 0) + 1);
        const twice = [...perUid].filter(([, n]) => n > 1);
        assert.deepEqual(twice, [], 'no message twice on Kafka');
        assert.equal(perUid.size, total + 1, 'every record and the finding on Kafka');

        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const repaired = /cloudhsm_forwarder_integrity_gaps_repaired_total\{[^}]*\} (\d+)/.exec(
          metrics,
        );
        assert.equal(
          Number(repaired?.[1] ?? 0),
          3,
          'hsm-late one gap, hsm-order two (3 late, 5 after 6)',
        );
        const recovered = /cloudhsm_forwarder_reread_records_recovered_total\{[^}]*\} (\d+)/.exec(
          metrics,
        );
        assert.equal(
          Number(recovered?.[1] ?? 0),
          3,
          'three records came through re-reads: hsm-late 4, hsm-order 3, the certificate record',
        );
      } finally {
        forwarder.child.kill('SIGTERM');
        await forwarder.exited;
      }
    });

    it('still repairs a gap that was pending when the forwarder stopped, on a stream that stays quiet', async () => {
      const run = await newRun('e2e-late-restart');
      const { group, indexPrefix } = run;
      const base = Date.now() - 10 * 60_000;
      const at = (seconds: number): number => base + seconds * 1000;
      await ensureStream(cloudwatch, group, 'hsm-quiet');
      await putRecords(
        cloudwatch,
        group,
        'hsm-quiet',
        [1, 2, 4].map((s) => login(s, at(s))),
      );
      const start = async () =>
        startForwarder(
          await forwarderEnv(run, { GAP_REPAIR_WINDOW_MS: '60000', LOG_LEVEL: 'info' }),
        );
      const all = async (): Promise<Doc[]> => documents(`${indexPrefix}-*`);
      const first = await start();
      try {
        await untilRunning(first);
        await waitFor('the three records', async () => (await all()).length >= 3, 60_000);
        await waitFor(
          'the gap to be pending (its re-read requested)',
          () => Promise.resolve(/sequence gap: re-reading/.test(first.output())),
          30_000,
        );
      } finally {
        first.child.kill('SIGTERM');
        await first.exited;
      }
      // Written while the forwarder is down, behind the checkpointed token.
      await putRecords(cloudwatch, group, 'hsm-quiet', [login(3, at(3))]);
      const second = await start();
      try {
        await untilRunning(second);
        await waitFor(
          'the late record after the restart',
          async () => (await all()).some((d) => d.uid === 'hsm-quiet:0x107:0x3'),
          60_000,
        );
        const docs = await all();
        assert.deepEqual(
          docs.map((d) => d.uid).sort(),
          [1, 2, 3, 4].map((s) => `hsm-quiet:0x107:0x${s}`),
          'four records, no finding',
        );
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    });
  },
);
