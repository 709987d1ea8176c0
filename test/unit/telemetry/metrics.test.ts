import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot } from '../../../src/config/package-info.js';
import { createMetrics, METRIC_DOCS, METRIC_PREFIX } from '../../../src/telemetry/metrics.js';
import { createSourceMetrics } from '../../../src/telemetry/source-metrics-adapter.js';

describe('createMetrics', () => {
  it('exposes every documented metric, with the naming conventions', async () => {
    const { registry } = createMetrics();
    const text = await registry.metrics();
    for (const doc of METRIC_DOCS) {
      assert.ok(doc.name.startsWith(METRIC_PREFIX), doc.name);
      assert.ok(text.includes(`# TYPE ${doc.name} ${doc.type}`), `${doc.name} missing`);
      if (doc.type === 'counter') assert.ok(doc.name.endsWith('_total'), doc.name);
      if (doc.type === 'histogram') assert.ok(doc.name.endsWith('_seconds'), doc.name);
      assert.ok(doc.help.length > 0);
    }
    assert.ok(text.includes(`${METRIC_PREFIX}process_cpu_user_seconds_total`), 'default metrics');
  });

  it('uses its own registry: two instances do not clash', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.recordsRead.inc({ log_group: '/aws/cloudhsm/c1' }, 5);
    assert.match(
      await a.registry.metrics(),
      /records_read_total\{log_group="\/aws\/cloudhsm\/c1"\} 5/,
    );
    assert.doesNotMatch(await b.registry.metrics(), /c1/);
  });

  it('initialises the fixed label sets to zero', async () => {
    const text = await createMetrics({ defaultMetrics: false }).registry.metrics();
    assert.match(text, /records_delivered_total\{sink="kafka"\} 0/);
    assert.match(text, /records_delivered_total\{sink="opensearch"\} 0/);
    assert.match(text, /integrity_findings_total\{kind="gap"\} 0/);
    assert.match(text, /records_dead_lettered_total\{sink="opensearch",reason="mapping_error"\} 0/);
  });

  it('computes checkpoint age at scrape time and forgets a log group', async () => {
    let now = 1_000_000;
    const metrics = createMetrics({ defaultMetrics: false, now: () => now });
    metrics.checkpointCommitted('/aws/cloudhsm/c1');
    metrics.recordsRead.inc({ log_group: '/aws/cloudhsm/c1' });
    now += 42_000;
    assert.match(
      await metrics.registry.metrics(),
      /checkpoint_age_seconds\{log_group="\/aws\/cloudhsm\/c1"\} 42/,
    );
    metrics.forgetLogGroup('/aws/cloudhsm/c1');
    assert.doesNotMatch(await metrics.registry.metrics(), /aws\/cloudhsm\/c1/);
  });

  for (const path of [['src', 'telemetry', 'README.md'], ['README.md']]) {
    it(`is documented in ${path.join('/')}`, () => {
      const readme = readFileSync(join(packageRoot(), ...path), 'utf8');
      for (const doc of METRIC_DOCS) assert.ok(readme.includes(`\`${doc.name}\``), doc.name);
    });
  }
});

describe('createSourceMetrics', () => {
  it('folds streams into log groups and reports the worst polling lag', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const source = createSourceMetrics(metrics, () => 0);
    const group = '/aws/cloudhsm/c1';
    source.eventsRead(group, 10);
    source.pollingLag({ logGroup: group, logStream: 'hsm-a' }, 5_000);
    source.pollingLag({ logGroup: group, logStream: 'hsm-b' }, 9_000);
    source.apiCall('GetLogEvents', 'success', 120);
    source.throttled('GetLogEvents');
    source.tokenRejected({ logGroup: group, logStream: 'hsm-a' });
    source.inFlight(3, 300);
    let text = await metrics.registry.metrics();
    assert.match(text, /records_read_total\{log_group="\/aws\/cloudhsm\/c1"\} 10/);
    assert.match(text, /polling_lag_seconds\{log_group="\/aws\/cloudhsm\/c1"\} 9/);
    assert.match(text, /api_calls_total\{operation="GetLogEvents",outcome="success"\} 1/);
    assert.match(text, /api_throttles_total\{operation="GetLogEvents"\} 1/);
    assert.match(text, /token_rejections_total\{log_group="\/aws\/cloudhsm\/c1"\} 1/);
    assert.match(text, /in_flight_events 300/);
    assert.doesNotMatch(text, /hsm-a|hsm-b/);
    source.streamRetired({ logGroup: group, logStream: 'hsm-b' });
    text = await metrics.registry.metrics();
    assert.match(text, /polling_lag_seconds\{log_group="\/aws\/cloudhsm\/c1"\} 5/);
  });
});
