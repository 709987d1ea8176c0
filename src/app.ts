/**
 * Composition root: builds every component from the configuration and wires them together
 * (docs/architecture.md). Nothing else constructs clients, sinks or stores; each component receives only
 * the narrow ports it needs, so each can be tested with real services and with fakes alike.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';

import { STSClient } from '@aws-sdk/client-sts';

import { lockDirectory } from './checkpoint/directory-lock.js';
import type { DirectoryLock, LockHolder } from './checkpoint/directory-lock.js';
import { FileCheckpointStore, resetCheckpoints } from './checkpoint/file-store.js';
import type { Config } from './config/config.js';
import { Dispatcher } from './pipeline/dispatcher.js';
import { Pipeline, type PipelineObserver } from './pipeline/pipeline.js';
import type { AckTrackerOptions } from './source/ack-tracker.js';
import type { BatchSource } from './source/batch-source.js';
import { CloudWatchSource } from './source/cloudwatch-source.js';
import { createCloudWatchClient, SdkCloudWatchPort } from './source/cloudwatch-port.js';
import { BudgetRegistry } from './source/budget-registry.js';
import { planBackfill, type PlannedStream } from './source/backfill-plan.js';
import { RateLimiter } from './source/rate-limiter.js';
import { parseStartPosition } from './source/read-position.js';
import { DeadLetter } from './sink/dead-letter.js';
import { createKafkaClient } from './sink/kafka-client.js';
import type { KafkaConnectionOptions } from './sink/kafka-client.js';
import { KafkaSink } from './sink/kafka.js';
import { createOpenSearchClient } from './sink/opensearch-client.js';
import { OpenSearchSink } from './sink/opensearch.js';
import type { Sink, SinkName } from './sink/sink.js';
import type { DeadLetterFile, StoredDeadLetter } from './sink/dead-letter-file.js';
import { readDeadLetterTopic } from './sink/dead-letter-topic.js';
import { toOutboundEvent } from './sink/outbound-event.js';
import type { OcsfLike } from './sink/outbound-event.js';
import { childLogger } from './telemetry/logger.js';
import type { Logger } from './telemetry/logger.js';
import { createTelemetry, type Telemetry } from './telemetry/telemetry.js';

import {
  createCallerIdentityPort,
  createCloudHsmClient,
  createCloudHsmPort,
} from './enrichment/cloudhsm-port.js';
import { MetadataProvider } from './enrichment/metadata-provider.js';
import { ensureStream, putRecords } from './simulator/cloudwatch-writer.js';
import { simulateFleet, type FleetReport } from './simulator/fleet.js';
import type { EventEnricher } from './transform/transform-record.js';
import { ActorInference } from './transform/actor-inference.js';
import { enrichEvent, withLabels } from './transform/enrich.js';
import { IntegrityTracker } from './transform/integrity.js';
import { RecentRecords } from './transform/recent-records.js';
import { abortError, monotonicClock } from './util/clock.js';
import { RETRY_BACKOFF, retryUntilDone } from './util/retry.js';
import { getLogEventsBudget } from './util/cloudwatch-quotas.js';
import { ForwarderError, UsageError } from './util/errors.js';
import { streamKey, type StreamRef } from './util/identity.js';

// The commands reach the rest of the program only through this module (docs/architecture.md).
export { createLogger } from './telemetry/logger.js';
export type { Logger } from './telemetry/logger.js';
export {
  appendReplayLedger,
  readDeadLetterFile,
  readReplayLedger,
  replayLedgerPath,
} from './sink/dead-letter-file.js';
export type { StoredDeadLetter } from './sink/dead-letter-file.js';
export type { SinkName } from './sink/sink.js';
export type { PlannedStream } from './source/backfill-plan.js';

/** The pod's own region (configuration resolves `aws.region`, else `us-east-1`). */
function awsRegion(config: Config): string {
  return config.enrichment.region;
}

/**
 * Takes the one-writer lock of a checkpoint or backfill state directory (creating it), before
 * anything reads or resets a checkpoint there; a second process is refused (`FWD_ERR_LOCKED`,
 * exit 2) naming the holder. Should the lock be taken from under us, the process says so and
 * stops (SIGTERM to itself, exit 1), so that only one writes.
 */
export async function lockStateDirectory(
  dir: string,
  command: string,
  logger: Logger,
): Promise<DirectoryLock> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ForwarderError('FWD_ERR_CHECKPOINT_IO', `cannot create ${dir}: ${String(error)}`, {
      cause: error,
    });
  }
  const onLost = (holder: LockHolder | undefined): void => {
    logger.error(
      { dir, holder },
      'the directory lock was taken by another process: stopping so that only one writes',
    );
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  };
  return lockDirectory(dir, { command, onLost });
}

/**
 * `run --reset-checkpoints`: deletes the checkpoints of the named streams, or all of them when
 * `streams` is omitted. Returns how many were removed.
 */
export function resetStreamCheckpoints(
  config: Config,
  streams?: readonly StreamRef[],
): Promise<number> {
  return resetCheckpoints(config.checkpoint.dir, streams);
}

export interface App {
  /** Starts the HTTP server, the sinks (topic check, index template) and polling. */
  start(): Promise<void>;
  /** Graceful stop: no more polling, drain in flight (bounded), commit, close. True if drained. */
  stop(): Promise<boolean>;
}

function readOptionalFile(path: string | null, key: string): string | undefined {
  if (path === null) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${key}: cannot read ${path} (${error instanceof Error ? error.message : String(error)})`,
      'FWD_ERR_CONFIG',
    );
  }
}

export function kafkaConnection(config: Config): KafkaConnectionOptions {
  const { kafka } = config;
  const ca = readOptionalFile(kafka.ssl.caFile, 'kafka.ssl.caFile');
  const cert = readOptionalFile(kafka.ssl.certFile, 'kafka.ssl.certFile');
  const key = readOptionalFile(kafka.ssl.keyFile, 'kafka.ssl.keyFile');
  const ssl = kafka.ssl.enabled
    ? {
        rejectUnauthorized: kafka.ssl.rejectUnauthorized,
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
      }
    : undefined;
  return {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    requestTimeoutMs: kafka.requestTimeoutMs,
    ...(ssl === undefined ? {} : { ssl }),
    ...(kafka.sasl.mechanism === 'none'
      ? {}
      : {
          sasl: {
            mechanism: kafka.sasl.mechanism,
            username: kafka.sasl.username ?? '',
            password: kafka.sasl.password ?? '',
          },
        }),
  };
}

/** Sinks, dead letter, enrichment and the pipeline around a source: what `run` and `backfill` share. */
interface Delivery {
  /** Starts the dead letter, the sinks (topic check, index template), enrichment and the pipeline. */
  start(): Promise<void>;
  /** Stops the pipeline (drains in flight, bounded), enrichment, the sinks and the dead letter. */
  stop(timeoutMs: number): Promise<boolean>;
}

function createSinks(
  config: Config,
  telemetry: Telemetry,
  log: (component: string) => Logger,
): { sinks: Sink[]; deadLetter: DeadLetter } {
  const sinks: Sink[] = [];
  // One Kafka client for the events topic and the dead-letter topic alike.
  const kafka = config.kafka.enabled ? createKafkaClient(kafkaConnection(config)) : undefined;
  if (kafka !== undefined) {
    sinks.push(
      new KafkaSink({
        client: kafka,
        endpoint: config.kafka.brokers.join(','),
        topic: config.kafka.topic,
        createTopic: config.kafka.createTopic,
        topicPartitions: config.kafka.topicPartitions,
        topicReplicationFactor: config.kafka.topicReplicationFactor,
        compression: config.kafka.compression,
        idempotent: config.kafka.idempotent,
        logger: log('sink.kafka'),
        onHealth: telemetry.sinkHealth,
        onRetry: telemetry.sinkRetried,
      }),
    );
  }
  if (config.opensearch.enabled && config.opensearch.url !== null) {
    const ca = readOptionalFile(config.opensearch.tls.caFile, 'opensearch.tls.caFile');
    const client = createOpenSearchClient({
      url: config.opensearch.url,
      requestTimeoutMs: config.opensearch.requestTimeoutMs,
      compression: config.opensearch.compression,
      rejectUnauthorized: config.opensearch.tls.rejectUnauthorized,
      ...(ca === undefined ? {} : { ca }),
      ...(config.opensearch.username === null || config.opensearch.password === null
        ? {}
        : { username: config.opensearch.username, password: config.opensearch.password }),
      ...(config.opensearch.sigv4.enabled
        ? {
            sigv4: {
              region: config.opensearch.sigv4.region ?? '',
              service: config.opensearch.sigv4.service,
            },
          }
        : {}),
    });
    sinks.push(
      new OpenSearchSink({
        client,
        endpoint: displayUrl(config.opensearch.url),
        indexPrefix: config.opensearch.indexPrefix,
        bulkMaxDocs: config.opensearch.bulkMaxDocs,
        lateIndex: config.opensearch.lateIndex,
        logger: log('sink.opensearch'),
        onHealth: telemetry.sinkHealth,
        onRetry: telemetry.sinkRetried,
        onStall: telemetry.sinkStall,
        onRefused: telemetry.sinkRefused,
      }),
    );
  }
  if (sinks.length === 0) {
    throw new UsageError(
      'no sink is enabled: set kafka.brokers (KAFKA_BROKERS) and/or opensearch.url (OPENSEARCH_URL)',
      'FWD_ERR_CONFIG',
    );
  }

  const deadLetter = new DeadLetter({
    file: config.deadLetter.file,
    ...(kafka === undefined
      ? {}
      : {
          kafka: {
            client: kafka,
            endpoint: config.kafka.brokers.join(','),
            topic: config.deadLetter.topic,
            createTopic: config.kafka.createTopic,
            topicPartitions: config.deadLetter.topicPartitions,
            topicReplicationFactor: config.deadLetter.topicReplicationFactor,
          },
        }),
    logger: log('dead-letter'),
    onFallback: (entries) => telemetry.metrics.deadLetterFallbacks.inc(entries),
  });
  return { sinks, deadLetter };
}

/**
 * Everything after the source, built the same way for `run` and `backfill`, so a backfilled
 * record gets the same transform, the same uid and the same sinks as a live one.
 */
function createDelivery(
  config: Config,
  telemetry: Telemetry,
  log: (component: string) => Logger,
  source: BatchSource,
  observer: PipelineObserver = telemetry.pipelineObserver,
  live = true,
): Delivery {
  const { sinks, deadLetter } = createSinks(config, telemetry, log);
  const labels = config.enrichment.labels;
  const labelList = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
  let metadata: MetadataProvider | undefined;
  let enricher: () => EventEnricher;
  if (config.enrichment.enabled) {
    const region = config.enrichment.region;
    const endpoint = config.enrichment.endpoint ?? undefined;
    const provider = new MetadataProvider({
      port: createCloudHsmPort(
        createCloudHsmClient({ region, ...(endpoint === undefined ? {} : { endpoint }) }),
      ),
      region,
      ...(config.aws.accountId === null
        ? {
            identity: createCallerIdentityPort(
              new STSClient({ region, ...(endpoint === undefined ? {} : { endpoint }) }),
            ),
          }
        : { accountId: config.aws.accountId }),
      labels,
      refreshIntervalMs: config.enrichment.refreshIntervalMs,
      logger: log('enrichment'),
      onRefresh: (outcome) => telemetry.metrics.enrichmentRefreshes.inc({ outcome }),
    });
    metadata = provider;
    // One snapshot per batch: cheap, and every event of a batch sees the same metadata.
    enricher = () => {
      const snapshot = provider.snapshot();
      return (event) => enrichEvent(event, snapshot, { labels });
    };
  } else {
    enricher = () =>
      labelList.length === 0 ? (event) => event : (event) => withLabels(event, labelList);
  }

  const context = {
    ...(config.aws.region === null ? {} : { region: config.aws.region }),
    ...(config.aws.accountId === null ? {} : { accountId: config.aws.accountId }),
  };
  const pipeline = new Pipeline({
    source,
    dispatcher: new Dispatcher({
      sinks,
      deadLetter,
      observer: telemetry.dispatchObserver,
      logger: log('dispatcher'),
    }),
    // A backfill reads each stream once up to its end and stops: nothing would re-read a gap
    // later, so it reports gaps at once and has no look-back.
    tracker: new IntegrityTracker({ repairWindowMs: live ? config.source.gapRepairWindowMs : 0 }),
    // Remembers a little longer than the look-back reaches, so a re-read never re-delivers.
    ...(live
      ? {
          recent: new RecentRecords(
            config.source.lookBackWindowMs + 2 * config.source.lookBackIntervalMs,
          ),
        }
      : {}),
    actors: new ActorInference(),
    context,
    enricher,
    observer,
    logger: log('pipeline'),
    onFatal: () => {
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    },
  });

  // Aborted by stop(): a forwarder waiting for an unreachable sink at start-up stops at once.
  const stopping = new AbortController();
  const starting = log('start-up');
  // The live forwarder waits out a sink it cannot reach yet (a broker still starting, a node
  // restarting): exiting would only turn it into a crash loop with growing back-off. A backfill
  // is run by hand, so it says so and exits.
  const start = (what: string, run: () => Promise<void>): Promise<void> =>
    live ? startPatiently(what, run, telemetry, starting, stopping.signal) : run();

  return {
    async start() {
      // The sinks first: a broker that cannot be reached is told as the Kafka sink's failure.
      for (const sink of sinks) await start(sink.name, () => sink.start());
      await start('dead letter', () => deadLetter.start());
      telemetry.watchSinks(sinks);
      // Never blocks delivery: a failed first refresh leaves events marked as not enriched.
      await metadata?.start();
      await pipeline.start();
    },
    async stop(timeoutMs) {
      stopping.abort(abortError());
      const drained = await pipeline.stop(timeoutMs);
      await metadata?.stop();
      for (const sink of sinks) await sink.stop();
      await deadLetter.stop();
      return drained;
    },
  };
}

/**
 * Runs a sink's start-up step until it succeeds, retrying with back-off while the sink cannot be
 * reached (the transient causes of sink/start-up-error.ts); any other failure is thrown at once.
 * Meanwhile `/readyz` fails with the reason and the log says what is awaited (once a minute).
 */
async function startPatiently(
  what: string,
  run: () => Promise<void>,
  telemetry: Telemetry,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const check = `start-up:${what}`;
  try {
    const end = await retryUntilDone<undefined, undefined, unknown>(
      undefined,
      async () => {
        try {
          await run();
          return { kind: 'success', value: undefined };
        } catch (error) {
          if (!(error instanceof ForwarderError && error.retryable)) {
            return { kind: 'reject', value: error };
          }
          telemetry.readiness.set(check, false, error.message);
          logger.warn(
            { reason: error.message },
            `${what} cannot be reached at start-up; waiting for it (retried with back-off; /readyz fails meanwhile)`,
          );
          return { kind: 'retry' };
        }
      },
      { backoff: RETRY_BACKOFF.startUp, clock: monotonicClock, signal },
    );
    if (end.kind === 'reject') throw end.value;
  } finally {
    telemetry.readiness.delete(check);
  }
}

/** A URL as shown in errors: user info (credentials in the URL) never leaves the config. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'opensearch.url';
  }
}

function cloudWatchPort(config: Config): SdkCloudWatchPort {
  return new SdkCloudWatchPort(
    createCloudWatchClient({
      region: config.aws.region ?? undefined,
      endpoint: config.aws.endpoint ?? undefined,
    }),
  );
}

function backpressure(config: Config): AckTrackerOptions {
  return {
    maxInFlightBatchesPerStream: config.pipeline.maxInFlightBatchesPerStream,
    maxInFlightBatches: config.pipeline.maxInFlightBatches,
    maxInFlightEvents: config.pipeline.maxInFlightEvents,
    maxInFlightBytes: config.pipeline.maxInFlightBytes,
  };
}

export function createApp(config: Config, logger: Logger): App {
  const telemetry = createTelemetry(config, logger);
  const log = (component: string) => childLogger(logger, component);

  // One budget per account and region (the quotas' scope); every source of that scope shares it.
  // Unlike awsRegion, no fallback region: without aws.region the lowest quota applies.
  const getLogEvents = getLogEventsBudget(config.source.rateLimits.getLogEvents, config.aws.region);
  log('source').info(
    { getLogEventsPerSecond: getLogEvents.perSecond, region: config.aws.region },
    getLogEvents.auto
      ? 'GetLogEvents budget derived from the region quota (source.rateLimits.getLogEvents auto)'
      : 'GetLogEvents budget as configured (source.rateLimits.getLogEvents)',
  );
  const budgets = new BudgetRegistry(
    () =>
      new RateLimiter(
        {
          GetLogEvents: { ratePerSecond: getLogEvents.perSecond },
          DescribeLogStreams: { ratePerSecond: config.source.rateLimits.describeLogStreams },
          DescribeLogGroups: { ratePerSecond: config.source.rateLimits.describeLogGroups },
        },
        monotonicClock,
        {
          minIdleMs: config.source.pollMinIntervalMs,
          onSiblingsWoken: (stream, woken) => telemetry.sourceMetrics.siblingsWoken(stream, woken),
        },
      ),
  );
  const scope = { accountId: config.aws.accountId, region: awsRegion(config) };
  const source = new CloudWatchSource({
    port: cloudWatchPort(config),
    checkpointStore: new FileCheckpointStore({
      dir: config.checkpoint.dir,
      scope,
    }),
    logger: log('source'),
    metrics: telemetry.sourceMetrics,
    startPosition: parseStartPosition(config.source.startPosition, 'source.startPosition'),
    discovery: {
      logGroupPrefixes: config.source.logGroupPrefixes,
      logGroups: config.source.logGroups,
      intervalMs: config.source.discoveryIntervalMs,
    },
    polling: {
      pageLimit: config.source.pageLimit,
      lookBackWindowMs: config.source.lookBackWindowMs,
      lookBackIntervalMs: config.source.lookBackIntervalMs,
    },
    retiredCheckpointRetentionMs: config.source.retiredCheckpointRetentionMs,
    backpressure: backpressure(config),
    limiter: budgets.forScope(scope),
  });
  const delivery = createDelivery(config, telemetry, log, source);

  return {
    async start() {
      await telemetry.start();
      await delivery.start();
      telemetry.readiness.set('checkpoints', true);
    },
    async stop() {
      const drained = await delivery.stop(config.pipeline.shutdownTimeoutMs);
      await telemetry.stop();
      return drained;
    },
  };
}

/** What a `backfill` run reads (commands/backfill-command.ts parses it). */
export interface BackfillOptions {
  /** Inclusive start of the range, epoch ms. */
  readonly from: number;
  /** Exclusive end of the range, epoch ms. */
  readonly to: number;
  /** Only these log groups; empty: the groups of the discovery configuration. */
  readonly logGroups: readonly string[];
  /** GetLogEvents calls per second, a budget of its own beside the live forwarder's. */
  readonly ratePerSecond: number;
  /** Where its checkpoints live (never the live checkpoint directory). */
  readonly stateDir: string;
}

/** Told of progress: acknowledged records (delivered or dead-lettered) and finished streams. */
export interface BackfillObserver {
  acknowledged(stream: StreamRef, records: number, lastTimestamp: number | undefined): void;
  streamDone(stream: StreamRef): void;
}

export interface Backfill {
  /** The streams of the range (DescribeLogStreams), without reading events or touching state. */
  plan(): Promise<PlannedStream[]>;
  /**
   * Starts the sinks and reads every stream of the plan's groups from its backfill checkpoint.
   * Resolves with the number of streams read (a stream created since the plan is read too).
   */
  start(streams: readonly PlannedStream[]): Promise<number>;
  /** Resolves when every stream is read to the end of the range, acknowledged and durable. */
  whenDone(): Promise<void>;
  /** Stops reading, drains what is in flight (bounded), closes the sinks. True if drained. */
  stop(): Promise<boolean>;
}

/**
 * `backfill`: the live forwarder's delivery (same transform, uids and sinks) behind a source of
 * its own, bounded to [from, to): its checkpoints in `stateDir` (a re-run or a run after a crash
 * resumes from them; the live ones are never opened), its own GetLogEvents budget, and one
 * discovery round (the streams of the plan). No HTTP server: it runs beside the live forwarder,
 * whose port it would take.
 */
export function createBackfill(
  config: Config,
  logger: Logger,
  options: BackfillOptions,
  observer: BackfillObserver,
): Backfill {
  const telemetry = createTelemetry(config, logger);
  const log = (component: string) => childLogger(logger, component);
  const port = cloudWatchPort(config);
  const limiter = new RateLimiter(
    {
      GetLogEvents: { ratePerSecond: options.ratePerSecond },
      DescribeLogStreams: { ratePerSecond: config.source.rateLimits.describeLogStreams },
      DescribeLogGroups: { ratePerSecond: config.source.rateLimits.describeLogGroups },
    },
    monotonicClock,
    { minIdleMs: config.source.pollMinIntervalMs },
  );
  const groups =
    options.logGroups.length > 0
      ? { logGroupPrefixes: [], logGroups: options.logGroups }
      : { logGroupPrefixes: config.source.logGroupPrefixes, logGroups: config.source.logGroups };
  const scope = { accountId: config.aws.accountId, region: awsRegion(config) };
  const done = new Set<string>();
  let expected = Number.POSITIVE_INFINITY;
  let allRead: () => void = () => undefined;
  const read = new Promise<void>((resolve) => (allRead = resolve));
  const streamDone = (stream: StreamRef): void => {
    done.add(streamKey(stream));
    observer.streamDone(stream);
    if (done.size >= expected) allRead();
  };
  let source: CloudWatchSource | undefined;
  let delivery: Delivery | undefined;
  return {
    plan: () => planBackfill({ port, limiter }, groups, options),
    async start(streams) {
      const logGroups = [...new Set(streams.map((s) => s.logGroup))];
      const bounded = new CloudWatchSource({
        port,
        checkpointStore: new FileCheckpointStore({ dir: options.stateDir, scope }),
        logger: log('backfill.source'),
        metrics: telemetry.sourceMetrics,
        startPosition: { kind: 'time', time: options.from },
        discovery: { logGroupPrefixes: [], logGroups, rediscover: false },
        polling: { pageLimit: config.source.pageLimit, endTime: options.to },
        // Its own state: nothing to prune, and it must stay until the range is read.
        retiredCheckpointRetentionMs: 0,
        backpressure: backpressure(config),
        limiter,
        onStreamDone: streamDone,
      });
      source = bounded;
      delivery = createDelivery(
        config,
        telemetry,
        log,
        bounded,
        {
          transformed: (batch, result) => telemetry.pipelineObserver.transformed(batch, result),
          acknowledged: (batch, result, now) => {
            telemetry.pipelineObserver.acknowledged(batch, result, now);
            observer.acknowledged(
              batch.stream,
              batch.events.length,
              batch.events.at(-1)?.timestamp,
            );
          },
        },
        false,
      );
      await delivery.start();
      const found = bounded.activeStreams().length;
      if (found < streams.length) {
        throw new ForwarderError(
          'FWD_ERR_SOURCE',
          `backfill: listing the streams of ${logGroups.join(', ')} found ${found} of the ${streams.length} planned (DescribeLogStreams failed, see the log); run the same command again, it resumes`,
        );
      }
      expected = found;
      if (done.size >= expected) allRead();
      return found;
    },
    async whenDone() {
      await read;
      await source?.whenAllAcked();
    },
    async stop() {
      const drained = (await delivery?.stop(config.pipeline.shutdownTimeoutMs)) ?? true;
      await telemetry.stop();
      return drained;
    },
  };
}

export interface SimulationOptions {
  /** The CloudWatch Logs endpoint (an emulator: the command refuses anything but loopback). */
  readonly endpoint: string;
  readonly region: string;
  readonly clusters: number;
  readonly hsmsPerCluster: number;
  readonly recordsPerHsm: number;
  readonly logGroupPrefix: string;
  readonly seed: number;
  readonly gap: boolean;
  /** Records per HSM kept for live writing (one per HSM per second), 0 for none. */
  readonly liveRecordsPerHsm: number;
}

export interface Simulation {
  readonly report: FleetReport;
  readonly streams: readonly { readonly logGroup: string; readonly logStream: string }[];
  /** Writes the records that are due by `now`; returns how many it wrote (0 once all are). */
  writeDue(now: number): Promise<number>;
  /** Records still to be written live. */
  readonly pending: number;
  close(): void;
}

/**
 * A simulated fleet written into a CloudWatch Logs emulator (`simulate`, the README's quick
 * start). Records are timestamped so that the first `recordsPerHsm` of each HSM are in the past
 * and the live ones fall due one per second from now.
 */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const live = options.liveRecordsPerHsm > 0;
  const spacingMs = live ? 1000 : 10;
  const now = Date.now();
  const fleet = simulateFleet({
    clusters: options.clusters,
    hsmsPerCluster: options.hsmsPerCluster,
    recordsPerHsm: options.recordsPerHsm + options.liveRecordsPerHsm,
    certRecords: 0,
    logGroupPrefix: options.logGroupPrefix,
    startMs: now - options.recordsPerHsm * spacingMs,
    spacingMs,
    seed: options.seed,
    gap: options.gap,
  });
  const client = createCloudWatchClient({ region: options.region, endpoint: options.endpoint });
  const hsmStreams = fleet.streams.filter((stream) => stream.records.length > 0);
  for (const stream of hsmStreams) await ensureStream(client, stream.logGroup, stream.logStream);
  const written = new Map(hsmStreams.map((stream) => [stream, 0]));
  let pending = hsmStreams.reduce((sum, stream) => sum + stream.records.length, 0);
  const simulation: Simulation = {
    report: fleet.report,
    streams: hsmStreams.map(({ logGroup, logStream }) => ({ logGroup, logStream })),
    get pending() {
      return pending;
    },
    async writeDue(at) {
      let count = 0;
      for (const stream of hsmStreams) {
        const from = written.get(stream) ?? 0;
        let to = from;
        while (to < stream.records.length && (stream.records[to]?.timestamp ?? at + 1) <= at)
          to += 1;
        if (to === from) continue;
        await putRecords(client, stream.logGroup, stream.logStream, stream.records.slice(from, to));
        written.set(stream, to);
        count += to - from;
      }
      pending -= count;
      return count;
    },
    close() {
      client.destroy();
    },
  };
  return simulation;
}

/** What `dead-letter replay` sends an entry to, and what became of it. */
export interface ReplayOutcome {
  /** Keys of the entries every target sink now holds (delivered or already there). */
  readonly delivered: readonly string[];
  /** Entries a target sink refused again, with its words; they stay in the dead letter. */
  readonly refused: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
}

export interface DeadLetterReplay {
  /** The enabled sinks, by name. */
  readonly sinks: readonly SinkName[];
  start(): Promise<void>;
  /** Sends the events of `entries` to each of `targets`; retries outages like the forwarder. */
  replay(
    entries: readonly StoredDeadLetter[],
    targets: readonly SinkName[],
    signal: AbortSignal,
  ): Promise<ReplayOutcome>;
  stop(): Promise<void>;
}

/**
 * `dead-letter replay`: the configured sinks, without a dead letter of their own (an entry
 * refused again simply stays where it is). OpenSearch's `create` with the uid as `_id` keeps a
 * replay idempotent; Kafka is at-least-once, as always.
 */
export function createDeadLetterReplay(config: Config, logger: Logger): DeadLetterReplay {
  const telemetry = createTelemetry(config, logger);
  const log = (component: string) => childLogger(logger, component);
  const { sinks } = createSinks(config, telemetry, log);
  return {
    sinks: sinks.map((sink) => sink.name),
    async start() {
      for (const sink of sinks) await sink.start();
    },
    async replay(entries, targets, signal) {
      const refused = new Map<string, string>();
      const byUid = new Map<string, string[]>();
      const events = entries.map(({ key, entry }) => {
        byUid.set(entry.uid, [...(byUid.get(entry.uid) ?? []), key]);
        // The uid starts with the stream name: the key of events without a device.
        return toOutboundEvent(entry.event as OcsfLike, entry.uid.split(':')[0] ?? entry.uid);
      });
      for (const sink of sinks.filter((s) => targets.includes(s.name))) {
        const result = await sink.deliver(events, signal);
        for (const { event, detail } of result.rejected) {
          for (const key of byUid.get(event.uid) ?? []) refused.set(key, detail);
        }
      }
      return {
        delivered: entries.map((e) => e.key).filter((key) => !refused.has(key)),
        refused: [...refused].map(([key, reason]) => ({ key, reason })),
      };
    },
    async stop() {
      for (const sink of sinks) await sink.stop();
    },
  };
}

/**
 * The entries of the dead-letter topic (`dead-letter list|replay --from-topic`), read through a
 * consumer group of its own (`<kafka.clientId>.dead-letter-replay`, nothing committed).
 */
export async function readDeadLetterTopicEntries(
  config: Config,
): Promise<{ readonly topic: string; readonly read: DeadLetterFile }> {
  if (!config.kafka.enabled) {
    throw new UsageError(
      '--from-topic needs Kafka: set kafka.brokers (KAFKA_BROKERS); without Kafka the dead letter is the file (deadLetter.file)',
    );
  }
  const topic = config.deadLetter.topic;
  const kafka = createKafkaClient(kafkaConnection(config));
  const read = await readDeadLetterTopic(
    kafka,
    topic,
    `${config.kafka.clientId}.dead-letter-replay`,
  );
  return { topic, read };
}
