import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CHECKPOINT_VERSION,
  type CheckpointRecord,
} from '../../../src/checkpoint/checkpoint-store.js';
import { AckTracker } from '../../../src/source/ack-tracker.js';
import type { Batch } from '../../../src/source/batch.js';
import type { StreamRef } from '../../../src/util/identity.js';
import { messageHash } from '../../../src/util/identity.js';
import { noopLogger } from '../../../src/util/logger.js';
import { RateLimiter } from '../../../src/source/rate-limiter.js';
import { initialPollerState, parseStartPosition } from '../../../src/source/read-position.js';
import { StreamPoller, type PollerOptions } from '../../../src/source/stream-poller.js';
import { FakeClock } from './support/fake-clock.js';
import { awsError, event, FakeCloudWatch, hsmRecord } from './support/fake-port.js';
import { RecordingMetrics } from './support/recording-metrics.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';

const S: StreamRef = { logGroup: '/aws/cloudhsm/cluster-x', logStream: 'hsm-1' };

/** Acknowledges and settles (the source does that once the checkpoint is durable). */
function ackDurably(tracker: AckTracker, batch: Batch): void {
  const committed = tracker.ack(batch);
  if (committed !== undefined) tracker.settle(committed);
}
const T0 = 1_700_000_000_000;

function harness(
  options: {
    checkpoint?: CheckpointRecord;
    startTime?: number;
    autoAck?: boolean;
    poll?: PollerOptions;
    tracker?: AckTracker;
    deliver?: (batch: Batch) => void;
    onIdleChange?: () => void;
    now?: number;
    onDone?: () => void;
  } = {},
) {
  const clock = new FakeClock(options.now ?? T0 + 60_000);
  const port = new FakeCloudWatch();
  port.put(S.logGroup, S.logStream);
  const tracker = options.tracker ?? new AckTracker();
  const metrics = new RecordingMetrics();
  const batches: Batch[] = [];
  let gone = false;
  const poller = new StreamPoller({
    stream: S,
    port,
    limiter: new RateLimiter({ GetLogEvents: { ratePerSecond: 1000, burst: 1000 } }, clock, {
      minIdleMs: 1000,
    }),
    tracker,
    clock,
    logger: noopLogger,
    metrics,
    random: () => 0.5,
    ...(options.poll === undefined ? {} : { options: options.poll }),
    state: initialPollerState(options.checkpoint, options.startTime),
    deliver: (batch) => {
      options.deliver?.(batch);
      batches.push(batch);
      if (options.autoAck !== false) ackDurably(tracker, batch);
    },
    onGone: () => (gone = true),
    ...(options.onIdleChange === undefined ? {} : { onIdleChange: options.onIdleChange }),
    ...(options.onDone === undefined ? {} : { onDone: options.onDone }),
  });
  const messages = () => batches.flatMap((b) => b.events.map((e) => e.message));
  return { clock, port, tracker, metrics, batches, poller, messages, isGone: () => gone };
}

describe('StreamPoller', () => {
  it('drains pages in order, always with startFromHead, and idles at the tail', async () => {
    const h = harness({ poll: { pageLimit: 2 } });
    for (let i = 0; i < 5; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.batches.length, 3);
    assert.deepEqual(
      h.batches.map((b) => [b.seq, b.fromToken, b.toToken, b.events.length]),
      [
        [1, undefined, 't/2', 2],
        [2, 't/2', 't/4', 2],
        [3, 't/4', 't/5', 1],
      ],
    );
    assert.ok(h.port.calls.every((c) => c.startFromHead));
    // 4 calls: 3 pages and the call that got the same token back
    assert.equal(h.port.calls.length, 4);
    assert.equal(h.poller.idle, true);
    const last = h.batches.at(-1) as Batch;
    assert.equal(last.resume.lastEventTimestamp, T0 + 4);
    assert.equal(last.resume.lastSequence, '0x4');
    assert.equal(last.resume.rebootCounter, '0x107');
    assert.deepEqual(last.resume.hashesAtLastTimestamp, [messageHash(hsmRecord(4))]);
    await h.poller.stop();
  });

  it('treats an empty page with a new token as idle, yet follows the new token', async () => {
    // AWS answers a stream whose events expired with empty pages and new tokens forever
    // (reported against boto3): read at once, such a stream would take a call as fast as the budget
    // allows. The scan windows of a live stream produce such pages too; they advance at the
    // idle pace, and no record is skipped because the new token is kept.
    const h = harness();
    h.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(0)));
    h.port.once((input) =>
      input.nextToken === 't/1' ? { events: [], nextForwardToken: 'scan/1' } : undefined,
    );
    h.port.once((input) =>
      input.nextToken === 'scan/1' ? { events: [], nextForwardToken: 'scan/2' } : undefined,
    );
    h.port.once((input) =>
      input.nextToken === 'scan/2'
        ? { events: [event(T0 + 1, hsmRecord(1))], nextForwardToken: 't/2' }
        : undefined,
    );
    h.poller.start();
    await h.clock.advance(0);
    assert.deepEqual(
      h.port.calls.map((c) => c.nextToken),
      [undefined, 't/1'],
    );
    assert.equal(h.poller.idle, true, 'an empty page is idle');
    await h.clock.advance(999);
    assert.equal(h.port.calls.length, 2, 'not polled again before the idle interval');
    await h.clock.advance(1);
    assert.deepEqual(
      h.port.calls.map((c) => c.nextToken),
      [undefined, 't/1', 'scan/1'],
    );
    await h.clock.advance(1000);
    // scan/2 returned data: read on at once, up to the same-token end.
    assert.deepEqual(
      h.port.calls.map((c) => c.nextToken),
      [undefined, 't/1', 'scan/1', 'scan/2', 't/2'],
    );
    assert.equal(h.batches.length, 2);
    assert.equal(h.poller.idle, true);
    await h.poller.stop();
  });

  it('polls an idle stream every minIdleMs while the budget has room, and drains new data at once', async () => {
    const h = harness({ poll: { pageLimit: 1 } });
    h.poller.start();
    await h.clock.advance(0);
    const callsAt = () => h.port.calls.length;
    assert.equal(callsAt(), 1); // the head read: an empty page is idle
    await h.clock.advance(999);
    assert.equal(callsAt(), 1);
    await h.clock.advance(1);
    assert.equal(callsAt(), 2);
    await h.clock.advance(5000);
    assert.equal(callsAt(), 7, 'no back-off growth: one call per interval');
    for (let i = 0; i < 3; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    await h.clock.advance(1000);
    // One idle poll finds the first record; the next pages follow without waiting.
    assert.equal(h.batches.length, 3);
    assert.equal(callsAt(), 7 + 4);
    assert.equal(h.poller.idle, true);
    await h.poller.stop();
  });

  it('retries throttling and 5xx with backoff, counting them, without losing records', async () => {
    const h = harness();
    for (let i = 0; i < 3; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    let failures = 0;
    h.port.interceptors.push(() => {
      failures += 1;
      if (failures <= 3) throw awsError('ThrottlingException');
      if (failures === 4) throw awsError('InternalServerError', 500);
      return undefined;
    });
    h.poller.start();
    await h.clock.advance(60_000);
    assert.equal(h.batches.length, 1);
    assert.equal(h.messages().length, 3);
    assert.equal(h.metrics.throttles, 3);
    assert.equal(h.metrics.calls('GetLogEvents', 'throttled'), 3);
    assert.equal(h.metrics.calls('GetLogEvents', 'retryable_error'), 1);
    assert.equal(h.metrics.retries, 4);
    await h.poller.stop();
  });

  it('re-seeks by timestamp when the token is rejected and skips what was delivered', async () => {
    const certRecord = JSON.stringify({ object_handle: 1, op_code: 1, response: 0 });
    const h = harness({
      checkpoint: {
        version: CHECKPOINT_VERSION,
        ...TEST_SCOPE,
        ...S,
        nextForwardToken: 'f/garbage',
        tokenStartTime: null,
        lastEventTimestamp: T0 + 1,
        lastIngestionTime: T0 + 11,
        hashesAtLastTimestamp: [messageHash(hsmRecord(1)), messageHash(certRecord)],
        rebootCounter: '0x107',
        lastSequence: '0x2',
        transformState: null,
        updatedAt: new Date(T0).toISOString(),
        streamCreationTime: null,
      },
    });
    h.port.put(
      S.logGroup,
      S.logStream,
      event(T0, hsmRecord(0)), // excluded by startTime
      event(T0 + 1, hsmRecord(1)), // delivered: hash in the checkpoint
      event(T0 + 1, certRecord), // delivered: hash in the checkpoint (no sequence number)
      event(T0 + 1, hsmRecord(2)), // delivered: sequence covered
      event(T0 + 1, hsmRecord(3)), // new, same millisecond
      event(T0 + 2, hsmRecord(4)), // new
    );
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.metrics.tokenRejections, 1);
    assert.equal(h.metrics.calls('GetLogEvents', 'token_rejected'), 1);
    assert.equal(h.port.calls[0]?.nextToken, 'f/garbage');
    assert.equal(h.port.calls[1]?.startTime, T0 + 1);
    assert.equal(h.port.calls[1]?.nextToken, undefined);
    assert.deepEqual(h.messages(), [hsmRecord(3), hsmRecord(4)]);
    assert.equal(h.metrics.duplicates, 3);
    // the fallback ends once past the resume millisecond: later reads use tokens again
    assert.equal(h.port.calls.at(-1)?.nextToken, 't/6');
    await h.poller.stop();
  });

  it('starts new streams at the configured time (end = now)', async () => {
    const end = parseStartPosition('end');
    assert.equal(end.kind, 'end');
    const at = parseStartPosition('2024-05-01T00:00:00Z');
    assert.deepEqual(at, { kind: 'time', time: Date.parse('2024-05-01T00:00:00Z') });
    assert.throws(() => parseStartPosition('yesterday'), /START_POSITION/);
    const h = harness({ startTime: T0 + 2 });
    for (let i = 0; i < 4; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.port.calls[0]?.startTime, T0 + 2);
    assert.equal(h.messages().length, 2);
    await h.poller.stop();
  });

  it('starts a stream with a start checkpoint (no token) at its start time, whatever is configured now', async () => {
    const start = (tokenStartTime: number | null): CheckpointRecord => ({
      version: CHECKPOINT_VERSION,
      ...TEST_SCOPE,
      ...S,
      nextForwardToken: null,
      tokenStartTime,
      lastEventTimestamp: null,
      lastIngestionTime: null,
      hashesAtLastTimestamp: [],
      rebootCounter: null,
      lastSequence: null,
      transformState: null,
      updatedAt: new Date(T0).toISOString(),
      streamCreationTime: null,
    });
    assert.deepEqual(
      [start(T0 + 2), start(null)].map((checkpoint) => {
        const state = initialPollerState(checkpoint, T0 + 50);
        return [state.token, state.startTime, state.initialStartTime, state.dedupe];
      }),
      [
        [undefined, T0 + 2, T0 + 2, false],
        [undefined, undefined, undefined, false],
      ],
    );
    const h = harness({ checkpoint: start(T0 + 2) });
    for (let i = 0; i < 4; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.port.calls[0]?.startTime, T0 + 2);
    assert.deepEqual(h.messages(), [hsmRecord(2), hsmRecord(3)]);
    await h.poller.stop();
  });

  it('stops reading when the stream has too many unacknowledged batches (backpressure)', async () => {
    const tracker = new AckTracker({ maxInFlightBatchesPerStream: 2 });
    const h = harness({ autoAck: false, tracker, poll: { pageLimit: 1 } });
    for (let i = 0; i < 5; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    h.poller.start();
    await h.clock.advance(10_000);
    assert.equal(h.batches.length, 2);
    assert.equal(h.port.calls.length, 2); // no API call without capacity
    ackDurably(tracker, h.batches[0] as Batch);
    await h.clock.advance(0);
    assert.equal(h.batches.length, 3);
    ackDurably(tracker, h.batches[1] as Batch);
    ackDurably(tracker, h.batches[2] as Batch);
    await h.clock.advance(0);
    assert.equal(h.batches.length, 5);
    await h.poller.stop();
  });

  it('re-reads a page the pipeline refused', async () => {
    let refuse = true;
    const h = harness({
      deliver: () => {
        if (refuse) {
          refuse = false;
          throw new Error('pipeline closed');
        }
      },
    });
    h.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(0)));
    h.poller.start();
    await h.clock.advance(60_000);
    assert.equal(h.batches.length, 1);
    assert.equal(h.batches[0]?.seq, 1);
    assert.equal(h.tracker.inFlightBatches, 0);
    await h.poller.stop();
  });

  it('reports a stream that no longer exists and stops', async () => {
    const h = harness();
    h.port.groups.get(S.logGroup)?.delete(S.logStream);
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.isGone(), true);
    await h.poller.stop();
  });

  it('restarts its loop after a backoff when an error escapes it, counts the restart and reads on', async () => {
    // Fault injected through the port, since neither the emulator nor the SDK can produce it:
    // GetLogEvents rejects with a value that is not an Error and cannot even be turned into a
    // string, so the loop's own error handling throws while reporting it.
    const h = harness();
    for (let i = 0; i < 3; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    const callTimes: number[] = [];
    h.port.interceptors.push(() => {
      callTimes.push(h.clock.now());
      return undefined;
    });
    h.port.rejectNext(Object.create(null));
    h.poller.start();
    assert.ok(
      await h.clock.advanceUntil(() => h.messages().length === 3, 60_000, 100),
      'the stream is read on after the fault',
    );
    assert.deepEqual(h.messages(), [hsmRecord(0), hsmRecord(1), hsmRecord(2)]);
    assert.equal(h.metrics.restarts, 1);
    // Backoff as for unknown API errors: backoffDelay(5) with random 0.5 = 3200 ms.
    assert.ok((callTimes[1] ?? 0) - (callTimes[0] ?? 0) >= 3200, `calls at ${callTimes.join()}`);
    await h.poller.stop();
  });

  it('restarts rather than ends silently when waiting at the tail fails', async () => {
    // Injected through the idle-change callback (the source's stream-state reporting): an error
    // while going idle used to end the loop without a trace.
    let failures = 1;
    const h = harness({
      onIdleChange: () => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('stream-state report failed');
        }
      },
    });
    h.poller.start();
    await h.clock.advance(0);
    h.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(0)));
    assert.ok(
      await h.clock.advanceUntil(() => h.messages().length === 1, 60_000, 100),
      'records written after the fault are read',
    );
    assert.equal(h.metrics.restarts, 1);
    await h.poller.stop();
  });

  it('drains a backlog page after page without waiting between pages', async () => {
    const h = harness({ poll: { pageLimit: 1 } });
    for (let i = 0; i < 6; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.batches.length, 6);
    assert.equal(h.metrics.events, 6);
    assert.ok(h.metrics.lags.every((lag) => lag > 0));
    await h.poller.stop();
  });

  it('re-reads a time range when asked, as replay batches that leave the read position alone', async () => {
    const h = harness();
    for (let i = 0; i < 4; i += 1) h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.batches.length, 1);
    const forward = h.batches[0] as Batch;
    h.poller.reread({ fromTime: T0 + 1, toTime: T0 + 2, notBefore: h.clock.now() });
    await h.clock.advance(1000);
    const replays = h.batches.filter((b) => b.replay === true);
    assert.ok(replays.length >= 1, 'the re-read was delivered');
    assert.deepEqual(
      replays.flatMap((b) => b.events.map((e) => e.timestamp)),
      [T0 + 1, T0 + 2],
      'only the range asked for (endTime is exclusive on AWS: the call asks for 1 ms more)',
    );
    for (const replay of replays) {
      assert.equal(replay.resume.nextForwardToken, forward.resume.nextForwardToken);
      assert.equal(replay.resume.lastEventTimestamp, forward.resume.lastEventTimestamp);
      assert.ok(replay.seq > forward.seq, 'in the stream order');
    }
    const call = h.port.calls.find((c) => c.startTime === T0 + 1);
    assert.equal(call?.endTime, T0 + 3);
    // The forward reader carries on where it was.
    h.port.put(S.logGroup, S.logStream, event(T0 + 9, hsmRecord(9)));
    await h.clock.advance(1000);
    assert.deepEqual(
      h.batches.filter((b) => b.replay !== true).flatMap((b) => b.events.map((e) => e.timestamp)),
      [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 9],
    );
    await h.poller.stop();
  });

  it('looks back over a trailing window on a stream without sequence numbers, only there', async () => {
    const now = T0 + 60_000;
    const cert = (t: number) => event(t, `{"op_code":"CreateObject","timestamp":${t}}`);
    const h = harness({
      poll: { lookBackWindowMs: 30_000, lookBackIntervalMs: 5000 },
      now,
    });
    h.port.put(S.logGroup, S.logStream, cert(now - 1000));
    h.poller.start();
    await h.clock.advance(0);
    assert.equal(h.batches.length, 1);
    await h.clock.advance(4500);
    assert.equal(h.batches.filter((b) => b.replay === true).length, 0, 'not before the interval');
    await h.clock.advance(2000);
    const replays = h.batches.filter((b) => b.replay === true);
    assert.ok(replays.length >= 1, 'one look-back after the interval');
    const ranged = h.port.calls.filter((c) => c.endTime !== undefined);
    assert.ok(ranged.length >= 1, 'a time-range read');
    assert.ok(
      ranged.every((c) => (c.endTime ?? 0) - (c.startTime ?? 0) === 30_000 + 1),
      'over the trailing window',
    );
    await h.poller.stop();

    const hsm = harness({ poll: { lookBackWindowMs: 30_000, lookBackIntervalMs: 5000 } });
    hsm.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(1)));
    hsm.poller.start();
    await hsm.clock.advance(20_000);
    assert.equal(
      hsm.batches.filter((b) => b.replay === true).length,
      0,
      'HSM streams have sequence numbers: their gaps are repaired instead',
    );
    await hsm.poller.stop();
  });

  it('drops an exact repeat of the last delivered record (positional tokens after a back-dated insert)', async () => {
    const h = harness();
    h.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(0)));
    h.port.once((input) =>
      input.nextToken === 't/1'
        ? {
            events: [event(T0, hsmRecord(0)), event(T0 + 1, hsmRecord(1))],
            nextForwardToken: 't/2',
          }
        : undefined,
    );
    h.poller.start();
    await h.clock.advance(0);
    assert.deepEqual(h.messages(), [hsmRecord(0), hsmRecord(1)]);
    assert.equal(h.metrics.duplicates, 1);
    await h.poller.stop();
  });

  describe('bounded reads (backfill --to)', () => {
    it('delivers only events before endTime, then is done and stops calling', async () => {
      let done = 0;
      const h = harness({ poll: { pageLimit: 3, endTime: T0 + 5 }, onDone: () => (done += 1) });
      for (let i = 0; i < 10; i += 1) {
        h.port.put(S.logGroup, S.logStream, event(T0 + i, hsmRecord(i)));
      }
      h.poller.start();
      await h.clock.advance(0);
      assert.deepEqual(
        h.messages(),
        [0, 1, 2, 3, 4].map((i) => hsmRecord(i)),
        'the event at endTime (exclusive) and later ones are not delivered',
      );
      assert.equal(done, 1);
      const calls = h.port.calls.length;
      assert.equal(calls, 2, 'the page holding the bound ends the read');
      await h.clock.advance(10_000);
      assert.equal(h.port.calls.length, calls, 'no call after done');
      await h.poller.stop();
    });

    it('is done at the end of a stream that ends before endTime', async () => {
      let done = 0;
      const h = harness({ poll: { endTime: T0 + 1_000 }, onDone: () => (done += 1) });
      h.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(0)), event(T0 + 1, hsmRecord(1)));
      h.poller.start();
      await h.clock.advance(0);
      assert.equal(h.messages().length, 2);
      assert.equal(done, 1);
      assert.equal(h.port.calls.length, 2, 'the page and the same-token end');
      await h.poller.stop();
    });

    it('is done after maxEmptyPages empty pages with new tokens (AWS: a stream whose events expired)', async () => {
      let done = 0;
      const h = harness({
        poll: { endTime: T0 + 1_000, maxEmptyPages: 2 },
        onDone: () => (done += 1),
      });
      let n = 0;
      h.port.interceptors.push(() => ({ events: [], nextForwardToken: `scan/${(n += 1)}` }));
      h.poller.start();
      await h.clock.advance(0);
      assert.equal(done, 0, 'one empty page is not the end');
      await h.clock.advance(1_000);
      assert.equal(done, 1);
      assert.equal(h.port.calls.length, 2);
      await h.clock.advance(10_000);
      assert.equal(h.port.calls.length, 2, 'no call after done');
      await h.poller.stop();
    });

    it('follows the stream past the time bound when no endTime is set (live)', async () => {
      let done = 0;
      const h = harness({ onDone: () => (done += 1) });
      h.port.put(S.logGroup, S.logStream, event(T0, hsmRecord(0)));
      h.poller.start();
      await h.clock.advance(0);
      h.port.put(S.logGroup, S.logStream, event(T0 + 5, hsmRecord(1)));
      await h.clock.advance(1_000);
      assert.equal(h.messages().length, 2);
      assert.equal(done, 0);
      await h.poller.stop();
    });
  });
});
