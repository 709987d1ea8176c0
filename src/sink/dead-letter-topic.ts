/**
 * Reading the dead-letter topic back, for `dead-letter list|replay --from-topic`: every message
 * from the beginning up to the end offsets of when the read starts (entries added meanwhile wait
 * for the next run). Through a consumer group of its own that commits nothing, so each run reads
 * the whole topic; what was replayed is in the replay ledger, as for the file.
 */
import type { Kafka } from 'kafkajs';

import { ForwarderError } from '../util/errors.js';
import { parseDeadLetters } from './dead-letter-file.js';
import type { DeadLetterFile } from './dead-letter-file.js';

export async function readDeadLetterTopic(
  kafka: Kafka,
  topic: string,
  groupId: string,
  timeoutMs = 120_000,
): Promise<DeadLetterFile> {
  const admin = kafka.admin();
  let ends: Map<number, bigint>;
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(
      offsets
        .filter((p) => BigInt(p.high) > BigInt(p.low))
        .map((p) => [p.partition, BigInt(p.high)]),
    );
  } catch (error) {
    throw new ForwarderError(
      'FWD_ERR_SINK',
      `cannot read the offsets of the dead-letter topic ${topic} (deadLetter.topic): ${String(error)}`,
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (ends.size === 0) return { entries: [], unreadable: 0 };

  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const values: string[] = [];
  // A rebalance can hand a partition out again: each offset counts once.
  const seen = new Set<string>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new ForwarderError(
              'FWD_ERR_SINK',
              `read ${values.length} messages of the dead-letter topic ${topic} in ${timeoutMs / 1000} s, not all of them`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            const end = ends.get(partition);
            const offset = BigInt(message.offset);
            if (end !== undefined && offset < end && !seen.has(`${partition}:${offset}`)) {
              seen.add(`${partition}:${offset}`);
              values.push(message.value?.toString('utf8') ?? '');
              if (offset === end - 1n) ends.delete(partition);
              if (ends.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            }
            return Promise.resolve();
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return parseDeadLetters(values);
}
