/** The configuration the rest of the program sees (config/README.md); built by load.ts. */
import type { KafkaCompression, LogLevel, SaslMechanism, Sigv4Service } from './schema.js';

/** The resolved, validated, frozen configuration. Unset optional strings are `null`. */
export interface Config {
  readonly aws: {
    readonly region: string | null;
    readonly endpoint: string | null;
    readonly accountId: string | null;
  };
  readonly source: {
    readonly logGroupPrefixes: readonly string[];
    readonly logGroups: readonly string[];
    /** `beginning`, `end` or an ISO-8601 time (validated); see `parseStartPosition`. */
    readonly startPosition: string;
    readonly discoveryIntervalMs: number;
    readonly pollMinIntervalMs: number;
    readonly retiredCheckpointRetentionMs: number;
    readonly gapRepairWindowMs: number;
    readonly lookBackWindowMs: number;
    readonly lookBackIntervalMs: number;
    readonly pageLimit: number;
    /** Calls per second per API operation (shared by all streams). */
    readonly rateLimits: {
      /** `auto`: derived from the region's quota (defaultGetLogEventsBudget). */
      readonly getLogEvents: number | 'auto';
      readonly describeLogStreams: number;
      readonly describeLogGroups: number;
    };
  };
  readonly pipeline: {
    readonly maxInFlightBatches: number;
    readonly maxInFlightBatchesPerStream: number;
    readonly maxInFlightEvents: number;
    readonly maxInFlightBytes: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly checkpoint: { readonly dir: string };
  readonly kafka: {
    /** Derived: brokers is not empty. */
    readonly enabled: boolean;
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly clientId: string;
    readonly createTopic: boolean;
    readonly topicPartitions: number;
    /** -1: broker default. */
    readonly topicReplicationFactor: number;
    readonly compression: KafkaCompression;
    readonly idempotent: boolean;
    readonly requestTimeoutMs: number;
    readonly ssl: {
      readonly enabled: boolean;
      readonly caFile: string | null;
      readonly certFile: string | null;
      readonly keyFile: string | null;
      readonly rejectUnauthorized: boolean;
    };
    readonly sasl: {
      readonly mechanism: SaslMechanism;
      readonly username: string | null;
      /** From `password` or read from `passwordFile`. Secret: print only via redactConfig. */
      readonly password: string | null;
      readonly passwordFile: string | null;
    };
  };
  readonly opensearch: {
    /** Derived: url is set. */
    readonly enabled: boolean;
    readonly url: string | null;
    readonly indexPrefix: string;
    readonly username: string | null;
    /** From `password` or read from `passwordFile`. Secret. */
    readonly password: string | null;
    readonly passwordFile: string | null;
    readonly tls: { readonly caFile: string | null; readonly rejectUnauthorized: boolean };
    readonly sigv4: {
      readonly enabled: boolean;
      readonly service: Sigv4Service;
      /** Resolved: opensearch.sigv4.region, else aws.region. */
      readonly region: string | null;
    };
    readonly bulkMaxDocs: number;
    readonly compression: KafkaCompression;
    readonly requestTimeoutMs: number;
    readonly lateIndex: boolean;
  };
  readonly deadLetter: {
    readonly topic: string;
    /** -1: the broker default. */
    readonly topicPartitions: number;
    /** -1: the broker default. */
    readonly topicReplicationFactor: number;
    readonly file: string;
  };
  readonly enrichment: {
    readonly enabled: boolean;
    /** Resolved: enrichment.endpoint, else aws.endpoint, else null (SDK default). */
    readonly endpoint: string | null;
    /** Resolved: aws.region, else us-east-1 (the CloudHSM and STS clients need one). */
    readonly region: string;
    readonly refreshIntervalMs: number;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly http: { readonly host: string; readonly port: number; readonly readySinkDownMs: number };
  readonly log: { readonly level: LogLevel; readonly pretty: boolean };
}
