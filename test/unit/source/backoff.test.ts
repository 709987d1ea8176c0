import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { backoffDelay } from '../../../src/util/backoff.js';
import { classifyError } from '../../../src/source/aws-errors.js';
import { sleep } from '../../../src/util/clock.js';
import { ForwarderError } from '../../../src/util/errors.js';

function awsError(name: string, status: number): Error {
  const error = new Error(name) as Error & { $metadata: { httpStatusCode: number } };
  error.name = name;
  error.$metadata = { httpStatusCode: status };
  return error;
}

describe('backoffDelay', () => {
  it('stays within [0, min(max, base * 2^attempt)] (full jitter)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const delay = backoffDelay(attempt, { baseMs: 100, maxMs: 10_000 }, () => r);
          const ceiling = Math.min(10_000, 100 * 2 ** attempt);
          return delay >= 0 && delay <= ceiling && Number.isInteger(delay);
        },
      ),
    );
  });

  it('uses the whole jitter range', () => {
    assert.equal(
      backoffDelay(3, { baseMs: 100 }, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, { baseMs: 100 }, () => 0.999999),
      799,
    );
    assert.equal(
      backoffDelay(30, { baseMs: 100, maxMs: 5000 }, () => 0.5),
      2500,
    );
  });

  it('spreads delays (not all equal) with a real random source', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5)));
    assert.ok(delays.size > 10);
  });
});

describe('classifyError', () => {
  it('classifies throttling, transient and permanent errors', () => {
    assert.equal(classifyError(awsError('ThrottlingException', 400)), 'throttled');
    assert.equal(classifyError(awsError('Whatever', 429)), 'throttled');
    assert.equal(classifyError(awsError('ServiceUnavailableException', 503)), 'retryable');
    assert.equal(classifyError(awsError('InternalServerError', 500)), 'retryable');
    assert.equal(classifyError(awsError('Unknown', 502)), 'retryable');
    assert.equal(classifyError(awsError('InvalidParameterException', 400)), 'invalid-parameter');
    assert.equal(classifyError(awsError('ResourceNotFoundException', 400)), 'not-found');
    assert.equal(classifyError(awsError('AccessDeniedException', 400)), 'unknown');
    assert.equal(
      classifyError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })),
      'retryable',
    );
    assert.equal(
      classifyError(new ForwarderError('FWD_ERR_SOURCE', 'x', { retryable: true })),
      'retryable',
    );
    const abort = new Error('stop');
    abort.name = 'AbortError';
    assert.equal(classifyError(abort), 'aborted');
    assert.equal(classifyError('string'), 'unknown');
  });
});

describe('sleep', () => {
  it('rejects with AbortError when aborted, and immediately if already aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(pending, { name: 'AbortError' });
    assert.ok(Date.now() - started < 1000);
    await assert.rejects(sleep(10, controller.signal), { name: 'AbortError' });
  });

  it('resolves after the delay', async () => {
    const started = Date.now();
    await sleep(20);
    assert.ok(Date.now() - started >= 19);
  });
});
