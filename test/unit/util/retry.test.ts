import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { retryUntilDone } from '../../../src/util/retry.js';
import type { RetryAction } from '../../../src/util/retry.js';
import { recordingClock } from '../sink/support/fakes.js';

const backoff = { baseMs: 100, maxMs: 1000 };

describe('retryUntilDone', () => {
  it('retries until the classifier says success, backing off more each attempt', async () => {
    const clock = recordingClock();
    const seen: number[] = [];
    const end = await retryUntilDone(
      'work',
      (_work, attempt): Promise<RetryAction<string, number>> => {
        seen.push(attempt);
        return Promise.resolve(attempt < 3 ? { kind: 'retry' } : { kind: 'success', value: 42 });
      },
      { backoff, clock, signal: new AbortController().signal },
    );
    assert.deepEqual(end, { kind: 'success', value: 42 });
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.equal(clock.sleeps.length, 3);
    // Full jitter: each wait lies under that attempt's ceiling (100, 200, 400).
    clock.sleeps.forEach((ms, n) => assert.ok(ms >= 0 && ms < 100 * 2 ** n, `${ms} at ${n}`));
  });

  it('gives a partial retry only the work left, at once when it asks for no backoff', async () => {
    const clock = recordingClock();
    const given: string[][] = [];
    const end = await retryUntilDone(
      ['a', 'b', 'c'],
      (work): Promise<RetryAction<string[], string>> => {
        given.push(work);
        if (work.length === 3) return Promise.resolve({ kind: 'retry-partial', work: ['b', 'c'] });
        if (work.length === 2)
          return Promise.resolve({ kind: 'retry-partial', work: ['c'], backoff: false });
        return Promise.resolve({ kind: 'success', value: 'done' });
      },
      { backoff, clock, signal: new AbortController().signal },
    );
    assert.deepEqual(end, { kind: 'success', value: 'done' });
    assert.deepEqual(given, [['a', 'b', 'c'], ['b', 'c'], ['c']]);
    assert.equal(clock.sleeps.length, 1, 'only the first partial retry backs off');
  });

  it('hands a rejection back with the work it was given, without retrying', async () => {
    const clock = recordingClock();
    const end = await retryUntilDone(
      ['x'],
      (): Promise<RetryAction<string[], never, string>> =>
        Promise.resolve({ kind: 'reject', value: 'too large' }),
      { backoff, clock, signal: new AbortController().signal },
    );
    assert.deepEqual(end, { kind: 'reject', value: 'too large', work: ['x'] });
    assert.equal(clock.sleeps.length, 0);
  });

  it('stops with the abort reason once the signal aborts', async () => {
    const clock = recordingClock();
    const controller = new AbortController();
    let attempts = 0;
    await assert.rejects(
      retryUntilDone(
        'work',
        (): Promise<RetryAction<string, never>> => {
          attempts += 1;
          controller.abort(new Error('shutting down'));
          return Promise.resolve({ kind: 'retry' });
        },
        { backoff, clock, signal: controller.signal },
      ),
      /shutting down/,
    );
    assert.equal(attempts, 1);
  });
});
