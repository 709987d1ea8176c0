/**
 * Observability wiring for the running forwarder: one metrics registry, the readiness checks
 * behind `/readyz` (checkpoints loaded, CloudWatch reachable, each enabled sink reachable, the
 * checkpoint store writable: any of them failing for longer than `http.readySinkDownMs` flips
 * it), the HTTP server, and the adapters that turn the components' hooks (source, dispatcher,
 * pipeline, sinks) into metrics.
 */
import type { Config } from '../config/config.js';
import type { Batch } from '../source/batch.js';
import { streamKey } from '../util/identity.js';
import type { Destination, DispatchObserver } from '../pipeline/dispatcher.js';
import type { PipelineObserver } from '../pipeline/pipeline.js';
import type { TransformedBatch } from '../pipeline/transform-batch.js';
import type { SourceMetrics } from '../source/source-metrics.js';
import type {
  Sink,
  SinkHealthListener,
  SinkRefusalListener,
  SinkRetryListener,
  SinkStallListener,
} from '../sink/sink.js';
import { startHttpServer } from './http-server.js';
import type { HttpServerHandle } from './http-server.js';
import { childLogger } from './logger.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import type { Metrics } from './metrics.js';
import { ProgressWatch, Readiness, SinkHealth, WriteHealth } from './readiness.js';
import { createSourceMetrics } from './source-metrics-adapter.js';

export interface Telemetry {
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly sourceMetrics: SourceMetrics;
  readonly dispatchObserver: DispatchObserver;
  readonly pipelineObserver: PipelineObserver;
  readonly sinkHealth: SinkHealthListener;
  /** A sink holding writes back on refusals: fails `/readyz` after `http.readySinkDownMs`. */
  readonly sinkStall: SinkStallListener;
  readonly sinkRefused: SinkRefusalListener;
  /** A sink retrying a delivery: `retries_total` and the reason `/readyz` shows if it stalls. */
  readonly sinkRetried: SinkRetryListener;
  /** Probes each sink periodically, so an idle sink that goes away is noticed too. */
  watchSinks(sinks: readonly Sink[]): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createTelemetry(config: Config, logger: Logger): Telemetry {
  const metrics = createMetrics();
  const readiness = new Readiness();
  const health = new SinkHealth({
    downAfterMs: config.http.readySinkDownMs,
    metrics,
    logger: childLogger(logger, 'sink.health'),
  });
  const cloudwatch = new SinkHealth({ downAfterMs: config.http.readySinkDownMs });
  // The checkpoint store is a destination like the sinks: same grace period before not-ready.
  const checkpointWrites = new WriteHealth({ downAfterMs: config.http.readySinkDownMs });
  let server: HttpServerHandle | undefined;
  let probeTimer: NodeJS.Timeout | undefined;

  readiness.set('checkpoints', false, 'not loaded yet');
  cloudwatch.register('cloudwatch');
  readiness.setProbe('cloudwatch', () => cloudwatch.check('cloudwatch'));
  readiness.setProbe('checkpoint-writes', () => checkpointWrites.check());

  const base = createSourceMetrics(metrics);
  const sourceMetrics: SourceMetrics = {
    ...base,
    apiCall(operation, outcome, durationMs) {
      base.apiCall(operation, outcome, durationMs);
      if (outcome === 'success' || outcome === 'not_found' || outcome === 'token_rejected') {
        cloudwatch.markUp('cloudwatch');
      } else if (outcome === 'retryable_error' || outcome === 'error') {
        cloudwatch.markDown('cloudwatch', `${operation} failed`);
      }
    },
    checkpointCommitted(stream) {
      base.checkpointCommitted(stream);
      checkpointWrites.succeeded(streamKey(stream));
    },
    checkpointFailed(stream) {
      base.checkpointFailed(stream);
      checkpointWrites.failed(streamKey(stream));
    },
  };

  // Progress per destination: work that waits and does not finish fails /readyz, whatever the
  // cause (time-outs, a deleted topic on a broker that answers pings, a full disk).
  const progress = new Map<Destination, ProgressWatch>();
  const watch = (destination: Destination): ProgressWatch => {
    let found = progress.get(destination);
    if (found === undefined) {
      found = new ProgressWatch({
        downAfterMs: config.http.readySinkDownMs,
        what: destination === 'dead_letter' ? 'dead-letter' : destination,
      });
      progress.set(destination, found);
      const watched = found;
      readiness.setProbe(`progress:${destination}`, () => watched.check());
    }
    return found;
  };

  const dispatchObserver: DispatchObserver = {
    deliveryStarted: (destination) => watch(destination).started(),
    deliveryFinished: (destination) => watch(destination).finished(),
    deadLetterRetried(reason) {
      metrics.retries.inc({ stage: 'dead_letter' });
      watch('dead_letter').failed(reason);
    },
    sinkResult(sink, result, seconds) {
      // Durably held by the sink, as documented: a 409 duplicate is held too (counted apart as well).
      metrics.recordsDelivered.inc({ sink }, result.delivered + result.duplicates);
      metrics.recordsDuplicate.inc({ sink }, result.duplicates);
      metrics.sinkRequestDuration.observe({ sink }, seconds);
    },
    deadLettered(sink, count, _destination, kind) {
      metrics.recordsDeadLettered.inc({ sink, reason: kind }, count);
    },
  };

  const pipelineObserver: PipelineObserver = {
    transformed(batch: Batch, result: TransformedBatch) {
      const labels = { log_group: batch.stream.logGroup };
      metrics.recordsParsed.inc(labels, result.parsed);
      metrics.recordsUnparseable.inc(labels, result.unparseable);
      for (const [kind, count] of Object.entries(result.findings)) {
        metrics.integrityFindings.inc({ kind }, count);
      }
      if (result.repaired > 0) metrics.gapsRepaired.inc(labels, result.repaired);
      if (batch.replay === true) {
        const recovered = batch.events.length - result.replayDuplicates;
        if (recovered > 0) metrics.rereadRecovered.inc(labels, recovered);
      }
    },
    acknowledged(batch: Batch, result: TransformedBatch, now: number) {
      metrics.batchLatency.observe((now - batch.readAt) / 1000);
      for (const time of result.eventTimes) metrics.endToEndLag.observe((now - time) / 1000);
    },
  };

  return {
    metrics,
    readiness,
    sourceMetrics,
    dispatchObserver,
    pipelineObserver,
    sinkHealth: health.listener,
    sinkStall: health.stallListener,
    sinkRefused(sink, reason, count) {
      metrics.sinkRefusals.inc({ sink, reason }, count);
    },
    sinkRetried(sink, reason) {
      metrics.retries.inc({ stage: sink });
      watch(sink).failed(reason);
    },
    watchSinks(sinks) {
      health.attach(
        readiness,
        sinks.map((sink) => sink.name),
      );
      const probe = (): void => {
        for (const sink of sinks) {
          void sink
            .ping()
            .then((up) => health.listener(sink.name, up, up ? undefined : 'no answer'));
        }
      };
      // Often enough that readiness flips soon after the configured down time, at most every 5 s.
      const every = Math.min(5000, Math.max(500, Math.floor(config.http.readySinkDownMs / 4)));
      probeTimer = setInterval(probe, every);
      probeTimer.unref();
    },
    async start() {
      server = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        registry: metrics.registry,
        readiness,
        logger,
      });
      logger.info({ port: server.port }, 'metrics and health endpoints listening');
    },
    async stop() {
      clearInterval(probeTimer);
      await server?.close();
    },
  };
}
