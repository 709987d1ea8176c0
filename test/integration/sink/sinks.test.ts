import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Kafka, logLevel } from 'kafkajs';

import { DeadLetter } from '../../../src/sink/dead-letter.js';
import { createKafkaClient } from '../../../src/sink/kafka-client.js';
import { KafkaSink } from '../../../src/sink/kafka.js';
import { createOpenSearchClient } from '../../../src/sink/opensearch-client.js';
import { dailyIndex } from '../../../src/sink/opensearch-template.js';
import { OpenSearchSink } from '../../../src/sink/opensearch.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import { startHttpGate } from '../support/http-gate.js';
import type { HttpGate } from '../support/http-gate.js';
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
    client: createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'sink-test' }),
    topic,
    createTopic: true,
    topicPartitions: 3,
    compression: 'gzip',
    maxChunkBytes: 10_000,
  });
  after(() => sink.stop());

  it('refuses to start on a missing topic unless allowed to create it', async () => {
    const strict = new KafkaSink({
      client: createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'sink-test' }),
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

describe('Kafka sink on a topic with a small max.message.bytes', () => {
  const topic = `sink-small-${uniqueSuffix()}`;
  const sink = new KafkaSink({
    client: createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'sink-test' }),
    topic,
    compression: 'none',
  });
  after(() => sink.stop());

  // Before the split, a refused batch was retried forever: the timeout turns that into a failure.
  it(
    'halves a batch the broker refuses as too large and rejects only the event too large alone',
    { timeout: 60_000 },
    async () => {
      const admin = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: 1,
            configEntries: [{ name: 'max.message.bytes', value: '20000' }],
          },
        ],
      });
      await admin.disconnect();
      await sink.start();

      const small = Array.from({ length: 40 }, (_, i) => event(i));
      const base = event(40);
      const padded = { ...(JSON.parse(base.json) as object), padding: 'x'.repeat(30_000) };
      const big: OutboundEvent = { ...base, json: JSON.stringify(padded) };
      const result = await sink.deliver(
        [...small.slice(0, 20), big, ...small.slice(20)],
        new AbortController().signal,
      );
      assert.equal(result.delivered, 40);
      assert.deepEqual(
        result.rejected.map((r) => r.event.uid),
        [big.uid],
      );
      assert.equal(result.rejected[0]?.kind, 'too_large');
      assert.match(
        result.rejected[0]?.detail ?? '',
        /^kafka MESSAGE_TOO_LARGE: .*max\.message\.bytes/,
      );

      // A refused batch writes nothing, so every other event is on the topic once, in order.
      const got = await readTopic(topic, 40);
      const sequence = got.map(
        (m) => (JSON.parse(m.value) as { metadata: { sequence: number } }).metadata.sequence,
      );
      assert.deepEqual(
        sequence,
        small.map((_, i) => i),
      );
    },
  );
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
    assert.equal(result.rejected[0]?.kind, 'mapping_error');
    assert.match(
      result.rejected[0]?.detail ?? '',
      /mapper_parsing_exception|document_parsing_exception/,
    );

    // The dead-letter topic receives it with the reason; the file is the fallback.
    const dlqTopic = `dlq-test-${uniqueSuffix()}`;
    const deadLetter = new DeadLetter({
      file: join(dlqDir, 'dead-letter.ndjson'),
      kafka: {
        client: createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'dlq-test' }),
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

describe('OpenSearch sink when the node refuses whole requests', () => {
  const prefix = `sink-gate-${uniqueSuffix()}`;
  const direct = createOpenSearchClient({ url: env.opensearchUrl });
  const health: Array<{ up: boolean; detail: string | undefined }> = [];
  let gate: HttpGate;
  let sink: OpenSearchSink;

  before(async () => {
    gate = await startHttpGate(env.opensearchUrl, () => undefined);
    sink = new OpenSearchSink({
      client: createOpenSearchClient({ url: gate.url }),
      indexPrefix: prefix,
      onHealth: (_name, up, detail) => health.push({ up, detail }),
    });
    await sink.start();
  });

  after(async () => {
    await direct.indices.delete({ index: `${prefix}-*` });
    await direct.indices.deleteIndexTemplate({ name: `${prefix}-template` });
    await sink.stop();
    await direct.close();
    await gate.close();
  });

  it('halves a request refused as too large and rejects only the event too large alone', async () => {
    const limit = 16_384; // a proxy or node http.max_content_length far below the bulk size
    gate.rule = (req, body) =>
      req.url?.includes('_bulk') === true && body.length > limit ? 413 : undefined;
    const small = Array.from({ length: 80 }, (_, i) => event(1000 + i));
    const base = event(2000);
    const padded = { ...(JSON.parse(base.json) as object), padding: 'x'.repeat(20_000) };
    const big: OutboundEvent = { ...base, json: JSON.stringify(padded) };

    const result = await sink.deliver(
      [...small.slice(0, 40), big, ...small.slice(40)],
      new AbortController().signal,
    );
    assert.equal(result.delivered, 80);
    assert.equal(result.duplicates, 0);
    assert.deepEqual(
      result.rejected.map((r) => r.event.uid),
      [big.uid],
    );
    assert.equal(result.rejected[0]?.kind, 'too_large');
    assert.match(result.rejected[0]?.detail ?? '', /^bulk 413: .*http\.max_content_length/);
    assert.ok((gate.refused.get(413) ?? 0) >= 2, 'the whole request was refused first');

    const index = dailyIndex(prefix, DAY);
    await direct.indices.refresh({ index });
    assert.equal((await direct.count({ index })).body.count, 80);
  });

  it('stalls on 403 instead of dead-lettering, and delivers everything once access is back', async () => {
    gate.rule = (req) => (req.url?.includes('_bulk') === true ? 403 : undefined);
    health.length = 0;
    const events = Array.from({ length: 30 }, (_, i) => event(3000 + i));
    let settled = false;
    const pending = sink.deliver(events, new AbortController().signal).finally(() => {
      settled = true;
    });
    const deadline = Date.now() + 20_000;
    while ((gate.refused.get(403) ?? 0) < 3) {
      assert.ok(Date.now() < deadline, 'the sink stopped retrying');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(settled, false, 'deliver must not give up on a permission error');
    assert.ok(health.some((h) => !h.up && /403|gate_refusal/.test(h.detail ?? '')));

    gate.rule = () => undefined; // permissions fixed
    const result = await pending;
    assert.deepEqual(result, { delivered: 30, duplicates: 0, rejected: [] });
    assert.equal(health.at(-1)?.up, true);
  });
});
