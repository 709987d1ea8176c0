import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SinkHealth } from '../../../src/telemetry/readiness.js';

describe('SinkHealth stalls', () => {
  it('fails readiness once writes are refused for longer than the limit, pings notwithstanding', () => {
    let now = 0;
    const health = new SinkHealth({ downAfterMs: 1_000, now: () => now });
    health.register('opensearch');
    health.stallListener('opensearch', true, 'index x refuses writes');
    now = 500;
    health.markUp('opensearch'); // the node still answers pings while one index is blocked
    assert.equal(health.check('opensearch').ok, true, 'within the grace period');
    now = 1_500;
    health.stallListener('opensearch', true, 'index x refuses writes; index y too');
    health.markUp('opensearch');
    const check = health.check('opensearch');
    assert.equal(check.ok, false);
    assert.match(check.detail ?? '', /^writes refused for 2s \(limit 1s\): index x .*index y/);
    health.stallListener('opensearch', false);
    assert.deepEqual(health.check('opensearch'), { ok: true });
  });
});
