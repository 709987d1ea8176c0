import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ProgressWatch, SinkHealth } from '../../../src/telemetry/readiness.js';

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

describe('SinkHealth log lines', () => {
  it('says once when a sink goes down and once when it recovers, with how long it was down', () => {
    let now = 0;
    const lines: [string, string, Record<string, unknown>][] = [];
    const record =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void => {
        lines.push([level, message, fields]);
      };
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const health = new SinkHealth({ downAfterMs: 1_000, now: () => now, logger });
    health.register('opensearch');
    health.markUp('opensearch');
    for (let i = 0; i < 5; i += 1) {
      now += 1_000;
      health.markDown('opensearch', 'connect ECONNREFUSED 127.0.0.1:9250');
    }
    now += 2_000;
    health.markUp('opensearch');
    health.markUp('opensearch');
    assert.deepEqual(
      lines.map(([level, message]) => [level, message.split(';')[0]]),
      [
        ['warn', 'opensearch is unreachable'],
        ['info', 'opensearch is reachable again'],
      ],
    );
    assert.equal(lines[1]?.[2].downForMs, 6_000);
  });
});

describe('ProgressWatch', () => {
  it('fails only while work waits and none has finished for longer than the limit', () => {
    let now = 0;
    const watch = new ProgressWatch({ downAfterMs: 1_000, what: 'kafka', now: () => now });
    assert.deepEqual(watch.check(), { ok: true });
    now = 5_000; // idle for long: nothing waits, nothing is wrong
    assert.deepEqual(watch.check(), { ok: true });
    watch.started();
    watch.started();
    now = 5_900;
    assert.deepEqual(watch.check(), { ok: true });
    watch.failed('Request timed out');
    now = 6_500;
    const stuck = watch.check();
    assert.equal(stuck.ok, false);
    assert.equal(
      stuck.detail,
      'no kafka delivery has finished for 2s while 2 wait (limit 1s); last failure: Request timed out',
    );
    watch.finished(); // one finished: progress, the other may take its time
    assert.deepEqual(watch.check(), { ok: true });
    now = 7_600;
    assert.equal(watch.check().ok, false);
    watch.finished();
    assert.deepEqual(watch.check(), { ok: true });
  });
});
