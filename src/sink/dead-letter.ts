/**
 * Dead-letter destination: where events that a sink rejected for good go, each with the sink,
 * the reason and the time, so nothing permanently rejected disappears silently. Entries go to a
 * Kafka topic; when Kafka is disabled, is the sink that rejected the event, or cannot take the
 * entry, they go to a local append-only NDJSON file (fsynced before `write` resolves).
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

import { Kafka } from 'kafkajs';
import type { Producer } from 'kafkajs';

import { ForwarderError } from '../util/errors.js';
import { ensureTopic, kafkaClientConfig } from './kafka.js';
import type { KafkaConnectionOptions } from './kafka.js';
import type { RejectedEvent, SinkName } from './sink.js';

export interface DeadLetterEntry {
  readonly time: string;
  readonly sink: SinkName;
  readonly reason: string;
  readonly uid: string;
  /** The OCSF event itself (parsed back from its JSON so the entry is one JSON document). */
  readonly event: unknown;
}

export interface DeadLetterWriter {
  start(): Promise<void>;
  /** Resolves once every entry is durably stored somewhere; returns where. */
  write(sink: SinkName, rejected: readonly RejectedEvent[]): Promise<'kafka' | 'file'>;
  stop(): Promise<void>;
}

export interface DeadLetterOptions {
  readonly file: string;
  readonly kafka?: KafkaConnectionOptions & {
    readonly topic: string;
    readonly createTopic: boolean;
  };
  readonly now?: () => Date;
}

export function toDeadLetterEntries(
  sink: SinkName,
  rejected: readonly RejectedEvent[],
  now: Date,
): DeadLetterEntry[] {
  return rejected.map(({ event, reason }) => ({
    time: now.toISOString(),
    sink,
    reason,
    uid: event.uid,
    event: JSON.parse(event.json) as unknown,
  }));
}

export class DeadLetter implements DeadLetterWriter {
  private readonly options: DeadLetterOptions;
  private readonly kafka: Kafka | undefined;
  private producer: Producer | undefined;

  constructor(options: DeadLetterOptions) {
    this.options = options;
    this.kafka =
      options.kafka === undefined ? undefined : new Kafka(kafkaClientConfig(options.kafka));
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.options.file), { recursive: true });
    if (this.kafka === undefined || this.options.kafka === undefined) return;
    await ensureTopic(this.kafka, this.options.kafka.topic, {
      allowed: this.options.kafka.createTopic,
      partitions: 1,
      replicationFactor: 1,
    });
  }

  async write(sink: SinkName, rejected: readonly RejectedEvent[]): Promise<'kafka' | 'file'> {
    const entries = toDeadLetterEntries(sink, rejected, this.options.now?.() ?? new Date());
    if (entries.length === 0) return 'file';
    if (this.kafka !== undefined && this.options.kafka !== undefined && sink !== 'kafka') {
      try {
        this.producer ??= this.kafka.producer({ allowAutoTopicCreation: false });
        await this.producer.connect();
        await this.producer.send({
          topic: this.options.kafka.topic,
          acks: -1,
          messages: entries.map((entry) => ({
            key: entry.uid,
            value: JSON.stringify(entry),
            headers: { 'event-uid': entry.uid, 'dead-letter-sink': entry.sink },
          })),
        });
        return 'kafka';
      } catch {
        // Kafka cannot take it right now: the file below is the destination of last resort.
        const producer = this.producer;
        this.producer = undefined;
        await producer?.disconnect().catch(() => undefined);
      }
    }
    await this.appendToFile(entries);
    return 'file';
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async appendToFile(entries: DeadLetterEntry[]): Promise<void> {
    const text = entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n';
    try {
      await appendFile(this.options.file, text, { encoding: 'utf8', mode: 0o600 });
      const handle = await open(this.options.file, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new ForwarderError(
        'FWD_ERR_SINK',
        `cannot write the dead-letter file ${this.options.file}: check that its directory is ` +
          'writable (deadLetter.file / DLQ_FILE)',
        { cause: error, retryable: true },
      );
    }
  }
}
