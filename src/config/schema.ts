/**
 * The configuration schema (config/README.md). Every key has a doc string, a format, a default and an
 * environment variable; secrets are `sensitive`. Env names (README "Configuration") are a contract with the
 * tests and the Helm chart: do not rename them.
 *
 * Conventions: durations are integer milliseconds (`...Ms`, env `..._MS`); "unset" optional
 * strings are `''` here and `null` in the resolved {@link Config} (see load.ts).
 */
import type convict from 'convict';
import {
  CLOUDWATCH_LOGS_QUOTAS,
  DEFAULT_BUDGETS,
  defaultGetLogEventsBudget,
  GET_LOG_EVENTS_SHARE,
} from '../util/cloudwatch-quotas.js';
import { registerFormats } from './formats.js';

registerFormats();

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SASL_MECHANISMS = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const KAFKA_COMPRESSIONS = ['none', 'gzip'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

export const SIGV4_SERVICES = ['es', 'aoss'] as const;
export type Sigv4Service = (typeof SIGV4_SERVICES)[number];

/** Values as convict holds them, before secrets are read and cross-field checks run. */
export interface RawConfig {
  aws: { region: string; endpoint: string; accountId: string };
  source: {
    logGroupPrefixes: string[];
    logGroups: string[];
    startPosition: string;
    discoveryIntervalMs: number;
    pollMinIntervalMs: number;
    pageLimit: number;
    retiredCheckpointRetentionMs: number;
    gapRepairWindowMs: number;
    lookBackWindowMs: number;
    lookBackIntervalMs: number;
    rateLimits: {
      getLogEvents: number | 'auto';
      describeLogStreams: number;
      describeLogGroups: number;
    };
  };
  pipeline: {
    maxInFlightBatches: number;
    maxInFlightBatchesPerStream: number;
    maxInFlightEvents: number;
    maxInFlightBytes: number;
    shutdownTimeoutMs: number;
  };
  checkpoint: { dir: string };
  kafka: {
    brokers: string[];
    topic: string;
    clientId: string;
    createTopic: boolean;
    topicPartitions: number;
    topicReplicationFactor: number;
    compression: KafkaCompression;
    idempotent: boolean;
    requestTimeoutMs: number;
    ssl: {
      enabled: boolean;
      caFile: string;
      certFile: string;
      keyFile: string;
      rejectUnauthorized: boolean;
    };
    sasl: {
      mechanism: SaslMechanism;
      username: string;
      password: string;
      passwordFile: string;
      allowWithoutTls: boolean;
    };
  };
  opensearch: {
    url: string;
    indexPrefix: string;
    username: string;
    password: string;
    passwordFile: string;
    allowHttpBasicAuth: boolean;
    tls: { caFile: string; rejectUnauthorized: boolean };
    sigv4: { enabled: boolean; service: Sigv4Service; region: string };
    bulkMaxDocs: number;
    compression: KafkaCompression;
    requestTimeoutMs: number;
    lateIndex: boolean;
  };
  deadLetter: {
    topic: string;
    topicPartitions: number;
    topicReplicationFactor: number;
    file: string;
  };
  enrichment: {
    enabled: boolean;
    endpoint: string;
    refreshIntervalMs: number;
    labels: Record<string, string>;
  };
  http: { host: string; port: number; readySinkDownMs: number };
  log: { level: LogLevel; pretty: boolean };
}

const DAY_MS = 86_400_000;

function ms(doc: string, env: string, def: number, min: number, max = DAY_MS) {
  return { doc, format: 'fwd-integer', default: def, env, min, max };
}

function optionalPath(doc: string, env: string) {
  return { doc, format: 'fwd-string', default: '', env };
}

export const schema: convict.Schema<RawConfig> = {
  aws: {
    region: {
      doc: 'AWS region of the CloudWatch Logs and CloudHSM APIs. Empty: the AWS SDK default chain (AWS_REGION, profile, IMDS).',
      format: 'fwd-aws-region',
      default: '',
      env: 'AWS_REGION',
    },
    endpoint: {
      doc: 'Endpoint URL override for the AWS APIs (tests point it at the emulator). Empty: the SDK default endpoint.',
      format: 'fwd-optional-url',
      default: '',
      env: 'AWS_ENDPOINT_URL',
    },
    accountId: {
      doc: 'AWS account id added to events (cloud.account.uid). Empty: taken from STS/log group ARNs when available.',
      format: 'fwd-aws-account',
      default: '',
      env: 'AWS_ACCOUNT_ID',
    },
  },
  source: {
    logGroupPrefixes: {
      doc: 'Log-group name prefixes to discover (comma-separated in env). Every CloudHSM cluster writes to /aws/cloudhsm/<cluster-id>.',
      format: 'fwd-string-list',
      default: ['/aws/cloudhsm/'],
      env: 'LOG_GROUP_PREFIXES',
    },
    logGroups: {
      doc: 'Explicit log-group names to read in addition to the discovered ones (comma-separated in env).',
      format: 'fwd-string-list',
      default: [],
      env: 'LOG_GROUPS',
    },
    startPosition: {
      doc: 'Where a stream without a checkpoint starts: "beginning", "end", or an ISO-8601 time such as 2024-05-01T00:00:00Z. Resolved when the stream is first seen and stored in its checkpoint before it is read, so a restart or a later change never moves it.',
      format: 'fwd-start-position',
      default: 'beginning',
      env: 'START_POSITION',
    },
    discoveryIntervalMs: ms(
      'Interval between log-group and log-stream discovery runs (ms).',
      'DISCOVERY_INTERVAL_MS',
      60_000,
      1_000,
    ),
    pollMinIntervalMs: ms(
      'Shortest interval between two polls of an idle stream (ms). Idle streams are polled round-robin as often as the GetLogEvents budget allows, so their longest wait is about (streams / rateLimits.getLogEvents) seconds; this floor keeps a small fleet from polling many times a second.',
      'POLL_MIN_INTERVAL_MS',
      1_000,
      0,
    ),
    pageLimit: {
      doc: 'Events per GetLogEvents call (the API maximum is 10000). A 1 MB page holds about 1,700-3,500 CloudHSM records anyway, and each read reserves this many events of pipeline.maxInFlightEvents, so 2500 lets four reads share the default budget.',
      format: 'fwd-integer',
      default: 2_500,
      env: 'PAGE_LIMIT',
      min: 1,
      max: 10_000,
    },
    retiredCheckpointRetentionMs: ms(
      'How long the checkpoint of a stream that discovery no longer lists is kept after its last write (ms); then the file and the stream state are deleted, and a stream of that name appearing later is read as a new one. 0 keeps them forever.',
      'RETIRED_CHECKPOINT_RETENTION_MS',
      7 * DAY_MS,
      0,
      3650 * DAY_MS,
    ),
    gapRepairWindowMs: ms(
      'How long a sequence gap waits for its missing records before the gap finding is raised (ms). A record uploaded late lands behind the forward token: the stream is re-read around the gap at once and again at the end of this window, and the records found are delivered (once). 0: no repair, gaps are reported at once.',
      'GAP_REPAIR_WINDOW_MS',
      300_000,
      0,
    ),
    lookBackWindowMs: ms(
      'Streams without sequence numbers (certificate storage) re-read this trailing window (ms) every lookBackIntervalMs, to deliver records ingested with an older timestamp (behind the forward token); records delivered before are skipped. 0 disables.',
      'LOOK_BACK_WINDOW_MS',
      900_000,
      0,
    ),
    lookBackIntervalMs: ms(
      'Interval between two look-back re-reads of a stream without sequence numbers (ms). Each costs at least two GetLogEvents calls per certificate-storage stream.',
      'LOOK_BACK_INTERVAL_MS',
      300_000,
      1_000,
    ),
    rateLimits: {
      getLogEvents: {
        doc: `GetLogEvents calls per second, shared by all streams of the account and region and never exceeded. \`auto\`: ${GET_LOG_EVENTS_SHARE.live * 100} % of the region's quota (quota: ${CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.perSecond}/s in the lowest regions, ${CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.note}), so ${defaultGetLogEventsBudget(null)}/s there and ${defaultGetLogEventsBudget('us-east-1')}/s in most regions; the rest is left for the console and a backfill. With aws.region empty the region is not known, and the lowest quota applies.`,
        format: 'fwd-rate',
        default: 'auto',
        env: 'RATE_LIMIT_GET_LOG_EVENTS',
        min: 0.01,
        max: 1_000,
      },
      describeLogStreams: {
        doc: `DescribeLogStreams calls per second for discovery (quota: ${CLOUDWATCH_LOGS_QUOTAS.DescribeLogStreams.perSecond}/s, adjustable; the default is a fifth of it).`,
        format: 'fwd-number',
        default: DEFAULT_BUDGETS.DescribeLogStreams,
        env: 'RATE_LIMIT_DESCRIBE_LOG_STREAMS',
        min: 0.01,
        max: 1_000,
      },
      describeLogGroups: {
        doc: `DescribeLogGroups calls per second for discovery (quota: ${CLOUDWATCH_LOGS_QUOTAS.DescribeLogGroups.perSecond}/s, adjustable; the default is a fifth of it).`,
        format: 'fwd-number',
        default: DEFAULT_BUDGETS.DescribeLogGroups,
        env: 'RATE_LIMIT_DESCRIBE_LOG_GROUPS',
        min: 0.01,
        max: 1_000,
      },
    },
  },
  pipeline: {
    maxInFlightBatches: {
      doc: 'Batches (GetLogEvents pages) read but not yet acknowledged, all streams together; polling pauses at the limit.',
      format: 'fwd-integer',
      default: 64,
      env: 'MAX_IN_FLIGHT_BATCHES',
      min: 1,
      max: 100_000,
    },
    maxInFlightBatchesPerStream: {
      doc: 'Unacknowledged batches per stream.',
      format: 'fwd-integer',
      default: 4,
      env: 'MAX_IN_FLIGHT_BATCHES_PER_STREAM',
      min: 1,
      max: 10_000,
    },
    maxInFlightEvents: {
      doc: 'Unacknowledged events, all streams together (bounds memory while a sink is slow or down).',
      format: 'fwd-integer',
      default: 10_000,
      env: 'MAX_IN_FLIGHT_EVENTS',
      min: 1,
      max: 10_000_000,
    },
    maxInFlightBytes: {
      doc: 'Unacknowledged raw message bytes, all streams together; each read reserves a full 1 MiB page until it knows its size. Bounds memory by size, whatever the record length (measured: resident memory grows by about 15 KB per in-flight event, some 50 times its raw bytes, while a sink is down).',
      format: 'fwd-integer',
      default: 4 * 2 ** 20,
      env: 'MAX_IN_FLIGHT_BYTES',
      min: 1_048_576,
      max: 2 ** 40,
    },
    shutdownTimeoutMs: ms(
      'On SIGTERM: how long to drain in-flight batches and commit checkpoints before exiting (ms).',
      'SHUTDOWN_TIMEOUT_MS',
      30_000,
      0,
    ),
  },
  checkpoint: {
    dir: {
      doc: 'Directory of the file checkpoint store (one file per log stream). Relative paths are resolved against the working directory.',
      format: 'fwd-string',
      default: './data/checkpoints',
      env: 'CHECKPOINT_DIR',
      min: 1,
    },
  },
  kafka: {
    brokers: {
      doc: 'Bootstrap brokers, host:port (comma-separated in env). Empty disables the Kafka sink.',
      format: 'fwd-broker-list',
      default: [],
      env: 'KAFKA_BROKERS',
    },
    topic: {
      doc: 'Topic for OCSF events.',
      format: 'fwd-kafka-topic',
      default: 'cloudhsm.audit.ocsf',
      env: 'KAFKA_TOPIC',
    },
    clientId: {
      doc: 'Kafka client id (appears in broker logs and quotas).',
      format: 'fwd-string',
      default: 'cloudhsm-audit-forwarder',
      env: 'KAFKA_CLIENT_ID',
      min: 1,
    },
    createTopic: {
      doc: 'Create the event and dead-letter topics at start-up when missing. Production clusters usually pre-create them.',
      format: 'fwd-boolean',
      default: false,
      env: 'KAFKA_CREATE_TOPIC',
    },
    topicPartitions: {
      doc: 'Partitions of a topic created by kafka.createTopic (-1: the broker default num.partitions).',
      format: 'fwd-integer',
      default: 3,
      env: 'KAFKA_TOPIC_PARTITIONS',
      min: -1,
      max: 10_000,
    },
    topicReplicationFactor: {
      doc: 'Replication factor of a topic created by kafka.createTopic. -1 (default): the broker default.replication.factor, which is 1 on a single dev broker and should be 3 (with min.insync.replicas=2) in production so that acks=-1 means something.',
      format: 'fwd-integer',
      default: -1,
      env: 'KAFKA_TOPIC_REPLICATION_FACTOR',
      min: -1,
      max: 32,
    },
    compression: {
      doc: 'Compression of produced batches.',
      format: 'fwd-enum',
      values: KAFKA_COMPRESSIONS,
      default: 'gzip',
      env: 'KAFKA_COMPRESSION',
    },
    idempotent: {
      doc: 'Idempotent producer (one in-flight request per connection).',
      format: 'fwd-boolean',
      default: true,
      env: 'KAFKA_IDEMPOTENT',
    },
    requestTimeoutMs: ms('Kafka request timeout (ms).', 'KAFKA_REQUEST_TIMEOUT_MS', 30_000, 1_000),
    ssl: {
      enabled: {
        doc: 'Connect to the brokers with TLS.',
        format: 'fwd-boolean',
        default: false,
        env: 'KAFKA_SSL_ENABLED',
      },
      caFile: optionalPath(
        'PEM file of CA certificates to trust (empty: the Node.js default trust store). Requires kafka.ssl.enabled.',
        'KAFKA_SSL_CA_FILE',
      ),
      certFile: optionalPath(
        'PEM client certificate for mutual TLS (with kafka.ssl.keyFile).',
        'KAFKA_SSL_CERT_FILE',
      ),
      keyFile: optionalPath(
        'PEM private key of the client certificate (with kafka.ssl.certFile).',
        'KAFKA_SSL_KEY_FILE',
      ),
      rejectUnauthorized: {
        doc: 'Verify the broker certificates. Only turn off against a throw-away test broker.',
        format: 'fwd-boolean',
        default: true,
        env: 'KAFKA_SSL_REJECT_UNAUTHORIZED',
      },
    },
    sasl: {
      mechanism: {
        doc: 'SASL mechanism; "none" disables SASL. plain and scram-* need username and password (or passwordFile).',
        format: 'fwd-enum',
        values: SASL_MECHANISMS,
        default: 'none',
        env: 'KAFKA_SASL_MECHANISM',
      },
      username: {
        doc: 'SASL user name.',
        format: 'fwd-string',
        default: '',
        env: 'KAFKA_SASL_USERNAME',
      },
      password: {
        doc: 'SASL password. Prefer kafka.sasl.passwordFile (a mounted Kubernetes Secret).',
        format: 'fwd-secret',
        default: '',
        env: 'KAFKA_SASL_PASSWORD',
        sensitive: true,
      },
      passwordFile: optionalPath(
        'File holding the SASL password (read once at start-up, surrounding whitespace trimmed).',
        'KAFKA_SASL_PASSWORD_FILE',
      ),
      allowWithoutTls: {
        doc: 'Lab only: allow SASL without TLS (kafka.ssl.enabled false). PLAIN then sends the password in clear text and SCRAM exposes its exchange and every record; refused unless this is true.',
        format: 'fwd-boolean',
        default: false,
        env: 'KAFKA_SASL_ALLOW_WITHOUT_TLS',
      },
    },
  },
  opensearch: {
    url: {
      doc: 'OpenSearch endpoint, e.g. https://search.example.com:9200. Empty disables the OpenSearch sink.',
      format: 'fwd-optional-url',
      default: '',
      env: 'OPENSEARCH_URL',
    },
    indexPrefix: {
      doc: 'Daily index prefix: events go to <prefix>-YYYY.MM.DD (day of the event time, UTC).',
      format: 'fwd-index-prefix',
      default: 'cloudhsm-audit-ocsf',
      env: 'OPENSEARCH_INDEX_PREFIX',
    },
    username: {
      doc: 'Basic-auth user name (not with SigV4).',
      format: 'fwd-string',
      default: '',
      env: 'OPENSEARCH_USERNAME',
    },
    password: {
      doc: 'Basic-auth password. Prefer opensearch.passwordFile.',
      format: 'fwd-secret',
      default: '',
      env: 'OPENSEARCH_PASSWORD',
      sensitive: true,
    },
    passwordFile: optionalPath(
      'File holding the basic-auth password (read once at start-up, whitespace trimmed).',
      'OPENSEARCH_PASSWORD_FILE',
    ),
    allowHttpBasicAuth: {
      doc: 'Lab only: allow basic-auth credentials with an http:// opensearch.url, where they travel in clear text with every request; refused unless this is true.',
      format: 'fwd-boolean',
      default: false,
      env: 'OPENSEARCH_ALLOW_HTTP_BASIC_AUTH',
    },
    tls: {
      caFile: optionalPath(
        'PEM file of CA certificates to trust for https URLs (empty: the Node.js default trust store).',
        'OPENSEARCH_TLS_CA_FILE',
      ),
      rejectUnauthorized: {
        doc: 'Verify the OpenSearch certificate. Only turn off against a throw-away test cluster.',
        format: 'fwd-boolean',
        default: true,
        env: 'OPENSEARCH_TLS_REJECT_UNAUTHORIZED',
      },
    },
    sigv4: {
      enabled: {
        doc: 'Sign requests with AWS SigV4 (Amazon OpenSearch Service / Serverless) using the SDK default credentials.',
        format: 'fwd-boolean',
        default: false,
        env: 'OPENSEARCH_SIGV4_ENABLED',
      },
      service: {
        doc: 'SigV4 service name: "es" (managed domains) or "aoss" (Serverless).',
        format: 'fwd-enum',
        values: SIGV4_SERVICES,
        default: 'es',
        env: 'OPENSEARCH_SIGV4_SERVICE',
      },
      region: {
        doc: 'SigV4 signing region. Empty: aws.region.',
        format: 'fwd-aws-region',
        default: '',
        env: 'OPENSEARCH_SIGV4_REGION',
      },
    },
    compression: {
      doc:
        'Compression of _bulk request bodies. gzip saves bandwidth to a remote domain but costs ' +
        'CPU on both ends; on a fast network none is faster.',
      format: 'fwd-enum',
      values: KAFKA_COMPRESSIONS,
      default: 'none',
      env: 'OPENSEARCH_COMPRESSION',
    },
    bulkMaxDocs: {
      doc: 'Maximum documents per _bulk request.',
      format: 'fwd-integer',
      default: 1_000,
      env: 'OPENSEARCH_BULK_MAX_DOCS',
      min: 1,
      max: 100_000,
    },
    requestTimeoutMs: ms(
      'OpenSearch request timeout (ms).',
      'OPENSEARCH_REQUEST_TIMEOUT_MS',
      30_000,
      1_000,
    ),
    lateIndex: {
      doc:
        'Send an event whose daily index refuses writes (write block, e.g. ISM read_only; closed ' +
        'index) to <prefix>-late-YYYY.MM instead of waiting for the index to be fixed. Caveat: a ' +
        'later replay of such an event into its daily index makes a second document.',
      format: 'fwd-boolean',
      default: false,
      env: 'OPENSEARCH_LATE_INDEX',
    },
  },
  deadLetter: {
    topic: {
      doc: 'Kafka topic for events a sink rejected permanently (used while Kafka is enabled).',
      format: 'fwd-kafka-topic',
      default: 'cloudhsm.audit.dlq',
      env: 'DEAD_LETTER_TOPIC',
    },
    topicPartitions: {
      doc: 'Partitions of the dead-letter topic when kafka.createTopic creates it. -1 (default): the broker default num.partitions.',
      format: 'fwd-integer',
      default: -1,
      env: 'DEAD_LETTER_TOPIC_PARTITIONS',
      min: -1,
      max: 10_000,
    },
    topicReplicationFactor: {
      doc: 'Replication factor of the dead-letter topic when kafka.createTopic creates it. -1 (default): the broker default.replication.factor, so that on a cluster with min.insync.replicas=2 (MSK) the topic can take acks=all writes.',
      format: 'fwd-integer',
      default: -1,
      env: 'DEAD_LETTER_TOPIC_REPLICATION_FACTOR',
      min: -1,
      max: 32,
    },
    file: {
      doc: 'NDJSON file for rejected events when Kafka is disabled or the dead-letter topic cannot be written.',
      format: 'fwd-string',
      default: './data/dead-letter.ndjson',
      env: 'DEAD_LETTER_FILE',
      min: 1,
    },
  },
  enrichment: {
    enabled: {
      doc: 'Enrich events with cluster metadata from the CloudHSM API (cluster state, HSM AZ/subnet/IP, tags).',
      format: 'fwd-boolean',
      default: true,
      env: 'ENRICHMENT_ENABLED',
    },
    endpoint: {
      doc:
        'CloudHSM v2 and STS API endpoint for enrichment (a VPC endpoint, or an emulator); ' +
        'empty: aws.endpoint, else the SDK default.',
      format: 'fwd-string',
      default: '',
      env: 'ENRICHMENT_ENDPOINT_URL',
    },
    refreshIntervalMs: ms(
      'Interval between refreshes of the cluster metadata (ms).',
      'ENRICHMENT_REFRESH_INTERVAL_MS',
      300_000,
      1_000,
    ),
    labels: {
      doc: 'Static labels added to every event: an object in files, "k=v,k=v" (or a JSON object) in env.',
      format: 'fwd-labels',
      default: {},
      env: 'LABELS',
    },
  },
  http: {
    host: {
      doc: 'Listen address of the metrics and health server.',
      format: 'fwd-string',
      default: '0.0.0.0',
      env: 'HTTP_HOST',
      min: 1,
    },
    port: {
      doc: 'Port of the metrics and health server (GET /metrics, /healthz, /readyz); 0 picks a free port.',
      format: 'fwd-integer',
      default: 9464,
      env: 'HTTP_PORT',
      min: 0,
      max: 65_535,
    },
    readySinkDownMs: ms(
      '/readyz reports not-ready once an enabled sink has been down, a sink or the dead letter has had work waiting with none of it finished, or the checkpoint writes of a stream have been failing, for longer than this (ms).',
      'READY_SINK_DOWN_MS',
      60_000,
      0,
    ),
  },
  log: {
    level: {
      doc: 'Log level.',
      format: 'fwd-enum',
      values: LOG_LEVELS,
      default: 'info',
      env: 'LOG_LEVEL',
    },
    pretty: {
      doc: 'Human-readable logs when stdout is a TTY. Needs the dev-only pino-pretty package; without it the logs stay JSON (with a warning).',
      format: 'fwd-boolean',
      default: false,
      env: 'LOG_PRETTY',
    },
  },
};

/** One leaf of the schema, flattened: `http.port` → its env name, doc, default. */
export interface SchemaKey {
  readonly key: string;
  readonly env: string;
  readonly doc: string;
  readonly default: unknown;
  readonly sensitive: boolean;
}

function isLeaf(node: unknown): node is convict.SchemaObj {
  return typeof node === 'object' && node !== null && 'default' in node;
}

/** Every configuration key with its env name, in schema order (used by docs and error messages). */
export function schemaKeys(): SchemaKey[] {
  const keys: SchemaKey[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, child] of Object.entries(node)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      if (isLeaf(child)) {
        keys.push({
          key,
          env: child.env ?? '',
          doc: child.doc ?? '',
          default: child.default,
          sensitive: child.sensitive === true,
        });
      } else {
        walk(child as Record<string, unknown>, key);
      }
    }
  };
  walk(schema, '');
  return keys;
}

/** Schema node at a dotted path: a section (plain object), a leaf, or undefined. */
export function schemaNode(path: readonly string[]): unknown {
  let node: unknown = schema;
  for (const part of path) {
    if (typeof node !== 'object' || node === null || isLeaf(node)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export { isLeaf as isSchemaLeaf };
