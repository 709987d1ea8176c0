/**
 * The dead-letter writer against the real Kafka broker (issue 13, defect 5): the topic it creates
 * takes the configured partitions and replication factor (default: the broker's), and a topic that
 * refuses the writes sends the entries to the file with an error log and a count, instead of
 * silently.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import kafkajs from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';

import { DeadLetter } from '../../../src/sink/dead-letter.js';
import { createKafkaClient } from '../../../src/sink/kafka-client.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import type { RejectedEvent } from '../../../src/sink/sink.js';
import type { ComponentLogger } from '../../../src/util/logger.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const kafka = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const dirs: string[] = [];

before(() => admin.connect());
after(async () => {
  await admin.disconnect();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dlq-test-'));
  dirs.push(dir);
  return join(dir, 'nested', 'dead-letter.ndjson');
}

function rejected(i: number): RejectedEvent {
  const doc = { time: 1_700_000_000_000 + i, metadata: { uid: `hsm-x:0x1:0x${i.toString(16)}` } };
  const event: OutboundEvent = {
    uid: doc.metadata.uid,
    key: 'hsm-x',
    time: doc.time,
    classUid: 3002,
    json: JSON.stringify(doc),
  };
  return {
    event,
    kind: 'mapping_error',
    detail: 'mapper_parsing_exception: failed to parse field [time]',
  };
}

interface LogLine {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function recordingLogger(lines: LogLine[]): ComponentLogger {
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void =>
      void lines.push({ level, fields, message });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function partitionsAndReplicas(topic: string) {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = topics[0]?.partitions ?? [];
  return { partitions: partitions.length, replicas: partitions[0]?.replicas.length ?? 0 };
}

async function brokerDefault(name: string): Promise<number> {
  const { brokers } = await admin.describeCluster();
  const result = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      {
        type: kafkajs.ConfigResourceTypes.BROKER,
        name: String(brokers[0]?.nodeId),
        configNames: [name],
      },
    ],
  });
  const entry = result.resources[0]?.configEntries.find((e) => e.configName === name);
  return Number(entry?.configValue);
}

function deadLetter(topic: string, file: string, extra: Record<string, unknown> = {}) {
  return new DeadLetter({
    file,
    kafka: {
      client: createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'dlq-test' }),
      topic,
      createTopic: true,
      ...extra,
    },
  });
}

describe('dead-letter topic against the real broker', { timeout: 120_000 }, () => {
  it('is created with the broker defaults when nothing is configured', async () => {
    const topic = `dlq-defaults-${uniqueSuffix()}`;
    const writer = deadLetter(topic, await tempFile());
    await writer.start();
    await writer.stop();
    const expected = await brokerDefault('num.partitions');
    assert.ok(expected > 1, `the test broker's num.partitions (${expected}) tells defaults apart`);
    assert.deepEqual(await partitionsAndReplicas(topic), {
      partitions: expected,
      replicas: await brokerDefault('default.replication.factor'),
    });
  });

  it('is created with the configured partitions and replication factor', async () => {
    const topic = `dlq-configured-${uniqueSuffix()}`;
    const writer = deadLetter(topic, await tempFile(), {
      topicPartitions: 2,
      topicReplicationFactor: 1,
    });
    await writer.start();
    await writer.stop();
    assert.deepEqual(await partitionsAndReplicas(topic), { partitions: 2, replicas: 1 });

    // The replication factor really reaches the broker: one broker cannot hold 2 replicas.
    const tooMany = `dlq-rf2-${uniqueSuffix()}`;
    const refused = deadLetter(tooMany, await tempFile(), { topicReplicationFactor: 2 });
    await assert.rejects(refused.start(), (error: Error) => {
      assert.match(error.message, new RegExp(`cannot create Kafka topic "${tooMany}"`));
      assert.match(error.message, /replication factor 2/);
      assert.match(error.message, /INVALID_REPLICATION_FACTOR/);
      return true;
    });
    await refused.stop();
  });

  it('falls back to the file with an error log and a count when the topic refuses writes', async () => {
    const topic = `dlq-refusing-${uniqueSuffix()}`;
    // A topic whose max.message.bytes is below one entry refuses every write for good. (A
    // 1-replica topic with min.insync.replicas=2, the MSK case, is accepted by this Kafka 4.3.1
    // broker, which caps the effective minimum ISR at the replication factor.)
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [{ name: 'max.message.bytes', value: '100' }],
        },
      ],
    });
    const file = await tempFile();
    const lines: LogLine[] = [];
    const fallbacks: number[] = [];
    const writer = new DeadLetter({
      file,
      kafka: {
        client: createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'dlq-test' }),
        topic,
        createTopic: false,
      },
      logger: recordingLogger(lines),
      onFallback: (entries) => fallbacks.push(entries),
    });
    await writer.start();
    try {
      assert.equal(await writer.write('opensearch', [rejected(1), rejected(2)]), 'file');
    } finally {
      await writer.stop();
    }
    const stored = (await readFile(file, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(
      stored.map((line) => (JSON.parse(line) as { uid: string }).uid),
      ['hsm-x:0x1:0x1', 'hsm-x:0x1:0x2'],
    );
    assert.deepEqual(fallbacks, [2], 'the fallback is counted per entry');
    const logged = lines.find((l) => l.level === 'error' && l.fields.topic === topic);
    assert.ok(logged !== undefined, `an error log names the topic: ${JSON.stringify(lines)}`);
    assert.equal(logged.fields.file, file);
    assert.match(logged.message, /dead-letter file/);
  });
});
