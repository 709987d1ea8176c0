/**
 * Small fakes of the clients the sinks are given, for unit tests of the sinks' own logic
 * (chunking, retry classification, halving). The integration tests use the real services.
 */
import type { ProducerRecord } from 'kafkajs';

import type {
  KafkaAdminPort,
  KafkaClientPort,
  KafkaProducerPort,
} from '../../../../src/sink/kafka-client.js';
import type { OpenSearchClientPort } from '../../../../src/sink/opensearch.js';
import type { OutboundEvent } from '../../../../src/sink/outbound-event.js';
import type { Clock } from '../../../../src/util/clock.js';

export const DAY = Date.UTC(2026, 10, 23, 12);

export function event(i: number, size = 0): OutboundEvent {
  const uid = `hsm-aaaaaaaaaaa:0x1:0x${i.toString(16)}`;
  const doc = { time: DAY + i, metadata: { uid }, padding: 'x'.repeat(size) };
  return { uid, key: 'hsm-aaaaaaaaaaa', time: DAY + i, classUid: 3002, json: JSON.stringify(doc) };
}

/** A clock whose sleeps return at once and are recorded (the backoff asked for, in order). */
export function recordingClock(): Clock & { readonly sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => DAY,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
      return Promise.resolve();
    },
  };
}

/** An error shaped like kafkajs's (a `type` on the error or its cause). */
export function kafkaError(type: string): Error {
  return Object.assign(new Error(`broker said ${type}`), { type });
}

/**
 * A Kafka client whose producers store what they are sent. `refuse` decides per send: an error
 * to throw, or undefined to accept.
 */
export class FakeKafka implements KafkaClientPort {
  readonly topics = new Set<string>();
  readonly sent: ProducerRecord[] = [];
  readonly created: string[] = [];
  producers = 0;
  disconnects = 0;
  refuse: (record: ProducerRecord) => Error | undefined = () => undefined;

  producer(): KafkaProducerPort {
    this.producers += 1;
    return {
      connect: () => Promise.resolve(),
      send: (record) => {
        const error = this.refuse(record);
        if (error !== undefined) return Promise.reject(error);
        this.sent.push(record);
        return Promise.resolve([]);
      },
      disconnect: () => {
        this.disconnects += 1;
        return Promise.resolve();
      },
    };
  }

  admin(): KafkaAdminPort {
    return {
      connect: () => Promise.resolve(),
      listTopics: () => Promise.resolve([...this.topics]),
      createTopics: ({ topics }) => {
        for (const { topic } of topics) {
          this.topics.add(topic);
          this.created.push(topic);
        }
        return Promise.resolve(true);
      },
      describeCluster: () => Promise.resolve({}),
      disconnect: () => Promise.resolve(),
    };
  }

  /** Every message value sent, in order. */
  values(): string[] {
    return this.sent.flatMap((record) => record.messages.map((m) => String(m.value)));
  }
}

interface BulkLine {
  readonly index: string;
  readonly uid: string;
  readonly json: string;
}

/** Item answer of the fake bulk endpoint. */
export type ItemAnswer = { status: number; error?: { type: string; reason: string } };

/**
 * An OpenSearch client whose `_bulk` answers per request (`whole`: a status that refuses the
 * whole request) or per item (`item`). Every request's lines are recorded.
 */
export class FakeOpenSearch implements OpenSearchClientPort {
  readonly requests: BulkLine[][] = [];
  whole: (lines: readonly BulkLine[]) => number | undefined = () => undefined;
  item: (line: BulkLine, attempt: number) => ItemAnswer = () => ({ status: 201 });
  readonly indices = {
    getIndexTemplate: () =>
      Promise.reject(Object.assign(new Error('not found'), { meta: { statusCode: 404 } })),
    putIndexTemplate: () => Promise.resolve({}),
  };
  private readonly attempts = new Map<string, number>();

  bulk(params: { body: never }): Promise<{ body: { items: { create: ItemAnswer }[] } }> {
    const body = params.body as string[];
    const lines: BulkLine[] = [];
    for (let i = 0; i < body.length; i += 2) {
      const action = JSON.parse(body[i] ?? '{}') as { create: { _index: string; _id: string } };
      lines.push({ index: action.create._index, uid: action.create._id, json: body[i + 1] ?? '' });
    }
    this.requests.push(lines);
    const status = this.whole(lines);
    if (status !== undefined) {
      const error = Object.assign(new Error(`Response Error ${status}`), {
        meta: { statusCode: status },
      });
      return Promise.reject(error);
    }
    const items = lines.map((line) => {
      const attempt = this.attempts.get(line.uid) ?? 0;
      this.attempts.set(line.uid, attempt + 1);
      return { create: this.item(line, attempt) };
    });
    return Promise.resolve({ body: { items } });
  }

  ping(): Promise<unknown> {
    return Promise.resolve({});
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
