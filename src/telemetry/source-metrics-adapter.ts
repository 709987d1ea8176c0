/**
 * Implements the source's metric hooks (`SourceMetrics`) with the prom-client handles. Stream
 * names never become labels: per-stream values are folded into their log group (= cluster).
 */
import { streamKey } from '../util/identity.js';
import type { SourceMetrics } from '../source/source-metrics.js';
import type { Metrics } from './metrics.js';

/** `SourceMetrics` backed by {@link Metrics}; `now` is only used for checkpoint ages. */
export function createSourceMetrics(metrics: Metrics, now: () => number = Date.now): SourceMetrics {
  /** Latest polling lag per stream, so the log-group gauge can show the worst stream. */
  const lagByStream = new Map<string, { logGroup: string; seconds: number }>();

  const refreshLag = (logGroup: string): void => {
    let worst: number | undefined;
    for (const entry of lagByStream.values()) {
      if (entry.logGroup === logGroup && (worst === undefined || entry.seconds > worst)) {
        worst = entry.seconds;
      }
    }
    if (worst === undefined) metrics.pollingLag.remove({ log_group: logGroup });
    else metrics.pollingLag.set({ log_group: logGroup }, worst);
  };

  return {
    apiCall(operation, outcome, durationMs) {
      metrics.apiCalls.inc({ operation, outcome });
      metrics.apiCallDuration.observe({ operation }, durationMs / 1000);
    },
    throttled(operation) {
      metrics.apiThrottles.inc({ operation });
    },
    retry() {
      metrics.retries.inc({ stage: 'source' });
    },
    rateLimitWait(operation, waitMs) {
      metrics.rateLimitWait.observe({ operation }, waitMs / 1000);
    },
    page(_stream, events) {
      metrics.pages.inc({ result: events > 0 ? 'data' : 'empty' });
    },
    eventsRead(logGroup, count) {
      metrics.recordsRead.inc({ log_group: logGroup }, count);
    },
    pollingLag(stream, lagMs) {
      lagByStream.set(streamKey(stream), {
        logGroup: stream.logGroup,
        seconds: Math.max(0, lagMs / 1000),
      });
      refreshLag(stream.logGroup);
    },
    reread(stream) {
      metrics.rereads.inc({ log_group: stream.logGroup });
    },
    siblingsWoken(stream, woken) {
      metrics.siblingWakeups.inc({ log_group: stream.logGroup }, woken);
    },
    streamStates(active, idle) {
      metrics.streams.set({ state: 'active' }, active);
      metrics.streams.set({ state: 'idle' }, idle);
    },
    tokenRejected(stream) {
      metrics.tokenRejections.inc({ log_group: stream.logGroup });
    },
    duplicatesSkipped(stream, count) {
      metrics.sourceDuplicatesSkipped.inc({ log_group: stream.logGroup }, count);
    },
    streamDiscovered(stream) {
      const labels = { log_group: stream.logGroup };
      metrics.streamsDiscovered.inc(labels);
      // Zero series for the cluster's rare events, so dashboards and alerts see 0, not "no data".
      metrics.tokenRejections.inc(labels, 0);
      metrics.sourceDuplicatesSkipped.inc(labels, 0);
      metrics.siblingWakeups.inc(labels, 0);
      metrics.gapsRepaired.inc(labels, 0);
      metrics.rereads.inc(labels, 0);
      metrics.rereadRecovered.inc(labels, 0);
      metrics.streamsRetired.inc(labels, 0);
      metrics.pollerRestarts.inc(labels, 0);
      metrics.recordsRead.inc(labels, 0);
    },
    streamRetired(stream) {
      metrics.streamsRetired.inc({ log_group: stream.logGroup });
      lagByStream.delete(streamKey(stream));
      refreshLag(stream.logGroup);
    },
    logGroupForgotten(logGroup) {
      metrics.forgetLogGroup(logGroup);
    },
    inFlight(batches, events) {
      metrics.inFlightBatches.set(batches);
      metrics.inFlightEvents.set(events);
    },
    checkpointCommitted(stream) {
      metrics.checkpointCommits.inc({ outcome: 'success' });
      metrics.checkpointCommitted(stream.logGroup, now());
    },
    checkpointFailed() {
      metrics.checkpointCommits.inc({ outcome: 'error' });
      // Every failed checkpoint write is retried by the source.
      metrics.retries.inc({ stage: 'checkpoint' });
    },
    pollerRestarted(stream) {
      metrics.pollerRestarts.inc({ log_group: stream.logGroup });
    },
  };
}
