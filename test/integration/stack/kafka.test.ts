import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';

import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

describe('Kafka broker of the local stack, through kafkajs', () => {
  const env = stackEnv();
  const kafka = new Kafka({
    clientId: 'stack-test',
    brokers: env.kafkaBrokers,
    logLevel: logLevel.WARN,
  });
  const topic = `stack-test-${uniqueSuffix()}`;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  before(async () => {
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    assert.equal(created, true);
  });

  after(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('produces a keyed batch with headers (acks=-1, idempotent) and a consumer group reads it all', async () => {
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const count = 200;
    const messages = Array.from({ length: count }, (_, i) => ({
      key: `hsm-${i % 4}`,
      value: JSON.stringify({ n: i }),
      headers: { 'event-uid': `uid-${i}` },
    }));
    const results = await producer.send({ topic, acks: -1, messages });
    assert.ok(results.length > 0);
    assert.ok(results.every((r) => r.errorCode === 0));

    consumer = kafka.consumer({ groupId: `group-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, number[]>();
    await new Promise<void>((resolve, reject) => {
      let total = 0;
      const timer = setTimeout(
        () => reject(new Error(`only ${total} of ${count} messages arrived`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: ({ message }) => {
            const key = message.key?.toString() ?? '';
            const uid = message.headers?.['event-uid']?.toString() ?? '';
            const n = (JSON.parse(message.value?.toString() ?? '{}') as { n: number }).n;
            assert.equal(uid, `uid-${n}`);
            seen.set(key, [...(seen.get(key) ?? []), n]);
            total += 1;
            if (total === count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    assert.equal([...seen.values()].flat().length, count);
    // One key lands in one partition, so its messages stay in production order.
    for (const [key, ns] of seen) {
      assert.deepEqual(
        ns,
        [...ns].sort((a, b) => a - b),
        `order of ${key}`,
      );
    }
    // The consumer group committed its offsets: the broker's group coordinator works.
    const offsets = await admin.fetchOffsets({ groupId: `group-${topic}`, topics: [topic] });
    await consumer.stop();
    const committed = offsets[0]?.partitions.reduce(
      (sum, p) => sum + Math.max(0, Number(p.offset)),
      0,
    );
    assert.ok(committed !== undefined && committed >= 0);
  });
});
