// End-to-end throughput against the local stack (README "Performance"): records/s the forwarder delivers to
// BOTH sinks, beside the raw ceilings measured in the same run on the same machine:
//   - Kafka: the broker's own ProducerPerformance tool, same record count and size, acks=-1;
//   - OpenSearch: a bare bulk-create loop with the same documents and bulk size.
// Prints `e2e: N records/s (X% of the slower sink's ceiling)` as its final line.
// Brings the local stack up itself (bench/local-stack.ts) and leaves it running.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';
import { Kafka, logLevel } from 'kafkajs';

import { benchForwarderEnv, printStackStillRunning, useLocalStack } from './local-stack.js';
import { writeStreams } from '../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../src/simulator/fleet.js';
import { toOutboundEvent } from '../src/sink/outbound-event.js';
import { toOcsfEvent } from '../src/transform/normalize.js';

const RECORDS_PER_HSM = Number(process.env.BENCH_RECORDS_PER_HSM ?? 5000);
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

async function offsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const list = await admin.fetchTopicOffsets(topic);
    return list.reduce((sum, p) => sum + Number(p.high), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}

function kafkaCeiling(brokers: string, records: number, recordSize: number): number {
  const version = process.env.STACK_KAFKA_VERSION ?? '4.3.1';
  const cache = process.env.STACK_CACHE_DIR ?? join(homedir(), '.cache/cloudhsm-audit-forwarder');
  const topic = `bench-ceiling-${Date.now()}`;
  const lib = join(cache, `kafka-${version}`, 'lib', '*');
  const create = spawnSync(
    'java',
    [
      '-cp',
      lib,
      'org.apache.kafka.tools.TopicCommand',
      '--bootstrap-server',
      brokers,
      '--create',
      '--topic',
      topic,
      '--partitions',
      '3',
      '--replication-factor',
      '1',
    ],
    { encoding: 'utf8' },
  );
  if (create.status !== 0) throw new Error(`TopicCommand failed: ${create.stderr}`);
  const perf = spawnSync(
    'java',
    [
      '-Xmx512m',
      '-cp',
      lib,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=-1',
      'compression.type=gzip',
      'enable.idempotence=true',
      'max.in.flight.requests.per.connection=1',
    ],
    { encoding: 'utf8' },
  );
  if (perf.status !== 0) throw new Error(`ProducerPerformance failed: ${perf.stderr}`);
  const summary = perf.stdout.trim().split('\n').at(-1) ?? '';
  const rate = /([\d.]+) records\/sec/.exec(summary)?.[1];
  if (rate === undefined) throw new Error(`cannot read ProducerPerformance output: ${summary}`);
  console.log(
    `kafka ceiling (ProducerPerformance, ${recordSize} B records, acks=-1, gzip, idempotent, 1 in flight): ${summary}`,
  );
  return Number(rate);
}

async function openSearchCeiling(
  client: Client,
  docs: { id: string; json: string; time: number }[],
) {
  const index = `bench-ceiling-${Date.now()}`;
  await client.indices.create({
    index,
    body: { settings: { number_of_shards: 1, number_of_replicas: 0 } },
  });
  const started = performance.now();
  for (let i = 0; i < docs.length; i += 1000) {
    const body: string[] = [];
    for (const doc of docs.slice(i, i + 1000)) {
      body.push(JSON.stringify({ create: { _index: index, _id: doc.id } }), doc.json);
    }
    const response = await client.bulk({ body: body as never });
    if (response.body.errors) throw new Error('bulk errors in the ceiling loop');
  }
  const rate = docs.length / ((performance.now() - started) / 1000);
  await client.indices.delete({ index });
  console.log(
    `opensearch ceiling (bare bulk create loop, 1000 docs/request, 1 in flight): ${rate.toFixed(0)} docs/s`,
  );
  return rate;
}

export async function runE2eBench(): Promise<void> {
  const stack = useLocalStack();
  const endpoint = stack.awsEndpoint;
  const brokers = stack.kafkaBrokers.join(',');
  const opensearchUrl = stack.opensearchUrl;
  const suffix = Date.now().toString(36);
  const prefix = `/aws/cloudhsm/bench-${suffix}-`;
  const fleet = simulateFleet({
    clusters: 2,
    hsmsPerCluster: 3,
    recordsPerHsm: RECORDS_PER_HSM,
    startMs: Date.now() - 3_600_000,
    spacingMs: 1,
    logGroupPrefix: prefix,
  });
  const total = fleet.report.records;
  const cloudwatch = new CloudWatchLogsClient({ endpoint, region: stack.region });
  await writeStreams(cloudwatch, fleet.streams);
  cloudwatch.destroy();

  // The documents exactly as the forwarder sends them, for the ceilings and the record size.
  const docs = fleet.streams.flatMap((stream) =>
    stream.records.map((record) => {
      const event = toOcsfEvent(
        {
          logGroup: stream.logGroup,
          logStream: stream.logStream,
          timestamp: record.timestamp,
          ingestionTime: record.timestamp,
          message: record.message,
        },
        { region: 'us-east-1' },
      );
      const out = toOutboundEvent(event, stream.logStream);
      return { id: out.uid, json: out.json, time: out.time };
    }),
  );
  const recordSize = Math.round(docs.reduce((n, d) => n + d.json.length, 0) / docs.length);

  const opensearch = new Client({ node: opensearchUrl });
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const dir = await mkdtemp(join(tmpdir(), 'bench-e2e-'));
  const topic = `bench-${suffix}`;
  const indexPrefix = `bench-${suffix}`;
  const started = performance.now();
  const forwarder = spawn(process.execPath, ['--import', 'tsx', CLI, 'run'], {
    env: {
      ...process.env,
      ...benchForwarderEnv({ logGroupPrefix: prefix, dir, topic, indexPrefix }),
      POLL_MIN_INTERVAL_MS: '100',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let firstAt = 0;
  for (;;) {
    // Polls without forcing refreshes: a refresh per poll would slow the indexing it measures.
    await new Promise((resolve) => setTimeout(resolve, 500));
    let indexed: number;
    try {
      indexed = (await opensearch.count({ index: `${indexPrefix}-*` })).body.count;
    } catch {
      indexed = 0;
    }
    if (indexed > 0 && firstAt === 0) firstAt = performance.now();
    if (indexed >= total && (await offsets(kafka, topic)) >= total) break;
    if (performance.now() - started > 600_000)
      throw new Error('forwarder did not finish in 10 min');
  }
  const done = performance.now();
  forwarder.kill('SIGTERM');
  await new Promise((resolve) => forwarder.once('exit', resolve));
  const wall = total / ((done - started) / 1000);
  const steady = total / ((done - firstAt) / 1000);
  console.log(
    `forwarder: ${total} records (mean ${recordSize} B as OCSF JSON) to Kafka and OpenSearch in ` +
      `${((done - started) / 1000).toFixed(1)} s from process start (${wall.toFixed(0)} records/s), ` +
      `${((done - firstAt) / 1000).toFixed(1)} s from the first delivery (${steady.toFixed(0)} records/s)`,
  );

  const kafkaRate = kafkaCeiling(brokers, total, recordSize);
  const opensearchRate = await openSearchCeiling(opensearch, docs);
  await opensearch.indices.delete({ index: `${indexPrefix}-*` });
  await opensearch.close();
  await rm(dir, { recursive: true, force: true });
  const slower = Math.min(kafkaRate, opensearchRate);
  printStackStillRunning();
  console.log(
    `e2e: ${steady.toFixed(0)} records/s (${((steady / slower) * 100).toFixed(0)}% of the slower sink's ceiling, ${slower.toFixed(0)}/s)`,
  );
}
