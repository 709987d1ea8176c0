/**
 * The Kafka client, built once by the composition root and shared by the events sink and the
 * dead-letter writer, and the narrow ports of it they use (kafkajs's `Kafka`, `Producer` and
 * `Admin` fit them; unit tests use small fakes).
 */
import { Kafka, logLevel } from 'kafkajs';
import type {
  AdminConfig,
  ITopicConfig,
  KafkaConfig,
  ProducerConfig,
  ProducerRecord,
  RecordMetadata,
  SASLOptions,
} from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';

import { ForwarderError } from '../util/errors.js';

export interface KafkaProducerPort {
  connect(): Promise<void>;
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

export interface KafkaAdminPort {
  connect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(options: { topics: ITopicConfig[]; waitForLeaders?: boolean }): Promise<boolean>;
  describeCluster(): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** What the sinks need of a Kafka client: fresh producers and admins on demand. */
export interface KafkaClientPort {
  producer(config?: ProducerConfig): KafkaProducerPort;
  admin(config?: AdminConfig): KafkaAdminPort;
}

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

/** The kafkajs client settings: TLS, SASL, timeouts. */
function kafkaClientConfig(options: KafkaConnectionOptions): KafkaConfig {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // The sinks own retries (util/retry.ts, unbounded backoff); kafkajs retries only briefly first.
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
  kafka: KafkaClientPort,
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

/** The one Kafka client of the process (see {@link kafkaClientConfig}). */
export function createKafkaClient(options: KafkaConnectionOptions): Kafka {
  return new Kafka(kafkaClientConfig(options));
}
