import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RateLimiter, TokenBucket } from '../../../src/source/rate-limiter.js';
import { peakPerSecond } from '../../integration/support/call-rate.js';
import { FakeClock } from './support/fake-clock.js';

async function runClients(
  bucket: TokenBucket,
  clock: FakeClock,
  clients: number,
  durationMs: number,
): Promise<{ times: number[]; owners: number[] }> {
  const times: number[] = [];
  const owners: number[] = [];
  const controller = new AbortController();
  const loops = Array.from({ length: clients }, async (_, id) => {
    try {
      for (;;) {
        await bucket.acquire(controller.signal);
        times.push(clock.now());
        owners.push(id);
      }
    } catch {
      // aborted at the end of the run
    }
  });
  await clock.advance(durationMs);
  controller.abort();
  await Promise.all(loops);
  return { times, owners };
}

describe('TokenBucket', () => {
  it('never exceeds the rate in any sliding second, even with a burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 5, burst: 4 }, clock);
    const { times } = await runClients(bucket, clock, 7, 20_000);
    assert.ok(peakPerSecond(times) <= 5, `max per second ${peakPerSecond(times)}`);
    // 5 per 1.1 s window sustained over 20 s (~91), plus the burst
    assert.ok(times.length >= 90 && times.length <= 97, `granted ${times.length}`);
  });

  it('spaces grants by 1/rate with burst 1', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 8 }, clock);
    const { times } = await runClients(bucket, clock, 3, 5_000);
    for (let i = 1; i < times.length; i += 1) {
      assert.ok((times[i] as number) - (times[i - 1] as number) >= 125);
    }
    assert.ok(peakPerSecond(times) <= 8);
  });

  it('supports rates below one per second', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 0.5 }, clock);
    const { times } = await runClients(bucket, clock, 2, 10_000);
    assert.equal(times.length, 6); // t=0, 2, 4, 6, 8, 10 s
  });

  it('serves waiters first come, first served (round-robin between loops)', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10 }, clock);
    const { owners } = await runClients(bucket, clock, 4, 4_000);
    const counts = [0, 0, 0, 0];
    for (const owner of owners) counts[owner] = (counts[owner] ?? 0) + 1;
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts.join(',')}`);
    // strict rotation once all four are queued
    for (let i = 4; i < owners.length; i += 1) assert.equal(owners[i], owners[i - 4]);
  });

  it('an aborted waiter leaves the queue without consuming a token', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 1 }, clock);
    await bucket.acquire();
    const controller = new AbortController();
    const aborted = bucket.acquire(controller.signal);
    const next = bucket.acquire();
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    assert.equal(bucket.waiting, 1);
    let granted = false;
    void next.then(() => (granted = true));
    await clock.advance(1099);
    assert.equal(granted, false);
    await clock.advance(1); // 1 s plus the limiter's 100 ms window headroom
    assert.equal(granted, true);
  });
});

describe('RateLimiter', () => {
  it('keeps one independent bucket per operation', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ GetLogEvents: { ratePerSecond: 1 } }, clock);
    await limiter.acquire('GetLogEvents');
    // DescribeLogStreams is not slowed by GetLogEvents traffic
    await limiter.acquire('DescribeLogStreams');
    let second = false;
    void limiter.acquire('GetLogEvents').then(() => (second = true));
    await clock.advance(1099);
    assert.equal(second, false);
    await clock.advance(1); // 1 s plus the limiter's 100 ms window headroom
    assert.equal(second, true);
  });
});
