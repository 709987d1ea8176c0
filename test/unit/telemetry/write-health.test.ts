import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { WriteHealth } from '../../../src/telemetry/readiness.js';

describe('WriteHealth (checkpoint-writes readiness)', () => {
  it('fails once a key has kept failing longer than the limit, per key, until it succeeds', () => {
    let now = 0;
    const health = new WriteHealth({ downAfterMs: 2000, now: () => now });
    assert.deepEqual(health.check(), { ok: true });
    health.failed('a');
    now = 1500;
    health.failed('a'); // more failures do not restart the period
    health.failed('b');
    assert.equal(health.check().ok, true);
    now = 2500;
    const failing = health.check();
    assert.equal(failing.ok, false);
    assert.match(failing.detail ?? '', /2 key\(s\) failing for 3s \(limit 2s\)/);
    health.succeeded('b'); // another key's success does not clear a
    assert.equal(health.check().ok, false);
    health.succeeded('a');
    assert.deepEqual(health.check(), { ok: true });
  });
});
