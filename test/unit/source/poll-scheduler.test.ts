import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { describe, it } from 'node:test';

import type { PollUrgency } from '../../../src/source/poll-scheduler.js';
import { PollScheduler } from '../../../src/source/poll-scheduler.js';
import { TokenBucket } from '../../../src/source/rate-limiter.js';
import type { StreamRef } from '../../../src/util/identity.js';
import { peakPerSecond } from '../../integration/support/call-rate.js';
import { FakeClock, flush } from './support/fake-clock.js';

const stream = (cluster: string, hsm: string): StreamRef => ({
  logGroup: `/aws/cloudhsm/${cluster}`,
  logStream: hsm,
});

interface Grant {
  readonly stream: StreamRef;
  readonly at: number;
}

/**
 * Simulated pollers: each asks for its next call as a real poller does (`now` while it has
 * data, `idle` otherwise), and a call takes `callMs`. Returns the grants in order.
 */
function simulate(
  scheduler: PollScheduler,
  clock: FakeClock,
  streams: readonly StreamRef[],
  urgencyOf: (stream: StreamRef, at: number) => PollUrgency,
  callMs = 20,
): { grants: Grant[]; stop: () => void } {
  const grants: Grant[] = [];
  const controller = new AbortController();
  // One signal for all simulated pollers (the real ones each have their own).
  setMaxListeners(streams.length + 10, controller.signal);
  for (const s of streams) {
    void (async () => {
      let urgency = urgencyOf(s, clock.now());
      for (;;) {
        try {
          await scheduler.next(s, urgency, controller.signal);
          grants.push({ stream: s, at: clock.now() });
          await clock.sleep(callMs, controller.signal);
        } catch {
          return;
        }
        urgency = urgencyOf(s, clock.now());
      }
    })();
  }
  return { grants, stop: () => controller.abort() };
}

function gapsOf(grants: readonly Grant[], s: StreamRef): number[] {
  const times = grants.filter((g) => g.stream === s).map((g) => g.at);
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

describe('PollScheduler', () => {
  it('never exceeds the budget in any second, whatever the mix of active and idle streams', async () => {
    const clock = new FakeClock();
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 8 }, clock), clock, {
      minIdleMs: 1000,
    });
    const streams = Array.from({ length: 40 }, (_, i) => stream(`c${i % 6}`, `hsm-${i}`));
    // A third of the streams have a backlog (always `now`), and every stream gets bursts.
    const run = simulate(scheduler, clock, streams, (s, at) =>
      Number(s.logStream.slice(4)) % 3 === 0 || Math.floor(at / 7000) % 2 === 0 ? 'now' : 'idle',
    );
    await clock.advance(60_000);
    run.stop();
    const times = run.grants.map((g) => g.at);
    assert.ok(times.length > 400, `the budget is used: ${times.length} calls in 60 s`);
    assert.ok(peakPerSecond(times) <= 8, `max ${peakPerSecond(times)} calls in a second`);
  });

  it('counts a call from when it leaves: calls held up after their grant still keep the budget on the wire', async () => {
    const clock = new FakeClock();
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 8 }, clock), clock);
    const streams = Array.from({ length: 12 }, (_, i) => stream(`c${i % 3}`, `hsm-${i}`));
    const controller = new AbortController();
    setMaxListeners(streams.length + 10, controller.signal);
    const sends: number[] = [];
    let granted = 0;
    // Every ninth call is held up 120 ms between its grant and the wire (a busy event loop, a
    // garbage-collection pause); the others leave 1 ms after the grant. All streams have data.
    for (const s of streams) {
      void (async () => {
        try {
          for (;;) {
            const grant = await scheduler.next(s, 'now', controller.signal);
            granted += 1;
            await clock.sleep(granted % 9 === 0 ? 120 : 1, controller.signal);
            grant.sent();
            sends.push(clock.now());
            await clock.sleep(20, controller.signal);
          }
        } catch {
          // aborted at the end of the run
        }
      })();
    }
    await clock.advance(60_000);
    controller.abort();
    sends.sort((a, b) => a - b);
    assert.ok(sends.length > 400, `the budget is used: ${sends.length} calls in 60 s`);
    assert.ok(
      peakPerSecond(sends) <= 8,
      `max ${peakPerSecond(sends)} calls in a second on the wire`,
    );
  });

  it('polls idle streams round-robin as often as the budget allows, not on a fixed back-off', async () => {
    const clock = new FakeClock();
    const rate = 8;
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: rate }, clock), clock, {
      minIdleMs: 1000,
    });
    const streams = Array.from({ length: 30 }, (_, i) => stream(`c${i % 6}`, `hsm-${i}`));
    const run = simulate(scheduler, clock, streams, () => 'idle');
    await clock.advance(120_000);
    run.stop();
    // Longest wait follows from the budget: 30 streams at ~7.3 calls/s (floor(rate) per the
    // bucket's 1.1 s window) is about 4.1 s, plus one call's duration.
    const bound = (30 / rate) * 1100 + 100;
    for (const s of streams) {
      const gaps = gapsOf(run.grants, s).slice(2);
      assert.ok(gaps.length > 20, `${s.logStream} polled ${gaps.length} times`);
      assert.ok(Math.max(...gaps) <= bound, `${s.logStream}: longest gap ${Math.max(...gaps)} ms`);
    }
  });

  it('with budget to spare, polls an idle stream once per minIdleMs', async () => {
    const clock = new FakeClock();
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 8 }, clock), clock, {
      minIdleMs: 1000,
    });
    const streams = [stream('c0', 'hsm-0'), stream('c0', 'hsm-1')];
    const run = simulate(scheduler, clock, streams, () => 'idle', 20);
    await clock.advance(30_000);
    run.stop();
    for (const s of streams) {
      const gaps = gapsOf(run.grants, s).slice(1);
      // Due 1000 ms after the request, which follows the 20 ms call.
      assert.ok(
        gaps.every((g) => g >= 1000 && g <= 1100),
        `${s.logStream}: ${gaps.join()}`,
      );
    }
  });

  it('serves a stream with data again at once, ahead of idle streams', async () => {
    const clock = new FakeClock();
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 4 }, clock), clock, {
      minIdleMs: 1000,
    });
    const busy = stream('c0', 'busy');
    const idle = Array.from({ length: 12 }, (_, i) => stream(`c${1 + (i % 3)}`, `hsm-${i}`));
    const run = simulate(scheduler, clock, [busy, ...idle], (s) => (s === busy ? 'now' : 'idle'));
    await clock.advance(60_000);
    run.stop();
    const busyCalls = run.grants.filter((g) => g.stream === busy).length;
    assert.ok(busyCalls > run.grants.length / 2, `busy ${busyCalls} of ${run.grants.length}`);
  });

  it('lets no stream starve: idle streams get turns while active streams take the whole budget', async () => {
    const clock = new FakeClock();
    const rate = 5;
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: rate }, clock), clock, {
      minIdleMs: 1000,
    });
    const busy = Array.from({ length: 4 }, (_, i) => stream('backlog', `busy-${i}`));
    const idle = Array.from({ length: 6 }, (_, i) => stream('quiet', `hsm-${i}`));
    const run = simulate(scheduler, clock, [...busy, ...idle], (s) =>
      busy.includes(s) ? 'now' : 'idle',
    );
    await clock.advance(120_000);
    run.stop();
    // Every fourth call goes to the most overdue idle stream: the six idle streams share a
    // quarter of the budget (at floor(rate) per 1.1 s), so each waits about 6 / (rate / 4) s.
    const bound = (idle.length / (rate / 4)) * 1100 + 1000;
    for (const s of [...busy, ...idle]) {
      const gaps = gapsOf(run.grants, s).slice(1);
      assert.ok(gaps.length > 10, `${s.logStream} polled ${gaps.length + 1} times`);
      assert.ok(Math.max(...gaps) <= bound, `${s.logStream}: longest gap ${Math.max(...gaps)} ms`);
    }
    // Among the active streams, round-robin: none gets much more than another.
    const counts = busy.map((s) => run.grants.filter((g) => g.stream === s).length);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 2, `active counts ${counts.join()}`);
  });

  it('wakes the idle siblings of a stream that returned data: they go before other idle streams', async () => {
    const clock = new FakeClock();
    const woken: number[] = [];
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 2 }, clock), clock, {
      minIdleMs: 1000,
      onSiblingsWoken: (_s, n) => woken.push(n),
    });
    const clusterA = Array.from({ length: 4 }, (_, i) => stream('a', `hsm-${i}`));
    const others = Array.from({ length: 12 }, (_, i) => stream(`b${i % 3}`, `hsm-${i}`));
    const run = simulate(scheduler, clock, [...clusterA, ...others], () => 'idle');
    // Let the round-robin settle: 16 streams at 2 calls/s, each is polled every ~8 s.
    await clock.advance(30_000);
    const first = clusterA[0] as StreamRef;
    // What the poller does when `first` returns data after being idle.
    scheduler.wakeSiblings(first);
    const wokeAt = clock.now();
    await clock.advance(3000);
    run.stop();
    assert.deepEqual(woken, [3], 'the three idle siblings were woken');
    // A grant at the very instant of the wake-up was chosen before it.
    const next = run.grants.filter((g) => g.at > wokeAt).slice(0, 3);
    assert.deepEqual(
      next.map((g) => g.stream.logGroup),
      ['/aws/cloudhsm/a', '/aws/cloudhsm/a', '/aws/cloudhsm/a'],
      'the siblings are the next three calls',
    );
    assert.ok(
      next.every((g) => g.stream !== first),
      'the stream with data is not woken by itself',
    );
    // At 2 calls/s the three siblings are through in about 1.5 s, where the round-robin
    // would have taken up to 8 s.
    assert.ok(
      (next.at(-1)?.at ?? Infinity) - wokeAt <= 1600,
      `last at +${(next.at(-1)?.at ?? 0) - wokeAt} ms`,
    );
  });

  it('wakes only HSM streams: not the certificate-storage stream, and not for its data', async () => {
    const clock = new FakeClock();
    const woken: number[] = [];
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 2 }, clock), clock, {
      minIdleMs: 1000,
      onSiblingsWoken: (_s, n) => woken.push(n),
    });
    const hsms = Array.from({ length: 3 }, (_, i) => stream('a', `hsm-${i}`));
    const certs = stream('a', 'cluster-a');
    const run = simulate(scheduler, clock, [...hsms, certs], () => 'idle');
    await clock.advance(10_000);
    // CloudHSM never copies a certificate-storage record to the HSMs: nothing to wake.
    scheduler.wakeSiblings(certs);
    assert.deepEqual(woken, [], 'data on the certificate-storage stream wakes nobody');
    scheduler.wakeSiblings(hsms[0] as StreamRef);
    const wokeAt = clock.now();
    await clock.advance(1500);
    run.stop();
    assert.deepEqual(woken, [2], 'the two idle HSM siblings, not the certificate-storage stream');
    const next = run.grants.filter((g) => g.at > wokeAt).slice(0, 2);
    assert.deepEqual(
      next.map((g) => g.stream.logStream).sort(),
      ['hsm-1', 'hsm-2'],
      'the two HSM siblings are the next two calls',
    );
  });

  it('leaves no timer behind when its last waiter aborts, so a stopping process can exit', async () => {
    const clock = new FakeClock();
    // A long floor, like a long round: the pump naps until the idle stream is due.
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 8 }, clock), clock, {
      minIdleMs: 60_000,
    });
    const controller = new AbortController();
    const waiting = scheduler.next(stream('c', 'a'), 'idle', controller.signal);
    await flush();
    assert.equal(clock.pending, 1, 'the pump naps until the stream is due');
    controller.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    await flush();
    // A timer left running would keep the event loop, and so the process, alive for the rest of
    // its minute after SIGTERM.
    assert.equal(clock.pending, 0, 'no nap left once nobody waits');
  });

  it('gives a token back for a call that was not made, and drops aborted waiters', async () => {
    const clock = new FakeClock();
    const scheduler = new PollScheduler(new TokenBucket({ ratePerSecond: 1 }, clock), clock);
    const a = stream('c', 'a');
    const b = stream('c', 'b');
    const grant = await scheduler.next(a, 'now');
    grant.giveBack();
    // The token came back: b need not wait a second for the next one.
    let bGranted = false;
    void scheduler.next(b, 'now').then(() => (bGranted = true));
    await clock.advance(0);
    assert.equal(bGranted, true);
    // An aborted waiter leaves the queue without taking a token.
    const controller = new AbortController();
    const aborted = scheduler.next(a, 'now', controller.signal);
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    assert.equal(scheduler.waiting, 0);
  });
});
