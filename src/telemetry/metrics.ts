/**
 * Prometheus metrics (README "Operating it"): an own Registry with the Node.js default
 * metrics, names prefixed `cloudhsm_forwarder_`, counters ending in `_total`, durations in
 * `_seconds`. Every label has a small fixed value set except `log_group`, which is one value per
 * CloudHSM cluster (call {@link Metrics.forgetLogGroup} when a cluster disappears). Never a
 * stream token, an event id, a user or a raw error message.
 *
 * {@link METRIC_SPECS} is the single source of truth: the metrics are built from it and
 * {@link METRIC_DOCS} (the README table) is derived from it.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { packageVersion } from '../config/package-info.js';
import { REFUSAL_REASONS, REJECTION_KINDS } from '../sink/sink.js';

export const METRIC_PREFIX = 'cloudhsm_forwarder_';

export const SINKS = ['kafka', 'opensearch'] as const;
export type SinkLabel = (typeof SINKS)[number];

export const API_OPERATIONS = [
  'DescribeLogGroups',
  'DescribeLogStreams',
  'GetLogEvents',
  'DescribeClusters',
] as const;
export type ApiOperationLabel = (typeof API_OPERATIONS)[number];

export const API_OUTCOMES = [
  'success',
  'throttled',
  'retryable_error',
  'token_rejected',
  'not_found',
  'aborted',
  'error',
] as const;
export type ApiOutcomeLabel = (typeof API_OUTCOMES)[number];

export const RETRY_STAGES = [
  'source',
  'kafka',
  'opensearch',
  'dead_letter',
  'checkpoint',
  'enrichment',
] as const;
export type RetryStage = (typeof RETRY_STAGES)[number];

export const INTEGRITY_KINDS = [
  'gap',
  'reboot',
  'regression',
  'duplicate',
  'conflicting_duplicate',
] as const;
export type IntegrityKind = (typeof INTEGRITY_KINDS)[number];

export const OUTCOMES = ['success', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const STREAM_STATES = ['active', 'idle'] as const;
export const PAGE_RESULTS = ['data', 'empty'] as const;

type MetricType = 'counter' | 'gauge' | 'histogram';

interface MetricSpec {
  readonly type: MetricType;
  /** Without the prefix. */
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LAG_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21_600, 86_400];
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every product metric. The key is the handle name in {@link Metrics}. */
export const METRIC_SPECS = {
  recordsRead: {
    type: 'counter',
    name: 'records_read_total',
    help: 'Audit records read from CloudWatch Logs.',
    labels: ['log_group'],
  },
  recordsParsed: {
    type: 'counter',
    name: 'records_parsed_total',
    help: 'Records parsed into a typed CloudHSM record.',
    labels: ['log_group'],
  },
  recordsUnparseable: {
    type: 'counter',
    name: 'records_unparseable_total',
    help: 'Records the parser did not understand (forwarded as flagged events with raw_data).',
    labels: ['log_group'],
  },
  recordsDelivered: {
    type: 'counter',
    name: 'records_delivered_total',
    help: 'Events durably accepted by a sink (OpenSearch 409 duplicates included).',
    labels: ['sink'],
  },
  recordsDuplicate: {
    type: 'counter',
    name: 'records_duplicates_total',
    help: 'Events a sink already held (OpenSearch create conflict 409).',
    labels: ['sink'],
  },
  recordsDeadLettered: {
    type: 'counter',
    name: 'records_dead_lettered_total',
    help: 'Events a sink rejected permanently, written to the dead-letter destination, by the kind the sink set (mapping_error, too_large, invalid_event, rejected).',
    labels: ['sink', 'reason'],
  },
  sinkRefusals: {
    type: 'counter',
    name: 'sink_refusals_total',
    help: 'Writes a sink refused for a configuration or permission problem (forbidden, index_not_found, index_blocked, index_closed, invalid_index_name, no_write_index, pipeline_missing, index_setting, mapping_conflict, other), per event and attempt; retried, never dead-lettered.',
    labels: ['sink', 'reason'],
  },
  deadLetterFallbacks: {
    type: 'counter',
    name: 'dead_letter_fallbacks_total',
    help: 'Dead-letter entries written to the file because the dead-letter topic refused them (check the topic, its replication factor and min.insync.replicas).',
    labels: [],
  },
  apiCalls: {
    type: 'counter',
    name: 'api_calls_total',
    help: 'AWS API calls by operation and outcome.',
    labels: ['operation', 'outcome'],
  },
  apiCallDuration: {
    type: 'histogram',
    name: 'api_call_duration_seconds',
    help: 'Duration of AWS API calls.',
    labels: ['operation'],
    buckets: CALL_BUCKETS,
  },
  apiThrottles: {
    type: 'counter',
    name: 'api_throttles_total',
    help: 'AWS API calls answered with ThrottlingException or HTTP 429.',
    labels: ['operation'],
  },
  rateLimitWait: {
    type: 'histogram',
    name: 'rate_limit_wait_seconds',
    help: 'Time spent waiting for the client-side rate limiter before an AWS API call.',
    labels: ['operation'],
    buckets: WAIT_BUCKETS,
  },
  retries: {
    type: 'counter',
    name: 'retries_total',
    help: 'Retries after a transient failure, by pipeline stage.',
    labels: ['stage'],
  },
  pages: {
    type: 'counter',
    name: 'get_log_events_pages_total',
    help: 'GetLogEvents pages read, with data or empty (end of stream).',
    labels: ['result'],
  },
  batchLatency: {
    type: 'histogram',
    name: 'batch_latency_seconds',
    help: 'Time from reading a batch to its acknowledgement by every enabled sink.',
    labels: [],
    buckets: LATENCY_BUCKETS,
  },
  endToEndLag: {
    type: 'histogram',
    name: 'end_to_end_lag_seconds',
    help: 'Acknowledgement time minus event time, per delivered event.',
    labels: [],
    buckets: LAG_BUCKETS,
  },
  sinkRequestDuration: {
    type: 'histogram',
    name: 'sink_request_duration_seconds',
    help: 'Duration of one request to a sink (Kafka send, OpenSearch _bulk).',
    labels: ['sink'],
    buckets: CALL_BUCKETS,
  },
  sinkUp: {
    type: 'gauge',
    name: 'sink_up',
    help: '1 while the sink accepts requests, 0 while it is failing.',
    labels: ['sink'],
  },
  checkpointAge: {
    type: 'gauge',
    name: 'checkpoint_age_seconds',
    help: 'Seconds since the newest checkpoint commit in the log group (grows while the group is idle or delivery is stuck).',
    labels: ['log_group'],
  },
  checkpointCommits: {
    type: 'counter',
    name: 'checkpoint_commits_total',
    help: 'Checkpoint writes by outcome.',
    labels: ['outcome'],
  },
  inFlightBatches: {
    type: 'gauge',
    name: 'in_flight_batches',
    help: 'Batches read but not yet acknowledged.',
    labels: [],
  },
  inFlightEvents: {
    type: 'gauge',
    name: 'in_flight_events',
    help: 'Events read but not yet acknowledged.',
    labels: [],
  },
  integrityFindings: {
    type: 'counter',
    name: 'integrity_findings_total',
    help: 'Audit-trail integrity findings (sequence gap, reboot, regression, duplicate).',
    labels: ['kind'],
  },
  gapsRepaired: {
    type: 'counter',
    name: 'integrity_gaps_repaired_total',
    help: 'Sequence gaps whose missing records a re-read delivered within the repair window (no finding raised).',
    labels: ['log_group'],
  },
  rereads: {
    type: 'counter',
    name: 'rereads_total',
    help: 'Re-reads of a time range behind the forward token (gap repair, look-back of streams without sequence numbers).',
    labels: ['log_group'],
  },
  rereadRecovered: {
    type: 'counter',
    name: 'reread_records_recovered_total',
    help: 'Records a re-read delivered that the forward reader had missed (ingested behind the token).',
    labels: ['log_group'],
  },
  enrichmentRefreshes: {
    type: 'counter',
    name: 'enrichment_refreshes_total',
    help: 'Refreshes of the CloudHSM cluster metadata by outcome.',
    labels: ['outcome'],
  },
  tokenRejections: {
    type: 'counter',
    name: 'token_rejections_total',
    help: 'Stored forward tokens rejected by CloudWatch (expired or invalid); reading resumed from the checkpointed timestamp.',
    labels: ['log_group'],
  },
  pollingLag: {
    type: 'gauge',
    name: 'polling_lag_seconds',
    help: 'Now minus the newest event time read, largest over the streams of the log group.',
    labels: ['log_group'],
  },
  streams: {
    type: 'gauge',
    name: 'streams',
    help: 'Log streams being polled, by state (active: draining, idle: waiting at the end).',
    labels: ['state'],
  },
  siblingWakeups: {
    type: 'counter',
    name: 'sibling_wakeups_total',
    help: 'Idle streams polled at once because another HSM stream of their log group returned data after being idle (CloudHSM copies logins and user management to every HSM).',
    labels: ['log_group'],
  },
  sourceDuplicatesSkipped: {
    type: 'counter',
    name: 'source_duplicates_skipped_total',
    help: 'Records skipped by the source because they were delivered before a token fallback re-seek.',
    labels: ['log_group'],
  },
  streamsDiscovered: {
    type: 'counter',
    name: 'streams_discovered_total',
    help: 'Log streams discovered.',
    labels: ['log_group'],
  },
  streamsRetired: {
    type: 'counter',
    name: 'streams_retired_total',
    help: 'Log streams no longer polled (deleted or replaced HSM).',
    labels: ['log_group'],
  },
  pollerRestarts: {
    type: 'counter',
    name: 'poller_restarts_total',
    help: 'Stream pollers restarted after an unexpected error escaped their loop (reading resumes from the in-memory position after a backoff).',
    labels: ['log_group'],
  },
  buildInfo: {
    type: 'gauge',
    name: 'build_info',
    help: 'Always 1; labels carry the forwarder and Node.js versions.',
    labels: ['version', 'node_version'],
  },
} as const satisfies Record<string, MetricSpec>;

type Specs = typeof METRIC_SPECS;
type LabelsOf<K extends keyof Specs> = Specs[K]['labels'][number];
type HandleOf<K extends keyof Specs> = Specs[K]['type'] extends 'counter'
  ? Counter<LabelsOf<K>>
  : Specs[K]['type'] extends 'gauge'
    ? Gauge<LabelsOf<K>>
    : Histogram<LabelsOf<K>>;

export interface MetricDoc {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
}

/** The documented metric list (README table, tests); Node default metrics not included. */
export const METRIC_DOCS: readonly MetricDoc[] = Object.values(METRIC_SPECS).map(
  (spec: MetricSpec) => ({
    name: `${METRIC_PREFIX}${spec.name}`,
    type: spec.type,
    labels: spec.labels,
    help: spec.help,
  }),
);

/** Markdown table of {@link METRIC_DOCS}, as in the README. */
export function metricDocsTable(): string {
  const rows = METRIC_DOCS.map(
    (doc) =>
      `| \`${doc.name}\` | ${doc.type} | ${doc.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${doc.help} |`,
  );
  return ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export type MetricHandles = { readonly [K in keyof Specs]: HandleOf<K> };

export interface Metrics extends MetricHandles {
  readonly registry: Registry;
  /** Records a checkpoint commit; `checkpoint_age_seconds` is computed from it at scrape time. */
  checkpointCommitted(logGroup: string, atMs?: number): void;
  /** Drops every `log_group` series of a log group that no longer exists. */
  forgetLogGroup(logGroup: string): void;
}

export interface CreateMetricsOptions {
  /** Register the Node.js default metrics (process, GC, event loop). @default true */
  readonly defaultMetrics?: boolean;
  /** Clock for `checkpoint_age_seconds` (ms). @default Date.now */
  readonly now?: () => number;
  readonly version?: string;
}

/** Creates the registry and every metric, with expected label sets initialised to zero. */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  }
  const now = options.now ?? Date.now;
  const lastCommit = new Map<string, number>();

  const build = (key: keyof Specs): Counter | Gauge | Histogram => {
    const spec: MetricSpec = METRIC_SPECS[key];
    const common = {
      name: `${METRIC_PREFIX}${spec.name}`,
      help: spec.help,
      labelNames: [...spec.labels],
      registers: [registry],
    };
    switch (spec.type) {
      case 'counter':
        return new Counter(common);
      case 'gauge':
        if (key === 'checkpointAge') {
          return new Gauge({
            ...common,
            collect(this: Gauge) {
              const at = now();
              for (const [logGroup, committed] of lastCommit) {
                this.set({ log_group: logGroup }, Math.max(0, (at - committed) / 1000));
              }
            },
          });
        }
        return new Gauge(common);
      case 'histogram':
        return new Histogram({ ...common, buckets: [...(spec.buckets ?? LATENCY_BUCKETS)] });
    }
  };

  const handles = Object.fromEntries(
    (Object.keys(METRIC_SPECS) as Array<keyof Specs>).map((key) => [key, build(key)]),
  ) as unknown as MetricHandles;

  // Zeros for the fixed label sets, so dashboards and alerts see series before the first event.
  for (const sink of SINKS) {
    handles.recordsDelivered.inc({ sink }, 0);
    handles.recordsDuplicate.inc({ sink }, 0);
    handles.sinkRequestDuration.zero({ sink });
    for (const reason of REJECTION_KINDS) handles.recordsDeadLettered.inc({ sink, reason }, 0);
    for (const reason of REFUSAL_REASONS) handles.sinkRefusals.inc({ sink, reason }, 0);
  }
  for (const operation of API_OPERATIONS) {
    handles.apiThrottles.inc({ operation }, 0);
    handles.apiCalls.inc({ operation, outcome: 'success' }, 0);
    handles.apiCallDuration.zero({ operation });
  }
  for (const stage of RETRY_STAGES) handles.retries.inc({ stage }, 0);
  for (const kind of INTEGRITY_KINDS) handles.integrityFindings.inc({ kind }, 0);
  for (const outcome of OUTCOMES) {
    handles.enrichmentRefreshes.inc({ outcome }, 0);
    handles.checkpointCommits.inc({ outcome }, 0);
  }
  for (const result of PAGE_RESULTS) handles.pages.inc({ result }, 0);
  for (const state of STREAM_STATES) handles.streams.set({ state }, 0);
  handles.inFlightBatches.set(0);
  handles.inFlightEvents.set(0);
  handles.buildInfo.set(
    { version: options.version ?? packageVersion(), node_version: process.versions.node },
    1,
  );

  const perLogGroup = [
    handles.recordsRead,
    handles.recordsParsed,
    handles.recordsUnparseable,
    handles.checkpointAge,
    handles.tokenRejections,
    handles.pollingLag,
    handles.sourceDuplicatesSkipped,
    handles.siblingWakeups,
    handles.gapsRepaired,
    handles.rereads,
    handles.rereadRecovered,
    handles.streamsDiscovered,
    handles.streamsRetired,
    handles.pollerRestarts,
  ] as const;

  return {
    ...handles,
    registry,
    checkpointCommitted(logGroup: string, atMs?: number): void {
      lastCommit.set(logGroup, atMs ?? now());
    },
    forgetLogGroup(logGroup: string): void {
      lastCommit.delete(logGroup);
      for (const metric of perLogGroup) metric.remove({ log_group: logGroup });
    },
  };
}
