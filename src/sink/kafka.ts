/**
 * Kafka sink (design §3.4): one message per OCSF event on the events topic, keyed by HSM id so
 * that one HSM's events stay ordered in one partition, with `event-uid`, `ocsf-class-uid` and
 * `ocsf-version` headers. Sends are serialized (one in flight per producer) and chunked by size,
 * `acks=-1`; any send failure recreates the producer and retries the chunk after a backoff, so
 * an outage stalls delivery (and, through backpressure, polling) instead of dropping anything.
 * The one exception is a batch the broker refuses as too large (`max.message.bytes`): it would be
 * refused forever, so the chunk is halved until the offending event stands alone, and only that
 * event is handed back as rejected (it goes to the dead-letter file).
 */
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, Message, Producer, SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';

import { backoffDelay } from '../util/backoff.js';
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import type { ComponentLogger } from '../util/logger.js';
import { noopLogger } from '../util/logger.js';
import { ForwarderError } from '../util/errors.js';
import { OCSF_VERSION } from './outbound-event.js';
import type { OutboundEvent } from './outbound-event.js';
import type { RejectedEvent, Sink, SinkHealthListener, SinkResult } from './sink.js';

export interface KafkaSaslOptions {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** TLS to the brokers; `true` uses the system CAs. */
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: KafkaSaslOptions;
  readonly requestTimeoutMs?: number;
}

export interface KafkaSinkOptions extends KafkaConnectionOptions {
  readonly topic: string;
  /** Create the topic at start-up when it is missing; otherwise a missing topic is an error. */
  readonly createTopic?: boolean;
  readonly topicPartitions?: number;
  readonly topicReplicationFactor?: number;
  readonly compression?: 'none' | 'gzip';
  readonly idempotent?: boolean;
  /** Upper bound of one produce request's payload; the broker default limit is 1 MiB. */
  readonly maxChunkBytes?: number;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
  readonly onHealth?: SinkHealthListener;
}

/** Builds the kafkajs client settings shared by the events sink and the dead-letter writer. */
export function kafkaClientConfig(options: KafkaConnectionOptions): KafkaConfig {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Our own loop owns retries with unbounded backoff; kafkajs retries only briefly first.
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  };
  if (options.ssl !== undefined) config.ssl = options.ssl;
  if (options.sasl !== undefined) {
    const { mechanism, username, password } = options.sasl;
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}

/** Makes sure `topic` exists (creating it only when allowed), with an actionable error otherwise. */
export async function ensureTopic(
  kafka: Kafka,
  topic: string,
  create: { allowed: boolean; partitions: number; replicationFactor: number },
): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (topics.includes(topic)) return;
    if (!create.allowed) {
      throw new ForwarderError(
        'FWD_ERR_SINK',
        `Kafka topic "${topic}" does not exist: create it` +
          (create.partitions > 0 ? ` (e.g. with ${create.partitions} partitions)` : '') +
          ' or set kafka.createTopic=true (KAFKA_CREATE_TOPIC=true) to let the forwarder create it',
      );
    }
    try {
      await admin.createTopics({
        topics: [
          { topic, numPartitions: create.partitions, replicationFactor: create.replicationFactor },
        ],
        waitForLeaders: true,
      });
    } catch (error) {
      throw topicCreationError(topic, create, error);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Names the topic, the requested layout and the broker's reasons (kafkajs aggregates them). */
function topicCreationError(
  topic: string,
  create: { partitions: number; replicationFactor: number },
  error: unknown,
): ForwarderError {
  const { errors } = error as { errors?: unknown };
  const reasons = (Array.isArray(errors) ? errors : [error]).map((e: unknown) => {
    const { type, message } = e as { type?: unknown; message?: unknown };
    return typeof type === 'string' ? `${type}: ${String(message)}` : String(e);
  });
  const layout = (value: number, what: string): string =>
    value > 0 ? `${what} ${value}` : `the broker default ${what}`;
  return new ForwarderError(
    'FWD_ERR_SINK',
    `cannot create Kafka topic "${topic}" with ${layout(create.partitions, 'partitions')} and ` +
      `${layout(create.replicationFactor, 'replication factor')} (${reasons.join('; ')}): fix ` +
      'the partitions/replication factor settings or create the topic yourself',
    { cause: error },
  );
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The Kafka error type when the broker refused the batch for its size (kafkajs wraps it). */
function tooLargeError(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { type, cause } = current as { type?: unknown; cause?: unknown };
    if (typeof type === 'string' && TOO_LARGE.has(type)) return type;
    current = cause;
  }
  return undefined;
}

function toMessage(event: OutboundEvent): Message {
  return {
    key: event.key,
    value: event.json,
    headers: {
      'event-uid': event.uid,
      'ocsf-class-uid': String(event.classUid),
      'ocsf-version': OCSF_VERSION,
    },
  };
}

/** Splits events into consecutive chunks of at most `maxBytes` payload, keeping their order. */
export function chunkBySize(events: readonly OutboundEvent[], maxBytes: number): OutboundEvent[][] {
  const chunks: OutboundEvent[][] = [];
  let current: OutboundEvent[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = event.json.length + event.uid.length + event.key.length + 64;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(event);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class KafkaSink implements Sink {
  readonly name = 'kafka' as const;
  private readonly options: KafkaSinkOptions;
  private readonly kafka: Kafka;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private producer: Producer | undefined;
  /** Serializes sends: kafkajs's idempotent producer is only safe with one send in flight. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: KafkaSinkOptions) {
    this.options = options;
    this.kafka = new Kafka(kafkaClientConfig(options));
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  async start(): Promise<void> {
    await ensureTopic(this.kafka, this.options.topic, {
      allowed: this.options.createTopic ?? false,
      partitions: this.options.topicPartitions ?? 3,
      replicationFactor: this.options.topicReplicationFactor ?? 1,
    });
    await this.connectedProducer();
    this.options.onHealth?.('kafka', true);
  }

  deliver(events: readonly OutboundEvent[], signal: AbortSignal): Promise<SinkResult> {
    const run = this.queue.then(() => this.deliverNow(events, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async ping(): Promise<boolean> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    await this.queue;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private async deliverNow(
    events: readonly OutboundEvent[],
    signal: AbortSignal,
  ): Promise<SinkResult> {
    const rejected: RejectedEvent[] = [];
    for (const chunk of chunkBySize(events, this.options.maxChunkBytes ?? 900_000)) {
      rejected.push(...(await this.sendWithRetry(chunk, signal)));
    }
    return { delivered: events.length - rejected.length, duplicates: 0, rejected };
  }

  /** Sends a chunk until it is accepted; returns the events the topic refuses as too large. */
  private async sendWithRetry(
    chunk: OutboundEvent[],
    signal: AbortSignal,
  ): Promise<RejectedEvent[]> {
    for (let attempt = 0; ; attempt += 1) {
      if (signal.aborted) throw signal.reason;
      try {
        const producer = await this.connectedProducer();
        await producer.send({
          topic: this.options.topic,
          acks: -1,
          compression:
            this.options.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
          messages: chunk.map(toMessage),
        });
        if (attempt > 0) this.options.onHealth?.('kafka', true);
        return [];
      } catch (error) {
        if (isAbortError(error)) throw error;
        const tooLarge = tooLargeError(error);
        // A failed idempotent producer may hold a stale producer id or sequence: start afresh.
        await this.resetProducer();
        if (tooLarge !== undefined) return this.splitTooLarge(chunk, tooLarge, signal);
        const message = error instanceof Error ? error.message : String(error);
        this.options.onHealth?.('kafka', false, message);
        this.logger.warn(
          { err: error, attempt, events: chunk.length },
          'kafka send failed; retrying',
        );
        await this.clock.sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }), signal);
      }
    }
  }

  // The broker refuses a batch above the topic's max.message.bytes, and would refuse it again
  // forever: halve the chunk (in order) until the event that is too large on its own stands alone.
  private async splitTooLarge(
    chunk: OutboundEvent[],
    type: string,
    signal: AbortSignal,
  ): Promise<RejectedEvent[]> {
    const alone = chunk.length === 1 ? chunk[0] : undefined;
    if (alone !== undefined) {
      this.logger.error(
        { uid: alone.uid, bytes: alone.json.length },
        "event larger than the topic's max.message.bytes; dead-lettering it",
      );
      const reason = `kafka ${type}: the event alone (${alone.json.length} bytes of JSON) exceeds the topic's max.message.bytes`;
      return [{ event: alone, reason }];
    }
    const half = Math.ceil(chunk.length / 2);
    const first = await this.sendWithRetry(chunk.slice(0, half), signal);
    const second = await this.sendWithRetry(chunk.slice(half), signal);
    return [...first, ...second];
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer !== undefined) return this.producer;
    const idempotent = this.options.idempotent ?? true;
    const producer = this.kafka.producer({
      idempotent,
      maxInFlightRequests: idempotent ? 1 : 5,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }
}
