import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Kafka, logLevel } from 'kafkajs';

import { DeadLetter } from '../../../src/sink/dead-letter.js';
import { KafkaSink } from '../../../src/sink/kafka.js';
import { createOpenSearchClient } from '../../../src/sink/opensearch-client.js';
import { dailyIndex } from '../../../src/sink/opensearch-template.js';
import { OpenSearchSink } from '../../../src/sink/opensearch.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const DAY = Date.UTC(2026, 10, 23, 12);

function event(i: number, hsm = 'hsm-aaaaaaaaaaa', time = DAY + i): OutboundEvent {
  const doc = {
    time,
    class_uid: 3002,
    activity_id: 1,
    metadata: { uid: `${hsm}:0x1:0x${i.toString(16)}`, version: '1.1.0', sequence: i },
    device: { uid: hsm },
    user: { name: `user-${i % 3}` },
  };
  return { uid: doc.metadata.uid, key: hsm, time, classUid: 3002, json: JSON.stringify(doc) };
}

async function readTopic(topic: string, expected: number) {
  const kafka = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `read-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: { key: string; value: string; headers: Record<string, string>; partition: number }[] =
    [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${got.length}/${expected} messages`)),
      30_000,
    );
    consumer
      .run({
        eachMessage: ({ message, partition }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          got.push({
            key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? '',
            headers,
            partition,
          });
          if (got.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return got;
}

describe('Kafka sink against the real broker', () => {
  const topic = `sink-test-${uniqueSuffix()}`;
  const sink = new KafkaSink({
    brokers: env.kafkaBrokers,
    clientId: 'sink-test',
    topic,
    createTopic: true,
    topicPartitions: 3,
    compression: 'gzip',
    maxChunkBytes: 10_000,
  });
  after(() => sink.stop());

  it('refuses to start on a missing topic unless allowed to create it', async () => {
    const strict = new KafkaSink({
      brokers: env.kafkaBrokers,
      clientId: 'sink-test',
      topic: `missing-${uniqueSuffix()}`,
    });
    await assert.rejects(strict.start(), /does not exist.*KAFKA_CREATE_TOPIC=true/);
    await strict.stop();
  });

  it('delivers keyed events with the contract headers, in order per HSM, across chunks', async () => {
    await sink.start();
    const events = [
      ...Array.from({ length: 60 }, (_, i) => event(i, 'hsm-aaaaaaaaaaa')),
      ...Array.from({ length: 60 }, (_, i) => event(i, 'hsm-bbbbbbbbbbb')),
    ];
    const result = await sink.deliver(events, new AbortController().signal);
    assert.deepEqual(result, { delivered: 120, duplicates: 0, rejected: [] });

    const got = await readTopic(topic, 120);
    assert.equal(got.length, 120);
    for (const message of got) {
      const parsed = JSON.parse(message.value) as { metadata: { uid: string } };
      assert.equal(message.headers['event-uid'], parsed.metadata.uid);
      assert.equal(message.headers['ocsf-class-uid'], '3002');
      assert.equal(message.headers['ocsf-version'], '1.1.0');
    }
    for (const hsm of ['hsm-aaaaaaaaaaa', 'hsm-bbbbbbbbbbb']) {
      const mine = got.filter((m) => m.key === hsm);
      assert.equal(new Set(mine.map((m) => m.partition)).size, 1, 'one partition per HSM');
      const sequence = mine.map(
        (m) => (JSON.parse(m.value) as { metadata: { sequence: number } }).metadata.sequence,
      );
      assert.deepEqual(
        sequence,
        Array.from({ length: 60 }, (_, i) => i),
      );
    }
  });
});

describe('OpenSearch sink against the real node', () => {
  const prefix = `sink-test-${uniqueSuffix()}`;
  const client = createOpenSearchClient({ url: env.opensearchUrl });
  const sink = new OpenSearchSink({ client, indexPrefix: prefix, bulkMaxDocs: 25 });
  let dlqDir: string;

  before(async () => {
    dlqDir = await mkdtemp(join(tmpdir(), 'dlq-'));
    await sink.start();
  });

  after(async () => {
    await client.indices.delete({ index: `${prefix}-*` });
    await client.indices.deleteIndexTemplate({ name: `${prefix}-template` });
    await sink.stop();
  });

  it('installs the versioned template once and indexes exactly one document per uid', async () => {
    await sink.start(); // second start: template already current, no error
    const events = Array.from({ length: 100 }, (_, i) => event(i));
    const first = await sink.deliver(events, new AbortController().signal);
    assert.deepEqual(first, { delivered: 100, duplicates: 0, rejected: [] });
    // Replaying half of them (e.g. after a crash) creates nothing new.
    const replay = await sink.deliver(events.slice(0, 50), new AbortController().signal);
    assert.deepEqual(replay, { delivered: 0, duplicates: 50, rejected: [] });

    const index = dailyIndex(prefix, DAY);
    await client.indices.refresh({ index });
    const count = await client.count({ index });
    assert.equal(count.body.count, 100);
    const mapping = await client.indices.getMapping({ index });
    const properties = mapping.body[index]?.mappings.properties as Record<
      string,
      { type?: string }
    >;
    assert.equal(properties.time?.type, 'date');
    const doc = await client.get({ index, id: events[7]?.uid ?? '' });
    assert.equal(JSON.stringify(doc.body._source), events[7]?.json, '_source is the Kafka payload');
  });

  it('hands back a document rejected by a mapping conflict and delivers the others', async () => {
    const good = event(500);
    // `time` is a date in the template: an object there is a permanent mapping error.
    const bad: OutboundEvent = {
      ...event(501),
      json: JSON.stringify({ ...(JSON.parse(event(501).json) as object), time: { not: 'a date' } }),
    };
    const result = await sink.deliver([good, bad], new AbortController().signal);
    assert.equal(result.delivered, 1);
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0]?.event.uid, bad.uid);
    assert.match(
      result.rejected[0]?.reason ?? '',
      /mapper_parsing_exception|document_parsing_exception/,
    );

    // The dead-letter topic receives it with the reason; the file is the fallback.
    const dlqTopic = `dlq-test-${uniqueSuffix()}`;
    const deadLetter = new DeadLetter({
      file: join(dlqDir, 'dead-letter.ndjson'),
      kafka: {
        brokers: env.kafkaBrokers,
        clientId: 'dlq-test',
        topic: dlqTopic,
        createTopic: true,
      },
    });
    await deadLetter.start();
    assert.equal(await deadLetter.write('opensearch', result.rejected), 'kafka');
    const [entry] = await readTopic(dlqTopic, 1);
    const parsed = JSON.parse(entry?.value ?? '{}') as {
      sink: string;
      reason: string;
      uid: string;
    };
    assert.equal(parsed.sink, 'opensearch');
    assert.equal(parsed.uid, bad.uid);
    assert.match(parsed.reason, /parsing_exception/);
    // A rejection by Kafka itself goes to the file.
    assert.equal(await deadLetter.write('kafka', result.rejected), 'file');
    const lines = (await readFile(join(dlqDir, 'dead-letter.ndjson'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1);
    await deadLetter.stop();
  });
});
