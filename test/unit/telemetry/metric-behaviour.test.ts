/**
 * Each metric behaves as its row in the README says. Every row gets a probe: an action through
 * the same hooks the forwarder calls (the dispatcher's and pipeline's observers, the source's
 * metric hooks, the sink health listener) and the samples the row's meaning implies. A row added
 * without a probe fails here, so the table cannot drift from the code again (the README said
 * records_delivered_total includes OpenSearch 409 duplicates, and it did not).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadConfig } from '../../../src/config/load.js';
import { packageRoot } from '../../../src/config/package-info.js';
import type { Batch } from '../../../src/source/batch.js';
import type { TransformedBatch } from '../../../src/pipeline/transform-batch.js';
import { METRIC_PREFIX } from '../../../src/telemetry/metrics.js';
import { createTelemetry } from '../../../src/telemetry/telemetry.js';
import type { Telemetry } from '../../../src/telemetry/telemetry.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { Writable } from 'node:stream';

const GROUP = '/aws/cloudhsm/cluster-behaviour';
const STREAM = { logGroup: GROUP, logStream: 'hsm-behaviour' };

function telemetry(): Telemetry {
  const config = loadConfig({
    cwd: mkdtempSync(join(tmpdir(), 'metric-behaviour-')),
    env: { KAFKA_BROKERS: '127.0.0.1:1', OPENSEARCH_URL: 'http://127.0.0.1:1' },
  });
  const destination = new Writable({ write: (_c, _e, done) => done() });
  return createTelemetry(config, createLogger({ level: 'error', destination }));
}

const batch = (events: number, extra: Partial<Batch> = {}): Batch => ({
  id: `${GROUP}|hsm#1`,
  stream: STREAM,
  seq: 1,
  events: Array.from({ length: events }, (_, i) => ({
    timestamp: 1_000 + i,
    ingestionTime: 1_000 + i,
    message: `m${i}`,
    eventId: String(i),
  })),
  fromToken: undefined,
  toToken: 'f/1',
  readAt: 0,
  resume: {} as Batch['resume'],
  ...extra,
});

const transformed = (extra: Partial<TransformedBatch> = {}): TransformedBatch => ({
  events: [],
  parsed: 0,
  unparseable: 0,
  findings: {},
  eventTimes: [],
  repairs: [],
  repaired: 0,
  unrepaired: { gaps: 0, missing: 0 },
  replayDuplicates: 0,
  ...extra,
});

type Probe = (t: Telemetry) => void;

/** metric (without prefix) → what the forwarder does, and the samples that must then hold. */
const PROBES: Record<string, { readonly act: Probe; readonly expect: readonly string[] }> = {
  records_read_total: {
    act: (t) => t.sourceMetrics.eventsRead(GROUP, 7),
    expect: [`records_read_total{log_group="${GROUP}"} 7`],
  },
  records_parsed_total: {
    act: (t) =>
      t.pipelineObserver.transformed(batch(5), transformed({ parsed: 4, unparseable: 1 })),
    expect: [`records_parsed_total{log_group="${GROUP}"} 4`],
  },
  records_unparseable_total: {
    act: (t) =>
      t.pipelineObserver.transformed(batch(5), transformed({ parsed: 4, unparseable: 1 })),
    expect: [`records_unparseable_total{log_group="${GROUP}"} 1`],
  },
  records_delivered_total: {
    act: (t) =>
      t.dispatchObserver.sinkResult(
        'opensearch',
        { delivered: 3, duplicates: 2, rejected: [] },
        0.1,
      ),
    expect: ['records_delivered_total{sink="opensearch"} 5'],
  },
  records_duplicates_total: {
    act: (t) =>
      t.dispatchObserver.sinkResult(
        'opensearch',
        { delivered: 3, duplicates: 2, rejected: [] },
        0.1,
      ),
    expect: ['records_duplicates_total{sink="opensearch"} 2'],
  },
  records_dead_lettered_total: {
    act: (t) => t.dispatchObserver.deadLettered('opensearch', 2, 'file', 'mapping_error'),
    expect: ['records_dead_lettered_total{sink="opensearch",reason="mapping_error"} 2'],
  },
  sink_refusals_total: {
    act: (t) => t.sinkRefused('opensearch', 'forbidden', 3),
    expect: ['sink_refusals_total{sink="opensearch",reason="forbidden"} 3'],
  },
  sink_request_duration_seconds: {
    act: (t) =>
      t.dispatchObserver.sinkResult('kafka', { delivered: 1, duplicates: 0, rejected: [] }, 0.25),
    expect: [
      'sink_request_duration_seconds_count{sink="kafka"} 1',
      'sink_request_duration_seconds_sum{sink="kafka"} 0.25',
    ],
  },
  sink_up: {
    act: (t) => {
      t.sinkHealth('kafka', true);
      t.sinkHealth('opensearch', false, 'connect ECONNREFUSED');
    },
    expect: ['sink_up{sink="kafka"} 1', 'sink_up{sink="opensearch"} 0'],
  },
  api_calls_total: {
    act: (t) => t.sourceMetrics.apiCall('GetLogEvents', 'success', 120),
    expect: ['api_calls_total{operation="GetLogEvents",outcome="success"} 1'],
  },
  api_call_duration_seconds: {
    act: (t) => t.sourceMetrics.apiCall('GetLogEvents', 'success', 120),
    expect: ['api_call_duration_seconds_sum{operation="GetLogEvents"} 0.12'],
  },
  api_throttles_total: {
    act: (t) => t.sourceMetrics.throttled('GetLogEvents'),
    expect: ['api_throttles_total{operation="GetLogEvents"} 1'],
  },
  rate_limit_wait_seconds: {
    act: (t) => t.sourceMetrics.rateLimitWait('GetLogEvents', 500),
    expect: ['rate_limit_wait_seconds_sum{operation="GetLogEvents"} 0.5'],
  },
  retries_total: {
    act: (t) => t.sourceMetrics.retry('GetLogEvents', 200),
    expect: ['retries_total{stage="source"} 1'],
  },
  get_log_events_pages_total: {
    act: (t) => {
      t.sourceMetrics.page(STREAM, 3);
      t.sourceMetrics.page(STREAM, 0);
    },
    expect: [
      'get_log_events_pages_total{result="data"} 1',
      'get_log_events_pages_total{result="empty"} 1',
    ],
  },
  batch_latency_seconds: {
    act: (t) => t.pipelineObserver.acknowledged(batch(1, { readAt: 1_000 }), transformed(), 3_000),
    expect: ['batch_latency_seconds_sum 2'],
  },
  end_to_end_lag_seconds: {
    act: (t) =>
      t.pipelineObserver.acknowledged(batch(1), transformed({ eventTimes: [1_000, 2_000] }), 5_000),
    expect: ['end_to_end_lag_seconds_count 2', 'end_to_end_lag_seconds_sum 7'],
  },
  integrity_findings_total: {
    act: (t) =>
      t.pipelineObserver.transformed(batch(1), transformed({ findings: { gap: 2, reboot: 1 } })),
    expect: ['integrity_findings_total{kind="gap"} 2', 'integrity_findings_total{kind="reboot"} 1'],
  },
  integrity_gaps_repaired_total: {
    act: (t) => t.pipelineObserver.transformed(batch(1), transformed({ repaired: 2 })),
    expect: [`integrity_gaps_repaired_total{log_group="${GROUP}"} 2`],
  },
  rereads_total: {
    act: (t) => t.sourceMetrics.reread(STREAM, 10),
    expect: [`rereads_total{log_group="${GROUP}"} 1`],
  },
  reread_records_recovered_total: {
    act: (t) =>
      t.pipelineObserver.transformed(
        batch(5, { replay: true }),
        transformed({ replayDuplicates: 3 }),
      ),
    expect: [`reread_records_recovered_total{log_group="${GROUP}"} 2`],
  },
  sibling_wakeups_total: {
    act: (t) => t.sourceMetrics.siblingsWoken(STREAM, 2),
    expect: [`sibling_wakeups_total{log_group="${GROUP}"} 2`],
  },
  streams: {
    act: (t) => t.sourceMetrics.streamStates(2, 4),
    expect: ['streams{state="active"} 2', 'streams{state="idle"} 4'],
  },
  token_rejections_total: {
    act: (t) => t.sourceMetrics.tokenRejected(STREAM),
    expect: [`token_rejections_total{log_group="${GROUP}"} 1`],
  },
  source_duplicates_skipped_total: {
    act: (t) => t.sourceMetrics.duplicatesSkipped(STREAM, 4),
    expect: [`source_duplicates_skipped_total{log_group="${GROUP}"} 4`],
  },
  streams_discovered_total: {
    act: (t) => t.sourceMetrics.streamDiscovered(STREAM),
    expect: [`streams_discovered_total{log_group="${GROUP}"} 1`],
  },
  polling_lag_seconds: {
    act: (t) => {
      t.sourceMetrics.pollingLag(STREAM, 30_000);
      t.sourceMetrics.pollingLag({ ...STREAM, logStream: 'hsm-2' }, 90_000);
    },
    expect: [`polling_lag_seconds{log_group="${GROUP}"} 90`],
  },
  streams_retired_total: {
    act: (t) => t.sourceMetrics.streamRetired(STREAM),
    expect: [`streams_retired_total{log_group="${GROUP}"} 1`],
  },
  poller_restarts_total: {
    act: (t) => t.sourceMetrics.pollerRestarted(STREAM),
    expect: [`poller_restarts_total{log_group="${GROUP}"} 1`],
  },
  in_flight_batches: {
    act: (t) => t.sourceMetrics.inFlight(3, 1200),
    expect: ['in_flight_batches 3'],
  },
  in_flight_events: {
    act: (t) => t.sourceMetrics.inFlight(3, 1200),
    expect: ['in_flight_events 1200'],
  },
  checkpoint_commits_total: {
    act: (t) => {
      t.sourceMetrics.checkpointCommitted(STREAM);
      t.sourceMetrics.checkpointFailed(STREAM);
    },
    expect: [
      'checkpoint_commits_total{outcome="success"} 1',
      'checkpoint_commits_total{outcome="error"} 1',
    ],
  },
  checkpoint_age_seconds: {
    act: (t) => t.sourceMetrics.checkpointCommitted(STREAM),
    expect: [`checkpoint_age_seconds{log_group="${GROUP}"} 0`],
  },
  build_info: {
    act: () => undefined,
    expect: [`build_info{version="`],
  },
};

/**
 * Rows whose behaviour a probe here cannot show without the component that feeds them, with the
 * test that shows it; the test file must exist and name the metric.
 */
const SHOWN_ELSEWHERE: Record<string, string> = {
  // Wired in src/app.ts from the dead-letter writer's onFallback to the counter.
  dead_letter_fallbacks_total: 'test/integration/sink/dead-letter.test.ts',
  // Wired in src/app.ts from the metadata provider's onRefresh to the counter.
  enrichment_refreshes_total: 'test/integration/e2e/enrichment.test.ts',
};

const NAMED_IN_TEST: Record<string, RegExp> = {
  dead_letter_fallbacks_total: /onFallback/,
  enrichment_refreshes_total: /enrichment_refreshes_total/,
};

function readmeRows(): string[] {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const rows = [...readme.matchAll(new RegExp(`^\\| \`${METRIC_PREFIX}([a-z_]+)\` \\|`, 'gm'))];
  return rows.map((match) => match[1] ?? '');
}

describe('every metric behaves as its README row says', () => {
  it('has a probe (or a named test) for every row of the README table', () => {
    const rows = readmeRows();
    assert.ok(rows.length > 20, `found ${rows.length} rows`);
    const missing = rows.filter(
      (row) => PROBES[row] === undefined && SHOWN_ELSEWHERE[row] === undefined,
    );
    assert.deepEqual(missing, [], 'README rows without a behaviour check');
  });

  for (const [metric, file] of Object.entries(SHOWN_ELSEWHERE)) {
    it(`${metric}: shown by ${file}`, () => {
      const text = readFileSync(join(packageRoot(), file), 'utf8');
      assert.match(text, NAMED_IN_TEST[metric] ?? new RegExp(metric));
    });
  }

  for (const [metric, probe] of Object.entries(PROBES)) {
    it(metric, async () => {
      const t = telemetry();
      probe.act(t);
      const text = await t.metrics.registry.metrics();
      for (const sample of probe.expect) {
        assert.ok(
          text.split('\n').some((line) => line.startsWith(`${METRIC_PREFIX}${sample}`)),
          `${METRIC_PREFIX}${sample} in:\n${text
            .split('\n')
            .filter((l) => l.includes(metric))
            .join('\n')}`,
        );
      }
    });
  }
});
