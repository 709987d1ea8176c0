/**
 * End to end, against the real stack: the forwarder binary reads a simulated CloudHSM fleet from
 * the CloudWatch Logs emulator and delivers it to the real Kafka broker and OpenSearch node,
 * through crashes (SIGKILL), sink outages and a graceful stop (README "Delivery").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';
import { parse as parseYaml } from 'yaml';

import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { putRecords, writeStreams } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../../../src/simulator/fleet.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import type { Fleet } from '../../../src/simulator/fleet.js';
import {
  freePort,
  sleep,
  startForwarder,
  untilRunning,
  waitFor,
} from '../support/forwarder-process.js';
import type { ForwarderProcess } from '../support/forwarder-process.js';
import { readTopic, topicEndOffsets } from '../support/kafka-reader.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const cloudwatch = new CloudWatchLogsClient({ endpoint: env.awsEndpoint, region: env.awsRegion });
const opensearch = new Client({ node: env.opensearchUrl });
const STACK = join(import.meta.dirname, '../../stack/stack.sh');

interface Scenario {
  readonly name: string;
  readonly prefix: string;
  readonly topic: string;
  readonly dlqTopic: string;
  readonly indexPrefix: string;
  readonly dir: string;
  readonly env: Record<string, string>;
}

async function scenario(name: string): Promise<Scenario> {
  const suffix = uniqueSuffix();
  const dir = await mkdtemp(join(tmpdir(), `e2e-${name}-`));
  const prefix = `/aws/cloudhsm/e2e-${name}-${suffix}/`;
  const topic = `e2e-${name}-${suffix}`;
  const dlqTopic = `e2e-${name}-${suffix}-dlq`;
  const indexPrefix = `e2e-${name}-${suffix}`;
  return {
    name,
    prefix,
    topic,
    dlqTopic,
    indexPrefix,
    dir,
    env: {
      LOG_GROUP_PREFIXES: prefix,
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: join(dir, 'dead-letter.ndjson'),
      DEAD_LETTER_TOPIC: dlqTopic,
      KAFKA_TOPIC: topic,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_INDEX_PREFIX: indexPrefix,
      HTTP_PORT: await freePort(),
      START_POSITION: 'beginning',
      POLL_MIN_INTERVAL_MS: '200',
      DISCOVERY_INTERVAL_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '15000',
      RATE_LIMIT_GET_LOG_EVENTS: '20',
      ENRICHMENT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    },
  };
}

async function openSearchCount(s: Scenario): Promise<number> {
  try {
    await opensearch.indices.refresh({ index: `${s.indexPrefix}-*` });
    const result = await opensearch.count({ index: `${s.indexPrefix}-*` });
    return result.body.count;
  } catch {
    return -1;
  }
}

/** Exact number of distinct `metadata.uid` values (a composite aggregation, not an estimate). */
async function distinctIds(s: Scenario): Promise<number> {
  let distinct = 0;
  let after: Record<string, unknown> | undefined;
  for (;;) {
    const result = await opensearch.search({
      index: `${s.indexPrefix}-*`,
      body: {
        size: 0,
        aggs: {
          ids: {
            composite: {
              size: 10_000,
              sources: [{ uid: { terms: { field: 'metadata.uid' } } }],
              ...(after === undefined ? {} : { after }),
            },
          },
        },
      } as never,
    });
    const ids = (
      result.body.aggregations as {
        ids: { buckets: unknown[]; after_key?: Record<string, unknown> };
      }
    ).ids;
    distinct += ids.buckets.length;
    if (ids.buckets.length === 0 || ids.after_key === undefined) return distinct;
    after = ids.after_key;
  }
}

/**
 * Both sinks hold `expected` distinct events. OpenSearch alone is not enough: it can be ahead of
 * Kafka (whose unacknowledged tail is re-read on restart), so a forwarder stopped as soon as
 * OpenSearch is complete would leave Kafka short.
 */
async function untilDelivered(s: Scenario, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await waitFor(
    `${expected} documents in ${s.indexPrefix}-*`,
    async () => (await openSearchCount(s)) >= expected,
    timeoutMs,
    1000,
  );
  await waitFor(
    `${expected} distinct events on ${s.topic}`,
    async () => {
      try {
        if ((await topicEndOffsets(env.kafkaBrokers, s.topic)) < expected) return false;
        const uids = new Set((await readTopic(env.kafkaBrokers, s.topic)).map((m) => m.uid));
        return uids.size >= expected;
      } catch {
        return false; // broker stopped by an outage test, or the topic not created yet
      }
    },
    Math.max(1000, deadline - Date.now()),
    2000,
  );
}

async function stopGracefully(forwarder: ForwarderProcess, timeoutMs: number) {
  // All records may be in before the last forwarder even finished loading (the crash test).
  await untilRunning(forwarder);
  forwarder.child.kill('SIGTERM');
  const started = Date.now();
  const result = await Promise.race([
    forwarder.exited,
    sleep(timeoutMs).then(() => ({ code: null, signal: null, timedOut: true as const })),
  ]);
  return { ...result, ms: Date.now() - started };
}

/**
 * Kafka holds every record at least once, and every message of a partition is in its stream's
 * write order: each stream's next message is the record after the previous one, or — only where
 * a forwarder was killed (`replays`) — a step back to a record already sent (the unacknowledged
 * tail read again). A step forward over a record, or any step back in a single run, fails.
 */
async function checkKafka(
  s: Scenario,
  fleet: Fleet,
  replays: 'none' | 'after-crashes' = 'none',
): Promise<{ messages: number }> {
  const messages = await readTopic(env.kafkaBrokers, s.topic);
  const uids = new Set(messages.map((m) => m.uid));
  assert.equal(uids.size, fleet.report.records, 'distinct event-uid headers = records written');
  assert.ok(messages.length >= fleet.report.records);
  const position = new Map<string, number>();
  for (const stream of fleet.streams) {
    stream.records.forEach((record, index) => {
      const uid = toOcsfEvent({ ...stream, ...record }).metadata.uid;
      position.set(uid, index);
    });
  }
  const last = new Map<string, number>();
  for (const m of [...messages].sort(
    (a, b) => a.partition - b.partition || Number(a.offset - b.offset),
  )) {
    const index = position.get(m.uid);
    assert.ok(index !== undefined, `${m.uid} was written`);
    const key = `${m.partition}|${m.key}`;
    const previous = last.get(key) ?? -1;
    const where = `partition ${m.partition} offset ${m.offset}: ${m.key} record #${index} after #${previous}`;
    if (replays === 'none') assert.equal(index, previous + 1, where);
    else assert.ok(index <= previous + 1, where);
    last.set(key, index);
  }
  return { messages: messages.length };
}

function stack(...args: string[]): void {
  const result = spawnSync('bash', [STACK, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, `stack ${args.join(' ')} failed:\n${result.stderr}`);
}

after(async () => {
  await opensearch.close();
  cloudwatch.destroy();
});

describe('forwarder end to end (moto → Kafka + OpenSearch)', { timeout: 1_200_000 }, () => {
  it('delivers ~20,000 records exactly once to OpenSearch and at least once to Kafka through 5 SIGKILLs', async () => {
    const s = await scenario('crash');
    const fleet = simulateFleet({
      clusters: 3,
      hsmsPerCluster: 3,
      recordsPerHsm: 2200,
      certRecords: 200,
      startMs: Date.now() - 3_600_000,
      logGroupPrefix: s.prefix,
    });
    await writeStreams(cloudwatch, fleet.streams);
    const expected = fleet.report.records;
    assert.equal(expected, 20_000);

    for (let kill = 1; kill <= 5; kill += 1) {
      const forwarder = startForwarder(s.env);
      await sleep(1500 + Math.floor(Math.random() * 3000));
      forwarder.child.kill('SIGKILL');
      await forwarder.exited;
    }
    const last = startForwarder(s.env);
    await untilDelivered(s, expected, 300_000);
    const stopped = await stopGracefully(last, 30_000);
    assert.equal(stopped.code, 0, last.output());

    assert.equal(await openSearchCount(s), expected, 'exactly one document per record');
    assert.equal(await distinctIds(s), expected);
    const kafka = await checkKafka(s, fleet, 'after-crashes');
    console.log(
      `crash test: ${expected} records, ${kafka.messages} Kafka messages after 5 SIGKILLs`,
    );
  });

  // The pod's memory settings, so that the outage tests run the forwarder as the chart does.
  const chart = parseYaml(
    readFileSync(
      join(import.meta.dirname, '../../../helm/cloudhsm-audit-forwarder/values.yaml'),
      'utf8',
    ),
  ) as { nodeOptions: string; resources: { limits: { memory: string } } };
  const memoryLimit = Number(/^(\d+)Mi$/.exec(chart.resources.limits.memory)?.[1]) * 2 ** 20;

  for (const outage of ['kafka', 'opensearch'] as const) {
    it(`loses nothing when ${outage} is stopped for 60 s with a 20,000-record backlog, within the chart's memory at the shipped defaults`, async () => {
      const s = await scenario(`outage-${outage}`);
      const fleet = simulateFleet({
        clusters: 2,
        hsmsPerCluster: 2,
        recordsPerHsm: 5250,
        startMs: Date.now() - 3_600_000,
        logGroupPrefix: s.prefix,
        seed: outage === 'kafka' ? 7 : 11,
      });
      const [first, ...rest] = fleet.streams;
      assert.ok(first !== undefined);
      // 1,000 records now; the other 20,000 arrive during the outage.
      await writeStreams(cloudwatch, [{ ...first, records: first.records.slice(0, 1000) }]);
      // No pipeline.* override: the in-flight bounds are the shipped defaults, and the log level
      // is the shipped one too, for the bound on what the outage logs.
      const forwarder = startForwarder({
        ...s.env,
        NODE_OPTIONS: chart.nodeOptions,
        LOG_LEVEL: 'info',
      });
      await untilDelivered(s, 1, 60_000);
      const logStart = forwarder.output().length;
      stack('down', outage);
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, forwarder.rss())), 250);
      const before = forwarder.rss();
      await putRecords(cloudwatch, first.logGroup, first.logStream, first.records.slice(1000));
      await writeStreams(cloudwatch, rest);
      await sleep(60_000);
      const duringOutage = peak;
      const outageLog = forwarder.output().slice(logStart);
      stack('up', outage);
      await untilDelivered(s, fleet.report.records, 300_000);
      clearInterval(sampler);
      const stopped = await stopGracefully(forwarder, 30_000);
      assert.equal(stopped.code, 0, forwarder.output());
      assert.equal(await openSearchCount(s), fleet.report.records);
      await checkKafka(s, fleet);
      console.log(
        `${outage} outage: ${fleet.report.records} records; RSS before ${(before / 2 ** 20).toFixed(0)} MiB, ` +
          `peak during the 60 s outage ${(duringOutage / 2 ** 20).toFixed(0)} MiB, overall peak ${(peak / 2 ** 20).toFixed(0)} MiB ` +
          `(chart limit ${(memoryLimit / 2 ** 20).toFixed(0)} MiB)`,
      );
      // Backpressure bounds memory: the outage must not push the process past the pod's limit.
      assert.ok(peak < memoryLimit, "resident memory stays within the chart's memory limit");
      // What the outage logged: bounded, and no record content (the retried requests carry it).
      const logBytes = Buffer.byteLength(outageLog);
      console.log(
        `${outage} outage logged ${logBytes} bytes in ${outageLog.split('\n').length - 1} lines`,
      );
      assert.ok(logBytes < 2 ** 20, `the 60 s outage logged ${logBytes} bytes`);
      const written = rest.flatMap((stream) => stream.records.map((r) => r.message)).join('\n');
      const user = /User Name\s*:\s*(\S+)/.exec(written)?.[1];
      const handle = /Key Handle\s*:\s*(\d{5,})/.exec(written)?.[1];
      assert.ok(user !== undefined && handle !== undefined, 'the input has a user and a key');
      for (const content of ['User Name', user, handle]) {
        assert.ok(!outageLog.includes(content), `the outage log holds record content: ${content}`);
      }
      assert.match(outageLog, new RegExp(`${outage} is unreachable`), 'the outage is told once');
      assert.match(
        forwarder.output().slice(logStart + outageLog.length),
        new RegExp(`${outage} is reachable again`),
        'and so is the recovery',
      );
    });
  }

  it('dead-letters a document OpenSearch rejects permanently and delivers the rest', async () => {
    const s = await scenario('dlq');
    const now = Date.now();
    const fleet = simulateFleet({
      clusters: 1,
      hsmsPerCluster: 1,
      recordsPerHsm: 50,
      startMs: now - 3_600_000,
      logGroupPrefix: s.prefix,
    });
    // One more record whose user name is longer than OpenSearch can index as a keyword (32 KB):
    // the document itself is at fault. (An index created in advance with another mapping is a
    // configuration fault instead: held and retried, see test/integration/sink.)
    const [stream] = fleet.streams;
    assert.ok(stream !== undefined);
    const odd = {
      timestamp: now - 2 * 86_400_000,
      message: formatAuditRecord({
        usecs: BigInt(now - 2 * 86_400_000) * 1000n,
        sequence: 1n,
        rebootCounter: 1,
        opcode: 'CN_LOGIN',
        opcodeHex: '0xd',
        sessionHandle: 7,
        user: { name: 'u'.repeat(40_000), type: 'CN_CRYPTO_USER' },
      }),
    };
    // On an HSM stream of its own, so that its sequence number does not disturb the other one's.
    await writeStreams(cloudwatch, [
      stream,
      { ...stream, logStream: 'hsm-oddoddoddodd', records: [odd] },
    ]);

    const forwarder = startForwarder(s.env);
    await untilDelivered(s, 50, 120_000);
    await waitFor(
      'the dead-letter entry',
      async () => (await topicEndOffsets(env.kafkaBrokers, s.dlqTopic).catch(() => 0)) >= 1,
      60_000,
    );
    // The rejected record's stream checkpoint moved past it: the dead letter counts as handled.
    await waitFor(
      'the checkpoint to move past the rejected record',
      async () => {
        const files = await readdir(s.env.CHECKPOINT_DIR ?? '').catch(() => []);
        for (const file of files.filter((f) => f.includes('hsm-oddoddoddodd'))) {
          const record = JSON.parse(
            await readFile(join(s.env.CHECKPOINT_DIR ?? '', file), 'utf8'),
          ) as {
            lastEventTimestamp: number;
          };
          if (record.lastEventTimestamp === odd.timestamp) return true;
        }
        return false;
      },
      30_000,
    );
    const stopped = await stopGracefully(forwarder, 30_000);
    assert.equal(stopped.code, 0);
    const [entry] = await readTopic(env.kafkaBrokers, s.dlqTopic);
    const parsed = JSON.parse(entry?.value ?? '{}') as {
      sink: string;
      reason: string;
      event: { raw_data: string };
    };
    assert.equal(parsed.sink, 'opensearch');
    assert.match(parsed.reason, /immense term/);
    // The node quotes the start of the value (the user name, as byte numbers): never in a log.
    assert.doesNotMatch(forwarder.output(), /117, 117, 117/, 'no record content in the log');
    assert.equal(parsed.event.raw_data, odd.message);
    assert.equal(await openSearchCount(s), 50);
  });

  it('stops on SIGTERM within the deadline and re-reads nothing acknowledged on restart', async () => {
    const s = await scenario('sigterm');
    const fleet = simulateFleet({
      clusters: 2,
      hsmsPerCluster: 2,
      recordsPerHsm: 2000,
      startMs: Date.now() - 3_600_000,
      logGroupPrefix: s.prefix,
    });
    await writeStreams(cloudwatch, fleet.streams);
    // Slow reads (small pages, 2 calls/s) so that the stop lands mid-run.
    const slow = { ...s.env, PAGE_LIMIT: '100', RATE_LIMIT_GET_LOG_EVENTS: '2' };
    const first = startForwarder(slow);
    await untilDelivered(s, 1, 60_000);
    await sleep(1500);
    const stopped = await stopGracefully(first, 20_000);
    assert.equal(stopped.code, 0, `exit code 0 within the deadline (${stopped.ms} ms)`);
    const afterStop = await topicEndOffsets(env.kafkaBrokers, s.topic);
    assert.ok(afterStop < fleet.report.records, 'stopped mid-run');

    const second = startForwarder({ ...s.env, PAGE_LIMIT: '2000' });
    await untilDelivered(s, fleet.report.records, 300_000);
    assert.equal((await stopGracefully(second, 30_000)).code, 0);
    // Nothing acknowledged before the stop was sent again: exactly one Kafka message per record.
    assert.equal(await topicEndOffsets(env.kafkaBrokers, s.topic), fleet.report.records);
    await checkKafka(s, fleet);
  });
});

describe('readiness follows sink health (/readyz)', { timeout: 300_000 }, () => {
  it('turns not-ready within the configured time when OpenSearch stops, and ready when it returns', async () => {
    const s = await scenario('ready');
    const port = s.env.HTTP_PORT ?? '';
    const forwarder = startForwarder({ ...s.env, READY_SINK_DOWN_MS: '3000' });
    const readyz = async (): Promise<number> => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
      } catch {
        return 0;
      }
    };
    try {
      await waitFor('/readyz 200 after start-up', async () => (await readyz()) === 200, 60_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /cloudhsm_forwarder_sink_up\{sink="opensearch"\} 1/);
      stack('down', 'opensearch');
      const stoppedAt = Date.now();
      // Down for longer than READY_SINK_DOWN_MS, noticed by the periodic sink probe (every 750 ms).
      await waitFor(
        '/readyz 503 with OpenSearch down',
        async () => (await readyz()) === 503,
        20_000,
      );
      const notReadyAfter = Date.now() - stoppedAt;
      const body = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
        checks: { name: string; ok: boolean }[];
      };
      assert.deepEqual(
        body.checks.filter((c) => !c.ok).map((c) => c.name),
        ['sink:opensearch'],
      );
      stack('up', 'opensearch');
      await waitFor(
        '/readyz 200 with OpenSearch back',
        async () => (await readyz()) === 200,
        60_000,
      );
      console.log(
        `readiness: not ready ${notReadyAfter} ms after OpenSearch stopped (READY_SINK_DOWN_MS=3000, probe every 750 ms)`,
      );
    } finally {
      forwarder.child.kill('SIGTERM');
      await forwarder.exited;
    }
  });
});
