/**
 * Dead-letter destination: where events that a sink rejected for good go, each with the sink,
 * the reason and the time, so nothing permanently rejected disappears silently. Entries go to a
 * Kafka topic; when Kafka is disabled, is the sink that rejected the event, or cannot take the
 * entry, they go to a local append-only NDJSON file (fsynced before `write` resolves). A fall-back
 * from the topic to the file is logged and reported, since it usually means a misconfigured topic.
 */
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import { ForwarderError } from '../util/errors.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import { ensureTopic } from './kafka-client.js';
import type { KafkaClientPort, KafkaProducerPort } from './kafka-client.js';
import { startUpStep } from './start-up-error.js';
import type { RejectedEvent, RejectionKind, SinkName } from './sink.js';

export interface DeadLetterEntry {
  readonly time: string;
  readonly sink: SinkName;
  /** What kind of refusal it was (the metric's `reason` label). */
  readonly kind: RejectionKind;
  /** The destination's own words. */
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
  readonly kafka?: {
    /** Built by the composition root (src/app.ts), shared with the events sink. */
    readonly client: KafkaClientPort;
    /** The configured brokers, for start-up errors. */
    readonly endpoint?: string;
    readonly topic: string;
    readonly createTopic: boolean;
    /** Of a topic created here; -1 or omitted: the broker default. */
    readonly topicPartitions?: number;
    /** Of a topic created here; -1 or omitted: the broker default. */
    readonly topicReplicationFactor?: number;
  };
  readonly now?: () => Date;
  readonly logger?: ComponentLogger;
  /** Called with the number of entries that went to the file because the topic refused them. */
  readonly onFallback?: (entries: number) => void;
}

export function toDeadLetterEntries(
  sink: SinkName,
  rejected: readonly RejectedEvent[],
  now: Date,
): DeadLetterEntry[] {
  return rejected.map(({ event, kind, detail }) => ({
    time: now.toISOString(),
    sink,
    kind,
    reason: detail,
    uid: event.uid,
    event: JSON.parse(event.json) as unknown,
  }));
}

export class DeadLetter implements DeadLetterWriter {
  private readonly options: DeadLetterOptions;
  private readonly logger: ComponentLogger;
  private producer: KafkaProducerPort | undefined;

  constructor(options: DeadLetterOptions) {
    this.options = options;
    this.logger = options.logger ?? noopLogger;
  }

  async start(): Promise<void> {
    await this.prepareDirectory();
    const kafka = this.options.kafka;
    if (kafka === undefined) return;
    // Broker defaults unless configured: a hard-coded replication factor of 1 cannot take
    // acks=all writes on a cluster with min.insync.replicas=2 (MSK), so every entry fell back.
    const at = { sink: 'dead-letter topic' as const, endpoint: kafka.endpoint ?? 'kafka.brokers' };
    await startUpStep({ ...at, step: `checking topic ${kafka.topic}` }, () =>
      ensureTopic(kafka.client, kafka.topic, {
        allowed: kafka.createTopic,
        partitions: kafka.topicPartitions ?? -1,
        replicationFactor: kafka.topicReplicationFactor ?? -1,
      }),
    );
  }

  async write(sink: SinkName, rejected: readonly RejectedEvent[]): Promise<'kafka' | 'file'> {
    const entries = toDeadLetterEntries(sink, rejected, this.options.now?.() ?? new Date());
    if (entries.length === 0) return 'file';
    const kafka = this.options.kafka;
    if (kafka !== undefined && sink !== 'kafka') {
      try {
        this.producer ??= kafka.client.producer({ allowAutoTopicCreation: false });
        await this.producer.connect();
        await this.producer.send({
          topic: kafka.topic,
          acks: -1,
          messages: entries.map((entry) => ({
            key: entry.uid,
            value: JSON.stringify(entry),
            headers: { 'event-uid': entry.uid, 'dead-letter-sink': entry.sink },
          })),
        });
        return 'kafka';
      } catch (error) {
        // Kafka cannot take it right now: the file below is the destination of last resort.
        const producer = this.producer;
        this.producer = undefined;
        await producer?.disconnect().catch(() => undefined);
        await this.appendToFile(entries);
        this.logger.error(
          {
            err: error,
            topic: kafka.topic,
            file: this.options.file,
            entries: entries.length,
          },
          'the dead-letter topic refused the entries; they went to the dead-letter file. Check ' +
            'that the topic exists and accepts them: replication factor against ' +
            'min.insync.replicas (acks=all), max.message.bytes, ACLs',
        );
        this.options.onFallback?.(entries.length);
        return 'file';
      }
    }
    await this.appendToFile(entries);
    return 'file';
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }

  /**
   * Creates the file's directory if needed and makes the new entries durable: a directory entry
   * lives in its parent's data, so each created level's parent is fsynced.
   */
  private async prepareDirectory(): Promise<void> {
    const dir = dirname(this.options.file);
    try {
      const first = await mkdir(dir, { recursive: true });
      if (first === undefined) return;
      for (let created = dir; ; created = dirname(created)) {
        await syncDirectory(dirname(created));
        if (created === first) break;
      }
    } catch (error) {
      throw fileError(this.options.file, error);
    }
  }

  /**
   * Appends whole lines. A previous append cut short (a crash, a full disk) can have left a
   * partial last line; it is cut off first, so the new entries start on a clean line. Nothing is
   * lost by that: the entry of a failed append is written again by the retry (or, after a crash,
   * by the re-read of its unacknowledged batch).
   */
  private async appendToFile(entries: DeadLetterEntry[]): Promise<void> {
    const text = entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n';
    const file = this.options.file;
    try {
      const handle = await open(file, 'a+', 0o600);
      let created = false;
      try {
        const { size } = await handle.stat();
        created = size === 0;
        const clean = await cleanLength(handle, size);
        if (clean < size) {
          await handle.truncate(clean);
          this.logger.warn(
            { file, removedBytes: size - clean },
            'removed a partial last line of the dead-letter file left by an interrupted append',
          );
        }
        await handle.appendFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      // A new file is only durable once its directory entry is.
      if (created) await syncDirectory(dirname(file));
    } catch (error) {
      throw fileError(file, error);
    }
  }
}

/** Length of the file without a trailing partial line (the position after its last newline). */
async function cleanLength(handle: FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size;
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function fileError(file: string, cause: unknown): ForwarderError {
  return new ForwarderError(
    'FWD_ERR_SINK',
    `cannot write the dead-letter file ${file}: check that its directory is writable and has ` +
      'space (deadLetter.file / DEAD_LETTER_FILE)',
    { cause, retryable: true },
  );
}
