/** Reads a whole topic from the beginning (for end-to-end checks), with a throwaway group. */
import { Kafka, logLevel } from 'kafkajs';

export interface ReadMessage {
  readonly key: string;
  readonly value: string;
  readonly uid: string;
  readonly partition: number;
  readonly offset: bigint;
}

export async function topicEndOffsets(brokers: string[], topic: string): Promise<number> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export async function readTopic(brokers: string[], topic: string): Promise<ReadMessage[]> {
  const expected = await topicEndOffsets(brokers, topic);
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `e2e-reader-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: ReadMessage[] = [];
  // A rebalance can hand out a partition again from its last commit: count each offset once.
  const read = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    if (expected === 0) resolve();
    const timer = setTimeout(
      () => reject(new Error(`read ${messages.length} of ${expected} messages`)),
      120_000,
    );
    consumer
      .run({
        eachBatchAutoResolve: true,
        eachMessage: ({ message, partition }) => {
          const position = `${partition}:${message.offset}`;
          if (read.has(position)) return Promise.resolve();
          read.add(position);
          messages.push({
            key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? '',
            uid: message.headers?.['event-uid']?.toString() ?? '',
            partition,
            offset: BigInt(message.offset),
          });
          if (messages.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return messages;
}
