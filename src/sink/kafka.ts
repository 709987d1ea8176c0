/**
 * Kafka sink (README "Delivery"): one message per OCSF event on the events topic, keyed by HSM id so
 * that one HSM's events stay ordered in one partition, with `event-uid`, `ocsf-class-uid` and
 * `ocsf-version` headers. Sends are serialized (one in flight per producer) and chunked by size,
 * `acks=-1`; any send failure recreates the producer and retries the chunk after a backoff, so
 * an outage stalls delivery (and, through backpressure, polling) instead of dropping anything.
 * The one exception is a batch the broker refuses as too large (`max.message.bytes`): it would be
 * refused forever, so the chunk is halved until the offending event stands alone, and only that
 * event is handed back as rejected (it goes to the dead-letter file).
 */
import { CompressionTypes } from 'kafkajs';
import type { Message } from 'kafkajs';

import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import type { ComponentLogger } from '../util/logger.js';
import { noopLogger } from '../util/logger.js';
import { RETRY_BACKOFF, retryUntilDone } from '../util/retry.js';
import type { RetryAction } from '../util/retry.js';
import { addResults, chunkBySize, EMPTY_RESULT, halveUntilAlone } from './chunking.js';
import { ensureTopic } from './kafka-client.js';
import { startUpStep } from './start-up-error.js';
import type { KafkaClientPort, KafkaProducerPort } from './kafka-client.js';
import { OCSF_VERSION } from '../util/identity.js';
import type { OutboundEvent } from './outbound-event.js';
import type { Sink, SinkHealthListener, SinkRetryListener, SinkResult } from './sink.js';

export interface KafkaSinkOptions {
  /** Built by the composition root (src/app.ts), shared with the dead-letter writer. */
  readonly client: KafkaClientPort;
  /** The configured brokers, for start-up errors. */
  readonly endpoint?: string;
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
  /** Told of every retried attempt, with why it failed. */
  readonly onRetry?: SinkRetryListener;
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

/** An event's share of a produce request: value, key, the uid header and the framing. */
function messageBytes(event: OutboundEvent): number {
  return event.json.length + event.uid.length + event.key.length + 64;
}

export class KafkaSink implements Sink {
  readonly name = 'kafka' as const;
  private readonly options: KafkaSinkOptions;
  private readonly client: KafkaClientPort;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private producer: KafkaProducerPort | undefined;
  /** Serializes sends: kafkajs's idempotent producer is only safe with one send in flight. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: KafkaSinkOptions) {
    this.options = options;
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  async start(): Promise<void> {
    const at = { sink: 'kafka' as const, endpoint: this.options.endpoint ?? 'kafka.brokers' };
    await startUpStep({ ...at, step: `checking topic ${this.options.topic}` }, () =>
      ensureTopic(this.client, this.options.topic, {
        allowed: this.options.createTopic ?? false,
        partitions: this.options.topicPartitions ?? 3,
        replicationFactor: this.options.topicReplicationFactor ?? 1,
      }),
    );
    await startUpStep({ ...at, step: 'connecting the producer' }, () => this.connectedProducer());
    this.options.onHealth?.('kafka', true);
  }

  deliver(events: readonly OutboundEvent[], signal: AbortSignal): Promise<SinkResult> {
    const run = this.queue.then(() => this.deliverNow(events, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async ping(): Promise<boolean> {
    const admin = this.client.admin({ retry: { retries: 0 } });
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
    let result = EMPTY_RESULT;
    const chunks = chunkBySize(events, {
      maxBytes: this.options.maxChunkBytes ?? 900_000,
      sizeOf: messageBytes,
    });
    for (const chunk of chunks) result = addResults(result, await this.sendChunk(chunk, signal));
    return result;
  }

  /**
   * Sends a chunk until it is accepted. The broker refuses a batch above the topic's
   * max.message.bytes, and would refuse it again forever: the chunk is halved until the event
   * that is too large on its own stands alone, and only that one is rejected.
   */
  private async sendChunk(
    chunk: readonly OutboundEvent[],
    signal: AbortSignal,
  ): Promise<SinkResult> {
    const end = await retryUntilDone(chunk, (work, attempt) => this.attempt(work, attempt), {
      backoff: RETRY_BACKOFF.sink,
      clock: this.clock,
      signal,
    });
    if (end.kind === 'success') return end.value;
    const type = end.value;
    return halveUntilAlone(
      end.work,
      (part) => this.sendChunk(part, signal),
      (alone) => {
        this.logger.error(
          { uid: alone.uid, bytes: alone.json.length },
          "event larger than the topic's max.message.bytes; dead-lettering it",
        );
        const detail = `kafka ${type}: the event alone (${alone.json.length} bytes of JSON) exceeds the topic's max.message.bytes`;
        return { event: alone, kind: 'too_large', detail };
      },
    );
  }

  /** One send, classified: success, too large (reject, with the Kafka error type), or retry. */
  private async attempt(
    chunk: readonly OutboundEvent[],
    attempt: number,
  ): Promise<RetryAction<readonly OutboundEvent[], SinkResult, string>> {
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
      return { kind: 'success', value: { ...EMPTY_RESULT, delivered: chunk.length } };
    } catch (error) {
      if (isAbortError(error)) throw error;
      const tooLarge = tooLargeError(error);
      // A failed idempotent producer may hold a stale producer id or sequence: start afresh.
      await this.resetProducer();
      if (tooLarge !== undefined) return { kind: 'reject', value: tooLarge };
      const message = error instanceof Error ? error.message : String(error);
      this.options.onHealth?.('kafka', false, message);
      this.options.onRetry?.('kafka', message);
      this.logger.warn(
        { err: error, attempt, events: chunk.length },
        'kafka send failed; retrying',
      );
      return { kind: 'retry' };
    }
  }

  private async connectedProducer(): Promise<KafkaProducerPort> {
    if (this.producer !== undefined) return this.producer;
    const idempotent = this.options.idempotent ?? true;
    const producer = this.client.producer({
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
