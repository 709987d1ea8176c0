/**
 * The Kafka sink's own logic with an injected client (src/app.ts builds the real one): chunking,
 * the retry classification and the halving. Broker faults are injected through the client port
 * because a real broker cannot be made to fail one chunk on demand; test/integration/sink covers
 * the real broker (topic check, headers, ordering, a real max.message.bytes refusal).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KafkaSink } from '../../../src/sink/kafka.js';
import { event, FakeKafka, kafkaError, recordingClock } from './support/fakes.js';

const signal = new AbortController().signal;

function sink(kafka: FakeKafka, extra: { maxChunkBytes?: number; createTopic?: boolean } = {}) {
  const health: boolean[] = [];
  const built = new KafkaSink({
    client: kafka,
    topic: 'events',
    clock: recordingClock(),
    onHealth: (_name, up) => health.push(up),
    ...extra,
  });
  return { sink: built, health };
}

describe('KafkaSink with an injected client', () => {
  it('checks the topic through the injected client and refuses a missing one', async () => {
    const kafka = new FakeKafka();
    await assert.rejects(sink(kafka).sink.start(), /Kafka topic "events" does not exist/);
    await sink(kafka, { createTopic: true }).sink.start();
    assert.deepEqual(kafka.created, ['events']);
  });

  it('sends keyed events in order, in chunks within maxChunkBytes', async () => {
    const kafka = new FakeKafka();
    kafka.topics.add('events');
    const { sink: kafkaSink } = sink(kafka, { maxChunkBytes: 1000 });
    const events = Array.from({ length: 20 }, (_, i) => event(i, 100));
    const result = await kafkaSink.deliver(events, signal);
    assert.deepEqual(result, { delivered: 20, duplicates: 0, rejected: [] });
    assert.ok(kafka.sent.length > 1, 'more than one chunk');
    assert.deepEqual(
      kafka.values(),
      events.map((e) => e.json),
    );
    const [first] = kafka.sent[0]?.messages ?? [];
    assert.equal(first?.key, 'hsm-aaaaaaaaaaa');
    assert.deepEqual(first?.headers, {
      'event-uid': events[0]?.uid,
      'ocsf-class-uid': '3002',
      'ocsf-version': '1.1.0',
    });
  });

  it('retries a failed chunk with a fresh producer until the broker takes it', async () => {
    const kafka = new FakeKafka();
    let failures = 2;
    kafka.refuse = () => (failures-- > 0 ? kafkaError('NOT_ENOUGH_REPLICAS') : undefined);
    const { sink: kafkaSink, health } = sink(kafka);
    const result = await kafkaSink.deliver([event(1), event(2)], signal);
    assert.deepEqual(result, { delivered: 2, duplicates: 0, rejected: [] });
    assert.equal(kafka.producers, 3, 'a failed producer is replaced');
    assert.deepEqual(health, [false, false, true]);
  });

  it('halves a chunk refused as too large and rejects only the event too large alone', async () => {
    const kafka = new FakeKafka();
    const big = event(3, 5000);
    kafka.refuse = (record) =>
      record.messages.some((m) => m.value === big.json)
        ? kafkaError('MESSAGE_TOO_LARGE')
        : undefined;
    const events = [event(0), event(1), event(2), big, event(4), event(5)];
    const result = await sink(kafka).sink.deliver(events, signal);
    assert.equal(result.delivered, 5);
    assert.deepEqual(
      result.rejected.map((r) => [r.event.uid, r.kind]),
      [[big.uid, 'too_large']],
    );
    assert.match(
      result.rejected[0]?.detail ?? '',
      /^kafka MESSAGE_TOO_LARGE: .*max\.message\.bytes/,
    );
    assert.deepEqual(
      kafka.values(),
      events.filter((e) => e !== big).map((e) => e.json),
    );
  });

  it('stops retrying when aborted', async () => {
    const kafka = new FakeKafka();
    const controller = new AbortController();
    kafka.refuse = () => {
      controller.abort(new Error('shutdown'));
      return kafkaError('LEADER_NOT_AVAILABLE');
    };
    await assert.rejects(sink(kafka).sink.deliver([event(1)], controller.signal), /shutdown/);
  });
});
