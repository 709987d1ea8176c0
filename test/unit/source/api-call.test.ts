/**
 * retryingCall (discovery's bounded AWS retry) on the shared retry driver: throttling and
 * transient errors back off and retry up to `attempts`, anything else is thrown at once.
 * The AWS errors are injected as the call's result; the integration tests use moto.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { retryingCall } from '../../../src/source/api-call.js';
import { RateLimiter } from '../../../src/source/rate-limiter.js';
import { noopSourceMetrics } from '../../../src/source/source-metrics.js';
import type { SourceMetrics } from '../../../src/source/source-metrics.js';
import { recordingClock } from '../sink/support/fakes.js';

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name });
}

function context() {
  const clock = recordingClock();
  const delays: number[] = [];
  const outcomes: string[] = [];
  const metrics: SourceMetrics = {
    ...noopSourceMetrics,
    apiCall: (_operation, outcome) => void outcomes.push(outcome),
    retry: (_operation, delay) => void delays.push(delay),
  };
  const limiter = new RateLimiter(
    { DescribeLogStreams: { ratePerSecond: 100, burst: 100 } },
    clock,
  );
  // random() = 0.5: each backoff is half its ceiling (100, 200, 400...).
  return { clock, metrics, delays, outcomes, limiter, backoff: { baseMs: 200 }, random: () => 0.5 };
}

/** A call that fails with the given errors in turn, then answers `value`. */
function failing<T>(errors: Error[], value: T) {
  let calls = 0;
  const call = () => {
    calls += 1;
    const error = errors.shift();
    return error === undefined ? Promise.resolve(value) : Promise.reject(error);
  };
  return { call, calls: () => calls };
}

describe('retryingCall', () => {
  it('backs off on throttling and transient errors, then answers', async () => {
    const ctx = context();
    const { call, calls } = failing(
      [awsError('ThrottlingException'), awsError('ServiceUnavailableException')],
      'page',
    );
    const page = await retryingCall(ctx, 'DescribeLogStreams', call, { attempts: 5 });
    assert.equal(page, 'page');
    assert.equal(calls(), 3);
    assert.deepEqual(ctx.delays, [100, 200]);
    assert.deepEqual(ctx.clock.sleeps, [100, 200]);
    assert.deepEqual(ctx.outcomes, ['throttled', 'retryable_error', 'success']);
  });

  it('throws the last error once the attempts are used up', async () => {
    const ctx = context();
    const { call, calls } = failing(
      [awsError('ThrottlingException'), awsError('ThrottlingException')],
      'page',
    );
    await assert.rejects(
      retryingCall(ctx, 'DescribeLogStreams', call, { attempts: 2 }),
      /ThrottlingException/,
    );
    assert.equal(calls(), 2);
    assert.deepEqual(ctx.delays, [100]);
  });

  it('throws an error retrying cannot help at once', async () => {
    const ctx = context();
    const { call, calls } = failing([awsError('AccessDeniedException')], 'page');
    await assert.rejects(
      retryingCall(ctx, 'DescribeLogStreams', call, { attempts: 5 }),
      /AccessDeniedException/,
    );
    assert.equal(calls(), 1);
    assert.deepEqual(ctx.delays, []);
  });
});
