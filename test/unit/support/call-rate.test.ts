import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  arrivals,
  callsPerStream,
  peakPerSecond,
  secondsOverBudget,
  shortestSpans,
} from '../../integration/support/call-rate.js';
import type { ProxyCall } from '../../integration/support/cloudwatch-proxy.js';

const get = (at: number, logStream = 'hsm-0'): ProxyCall => ({
  operation: 'GetLogEvents',
  logGroup: '/g',
  logStream,
  at,
});

describe('call-rate figures over recorded arrivals', () => {
  it('a limiter spacing 8 grants per 1.05 s never puts 9 in a second', () => {
    const times = Array.from({ length: 80 }, (_, i) => 1_000_000 + (i * 1050) / 8);
    assert.equal(peakPerSecond(times), 8);
    assert.deepEqual(secondsOverBudget(times, 8), { over: 0, windows: 80 });
  });

  it('a second is [t, t + 1 s): a call exactly 1 s later opens the next one', () => {
    assert.equal(peakPerSecond([0, 500, 1000]), 2);
    assert.equal(peakPerSecond([0, 500, 999.9]), 3);
  });

  it('counts the seconds, one opening at each call, that held more than the budget', () => {
    const times = [0, 200, 400, 600, 800, 1000, 1200];
    // From 0, 200 and 400: five calls each; from 600 on: four or fewer.
    assert.deepEqual(secondsOverBudget(times, 4), { over: 3, windows: 7 });
    assert.deepEqual(secondsOverBudget(times, 4.5), { over: 3, windows: 7 });
    assert.deepEqual(secondsOverBudget([], 4), { over: 0, windows: 0 });
    assert.equal(peakPerSecond([]), 0);
  });

  it('lists the shortest spans holding a number of calls, with where they start', () => {
    const times = [0, 10, 500, 505, 1000];
    assert.deepEqual(shortestSpans(times, 2, 3), [
      { from: 500, span: 5 },
      { from: 0, span: 10 },
      { from: 10, span: 490 },
    ]);
    assert.deepEqual(shortestSpans([0, 10], 3, 5), []);
  });

  it('selects arrivals of one operation inside a range, sorted, and counts them per stream', () => {
    const calls = [
      get(300, 'hsm-1'),
      get(100),
      { ...get(200), operation: 'DescribeLogStreams' },
      get(250),
      get(400),
    ];
    assert.deepEqual(arrivals(calls, 'GetLogEvents', { from: 100, to: 400 }), [100, 250, 300]);
    assert.deepEqual(
      [...callsPerStream(calls, 'GetLogEvents', { from: 100, to: 400 })],
      [
        ['/g hsm-1', 1],
        ['/g hsm-0', 2],
      ],
    );
  });
});
