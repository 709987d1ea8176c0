/**
 * The dead-letter writer with an injected Kafka client (src/app.ts shares the events sink's
 * client with it): the topic gets one entry per event with its kind, and a topic that refuses
 * the entries sends them to the file. The refusal is injected through the client port;
 * test/integration/sink/dead-letter.test.ts shows a real broker's refusal.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { DeadLetter } from '../../../src/sink/dead-letter.js';
import type { RejectedEvent } from '../../../src/sink/sink.js';
import { event, FakeKafka, kafkaError } from './support/fakes.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dlq-kafka-'));
  dirs.push(dir);
  return join(dir, 'dead-letter.ndjson');
}

const rejected: RejectedEvent[] = [
  { event: event(1), kind: 'mapping_error', detail: 'mapper_parsing_exception: field [time]' },
  { event: event(2), kind: 'too_large', detail: 'bulk 413: too large' },
];

function writer(kafka: FakeKafka, file: string, fallbacks: number[] = []) {
  return new DeadLetter({
    file,
    kafka: { client: kafka, topic: 'dlq', createTopic: true },
    onFallback: (entries) => fallbacks.push(entries),
  });
}

describe('DeadLetter with an injected Kafka client', () => {
  it('creates the topic and writes one entry per event with its kind and reason', async () => {
    const kafka = new FakeKafka();
    const dead = writer(kafka, await tempFile());
    await dead.start();
    assert.deepEqual(kafka.created, ['dlq']);
    assert.equal(await dead.write('opensearch', rejected), 'kafka');
    const entries = kafka.values().map((v) => JSON.parse(v) as Record<string, unknown>);
    assert.deepEqual(
      entries.map((e) => [e.sink, e.uid, e.kind, e.reason]),
      [
        ['opensearch', event(1).uid, 'mapping_error', 'mapper_parsing_exception: field [time]'],
        ['opensearch', event(2).uid, 'too_large', 'bulk 413: too large'],
      ],
    );
    await dead.stop();
  });

  it('falls back to the file when the topic refuses, and for the Kafka sink itself', async () => {
    const kafka = new FakeKafka();
    const file = await tempFile();
    const fallbacks: number[] = [];
    const dead = writer(kafka, file, fallbacks);
    await dead.start();
    kafka.refuse = () => kafkaError('NOT_ENOUGH_REPLICAS');
    assert.equal(await dead.write('opensearch', rejected), 'file');
    assert.deepEqual(fallbacks, [2]);
    kafka.refuse = () => undefined;
    assert.equal(await dead.write('kafka', rejected.slice(0, 1)), 'file');
    assert.equal(kafka.sent.length, 0);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { kind: string }).kind),
      ['mapping_error', 'too_large', 'mapping_error'],
    );
    await dead.stop();
  });
});
