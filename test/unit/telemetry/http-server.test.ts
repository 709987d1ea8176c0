import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startHttpServer } from '../../../src/telemetry/http-server.js';
import type { HttpServerHandle } from '../../../src/telemetry/http-server.js';
import { createMetrics, METRIC_DOCS } from '../../../src/telemetry/metrics.js';
import { Readiness, SinkHealth } from '../../../src/telemetry/readiness.js';

describe('http server', () => {
  let now = 1_700_000_000_000;
  const metrics = createMetrics();
  const readiness = new Readiness();
  const health = new SinkHealth({ downAfterMs: 60_000, now: () => now, metrics });
  health.attach(readiness, ['kafka', 'opensearch']);
  readiness.set('checkpoints', true);
  let server: HttpServerHandle;

  before(async () => {
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      readiness,
    });
  });
  after(() => server.close());

  const get = (path: string, method = 'GET') => fetch(`${server.url}${path}`, { method });

  it('binds an ephemeral port', () => {
    assert.ok(server.port > 0);
  });

  it('serves every documented metric on /metrics', async () => {
    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const doc of METRIC_DOCS) assert.ok(text.includes(doc.name), `${doc.name} missing`);
    assert.match(text, /cloudhsm_forwarder_sink_up\{sink="opensearch"\} 1/);
  });

  it('answers /healthz with 200 ok', async () => {
    const response = await get('/healthz');
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok\n');
  });

  it('flips /readyz to 503 once a sink is down longer than the limit, and back', async () => {
    assert.equal((await get('/readyz')).status, 200);

    health.markDown('opensearch', 'connect ECONNREFUSED');
    now += 30_000;
    assert.equal((await get('/readyz')).status, 200, 'within the grace period');
    assert.match(await (await get('/metrics')).text(), /sink_up\{sink="opensearch"\} 0/);

    now += 30_001;
    health.markDown('opensearch'); // repeated reports do not restart the period
    const down = await get('/readyz');
    assert.equal(down.status, 503);
    const body = (await down.json()) as {
      status: string;
      failing: Array<{ name: string; ok: boolean; detail?: string }>;
    };
    assert.equal(body.status, 'not ready');
    assert.deepEqual(
      body.failing.map((check) => check.name),
      ['sink:opensearch'],
    );
    assert.match(body.failing[0]?.detail ?? '', /ECONNREFUSED/);

    health.markUp('opensearch');
    const up = await get('/readyz');
    assert.equal(up.status, 200);
    assert.equal(((await up.json()) as { status: string }).status, 'ready');
  });

  it('is not ready while a registered check fails', async () => {
    readiness.set('checkpoints', false, 'loading');
    const response = await get('/readyz');
    assert.equal(response.status, 503);
    assert.match(await response.text(), /"name":"checkpoints"/);
    readiness.set('checkpoints', true);
    assert.equal((await get('/readyz')).status, 200);
  });

  it('answers HEAD without a body, 405 for other methods and 404 for other paths', async () => {
    const head = await get('/healthz', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await get('/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await get('/nope')).status, 404);
    assert.equal((await get('/metrics?x=1')).status, 200);
  });
});

describe('SinkHealth', () => {
  it('treats a registered sink as up until it reports, and an unknown sink as failing', () => {
    const health = new SinkHealth({ downAfterMs: 0, now: () => 0 });
    health.register('kafka');
    assert.equal(health.check('kafka').ok, true);
    assert.equal(health.check('opensearch').ok, false);
  });

  it('accepts reports through the listener shape', () => {
    let now = 0;
    const health = new SinkHealth({ downAfterMs: 1_000, now: () => now });
    health.listener('kafka', false, 'timeout');
    now = 1_001;
    assert.deepEqual(health.check('kafka').ok, false);
    health.listener('kafka', true);
    assert.equal(health.check('kafka').ok, true);
    assert.equal(health.isUp('kafka'), true);
  });
});
