import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { AckTracker, PAGE_BYTES, batchBytes } from '../../../src/source/ack-tracker.js';
import type { Batch } from '../../../src/source/batch.js';
import { streamKey, type StreamRef } from '../../../src/util/identity.js';

const A: StreamRef = { logGroup: '/aws/cloudhsm/cluster-a', logStream: 'hsm-a' };
const B: StreamRef = { logGroup: '/aws/cloudhsm/cluster-a', logStream: 'hsm-b' };

function batch(stream: StreamRef, seq: number, events = 1): Batch {
  return {
    id: `${streamKey(stream)}#${seq}`,
    stream,
    seq,
    events: Array.from({ length: events }, (_, i) => ({
      timestamp: seq * 100 + i,
      ingestionTime: seq * 100 + i,
      message: `m${seq}.${i}`,
    })),
    fromToken: `f/${seq - 1}`,
    toToken: `f/${seq}`,
    readAt: 0,
    resume: {
      nextForwardToken: `f/${seq}`,
      tokenStartTime: null,
      lastEventTimestamp: seq * 100,
      lastIngestionTime: seq * 100,
      hashesAtLastTimestamp: [],
      rebootCounter: null,
      lastSequence: null,
    },
  };
}

async function read<S>(tracker: AckTracker<S>, b: Batch): Promise<Batch> {
  const reservation = await tracker.reserve(b.stream, 10);
  reservation.register(b);
  return b;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Acknowledges and, as the source does once the checkpoint is durable, settles. */
function ackDurably(tracker: AckTracker, b: Batch): Batch | undefined {
  const committed = tracker.ack(b);
  if (committed !== undefined) tracker.settle(committed);
  return committed;
}

describe('AckTracker', () => {
  it('reports the state carried by the newest committed batch, never one beyond the prefix', async () => {
    const tracker = new AckTracker<string>({ maxInFlightBatchesPerStream: 10 });
    const [b1, b2, b3] = [
      await read(tracker, batch(A, 1)),
      await read(tracker, batch(A, 2)),
      await read(tracker, batch(A, 3)),
    ];
    assert.equal(tracker.ack(b3, 'after 3'), undefined);
    assert.equal(tracker.committedState(A), undefined, 'batch 3 is not committed yet');
    assert.equal(tracker.ack(b1, 'after 1')?.id, b1.id);
    assert.equal(tracker.committedState(A), 'after 1');
    // Batch 2 carries no state: the commit of 1..3 reports batch 3's.
    assert.equal(tracker.ack(b2)?.id, b3.id);
    assert.equal(tracker.committedState(A), 'after 3');
    assert.equal(tracker.committedState(B), undefined);
  });

  it('commits only over the contiguous prefix of acknowledged batches', async () => {
    const tracker = new AckTracker({ maxInFlightBatchesPerStream: 10 });
    const [b1, b2, b3, b4] = [
      await read(tracker, batch(A, 1)),
      await read(tracker, batch(A, 2)),
      await read(tracker, batch(A, 3)),
      await read(tracker, batch(A, 4)),
    ];
    assert.equal(tracker.ack(b3), undefined);
    assert.equal(tracker.ack(b2), undefined);
    assert.equal(tracker.ack(b1)?.id, b3.id); // prefix 1..3 complete
    assert.equal(tracker.ack(b3), undefined); // repeated ack is ignored
    assert.equal(tracker.inFlightBatches, 4, 'committed batches stay in flight until settled');
    tracker.settle(b3);
    assert.equal(tracker.inFlightBatches, 1);
    assert.equal(ackDurably(tracker, b4)?.id, b4.id);
    assert.equal(tracker.inFlightBatches, 0);
    assert.equal(tracker.inFlightEvents, 0);
  });

  it('keeps streams independent', async () => {
    const tracker = new AckTracker();
    const a1 = await read(tracker, batch(A, 1));
    const b1 = await read(tracker, batch(B, 1));
    assert.equal(tracker.ack(b1)?.id, b1.id);
    assert.equal(tracker.pending(A), 1);
    assert.equal(tracker.ack(a1)?.id, a1.id);
  });

  it('property: any ack order commits monotonically and ends at the last batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 30 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n })),
          ),
        async ([n, order]) => {
          const tracker = new AckTracker({ maxInFlightBatchesPerStream: 100 });
          const batches: Batch[] = [];
          for (let i = 1; i <= n; i += 1) batches.push(await read(tracker, batch(A, i)));
          let committed = 0;
          const acked = new Set<number>();
          for (const index of order) {
            const b = batches[index] as Batch;
            acked.add(b.seq);
            const result = tracker.ack(b);
            if (result !== undefined) {
              assert.ok(result.seq > committed);
              // everything up to the committed batch was acknowledged
              for (let s = 1; s <= result.seq; s += 1) assert.ok(acked.has(s));
              committed = result.seq;
            }
          }
          assert.equal(committed, n);
        },
      ),
    );
  });

  it('blocks a stream at its in-flight batch limit until an ack', async () => {
    const tracker = new AckTracker({ maxInFlightBatchesPerStream: 2 });
    const b1 = await read(tracker, batch(A, 1));
    await read(tracker, batch(A, 2));
    let granted = false;
    const third = tracker.reserve(A, 10).then((r) => {
      granted = true;
      return r;
    });
    // another stream is not blocked by A's limit
    const other = await tracker.reserve(B, 10);
    other.release();
    await tick();
    assert.equal(granted, false);
    ackDurably(tracker, b1);
    (await third).release();
    assert.equal(granted, true);
  });

  it('holds committed batches until their checkpoint is durable (settle), then frees them', async () => {
    const tracker = new AckTracker({ maxInFlightBatchesPerStream: 2 });
    const b1 = await read(tracker, batch(A, 1, 5));
    const b2 = await read(tracker, batch(A, 2, 5));
    let granted = false;
    const third = tracker.reserve(A, 10).then((r) => {
      granted = true;
      return r;
    });
    assert.equal(tracker.ack(b1)?.id, b1.id);
    assert.equal(tracker.ack(b2)?.id, b2.id, 'a later commit is reported while b1 is unsettled');
    await tick();
    assert.equal(granted, false, 'acknowledged but not durable: the stream reads no further');
    assert.equal(tracker.inFlightEvents, 10);
    tracker.settle(b1);
    (await third).release();
    assert.equal(tracker.inFlightBatches, 1);
    tracker.settle(b2);
    assert.equal(tracker.inFlightBatches, 0);
    assert.equal(tracker.inFlightEvents, 0);
  });

  it('settles only committed batches', async () => {
    const tracker = new AckTracker();
    const b1 = await read(tracker, batch(A, 1));
    const b2 = await read(tracker, batch(A, 2));
    tracker.settle(b2); // nothing acknowledged yet
    assert.equal(tracker.inFlightBatches, 2);
    assert.equal(tracker.ack(b2), undefined);
    tracker.settle(b2); // b2 acknowledged but not committed (b1 pending)
    assert.equal(tracker.inFlightBatches, 2);
    assert.equal(tracker.ack(b1)?.id, b2.id);
    tracker.settle(b1); // a durable checkpoint of b1 frees b1 only
    assert.equal(tracker.pending(A), 1);
    assert.equal(tracker.withdraw(b2), false, 'a committed batch cannot be withdrawn');
    tracker.settle(b2);
    assert.equal(tracker.pending(A), 0);
  });

  it('bounds batches globally, counting pending reads, until an ack', async () => {
    const tracker = new AckTracker({ maxInFlightBatches: 2, maxInFlightBatchesPerStream: 4 });
    const a1 = await read(tracker, batch(A, 1));
    const pending = await tracker.reserve(B, 10);
    let granted = false;
    const third = tracker.reserve(A, 10).then((r) => {
      granted = true;
      return r;
    });
    await tick();
    assert.equal(granted, false, 'one batch and one pending read fill a budget of 2');
    pending.release();
    await tick();
    assert.equal(granted, true, 'releasing the pending read frees a slot');
    const fourth = tracker.reserve(B, 10).then((r) => r);
    let fourthGranted = false;
    void fourth.then(() => (fourthGranted = true));
    await tick();
    assert.equal(fourthGranted, false);
    ackDurably(tracker, a1);
    await tick();
    assert.equal(fourthGranted, true, 'an ack frees a slot');
    (await third).release();
    (await fourth).release();
  });

  it('bounds events globally, counting reservations, in arrival order', async () => {
    const tracker = new AckTracker({ maxInFlightEvents: 100, maxInFlightBatchesPerStream: 10 });
    const r1 = await tracker.reserve(A, 60);
    const order: string[] = [];
    const big = tracker.reserve(B, 60).then((r) => (order.push('big'), r));
    const small = tracker.reserve(A, 10).then((r) => (order.push('small'), r));
    await tick();
    // small would fit, but FIFO on the global budget protects the earlier, larger request
    assert.deepEqual(order, []);
    const b1 = batch(A, 1, 30);
    r1.register(b1); // the reservation shrinks to the 30 events actually read
    await tick();
    assert.deepEqual(order, ['big', 'small']);
    assert.equal(tracker.inFlightEvents, 30 + 60 + 10);
    (await big).release();
    (await small).release();
    ackDurably(tracker, b1);
    assert.equal(tracker.inFlightEvents, 0);
  });

  it('bounds message bytes globally: a read reserves a full page, the batch keeps its own size', async () => {
    const budget = 2 * PAGE_BYTES + 100;
    const tracker = new AckTracker({ maxInFlightBytes: budget, maxInFlightBatchesPerStream: 10 });
    const big = batch(A, 1, 1);
    const large = 'x'.repeat(PAGE_BYTES);
    const heavy: Batch = { ...big, events: [{ ...big.events[0]!, message: large }] };
    const r1 = await tracker.reserve(A, 10);
    const r2 = await tracker.reserve(B, 10);
    assert.equal(tracker.inFlightBytes, 2 * PAGE_BYTES);
    let third = false;
    const pending = tracker.reserve(B, 10).then((r) => ((third = true), r));
    await tick();
    assert.equal(third, false, 'no room for a third page while two are reserved');
    r1.register(heavy); // a full page of bytes stays accounted until it is acknowledged
    await tick();
    assert.equal(third, false);
    assert.equal(tracker.inFlightBytes, batchBytes(heavy) + PAGE_BYTES);
    r2.release();
    await tick();
    assert.equal(third, true, 'a released reservation makes room');
    (await pending).release();
    assert.equal(ackDurably(tracker, heavy)?.id, heavy.id);
    assert.equal(tracker.inFlightBytes, 0);
  });

  it('never lets one stuck stream hold the whole byte budget', async () => {
    const tracker = new AckTracker({ maxInFlightBytes: 4 * PAGE_BYTES });
    const page = (seq: number): Batch => {
      const b = batch(A, seq, 1);
      return { ...b, events: [{ ...b.events[0]!, message: 'x'.repeat(PAGE_BYTES + 1) }] };
    };
    for (let seq = 1; seq <= 2; seq += 1) (await tracker.reserve(A, 1)).register(page(seq));
    const granted: string[] = [];
    const third = tracker.reserve(A, 1).then((r) => (granted.push('A'), r));
    const other = tracker.reserve(B, 1).then((r) => (granted.push('B'), r));
    await tick();
    assert.deepEqual(granted, ['B'], 'A holds two pages and waits for its own acks; B reads');
    (await other).release();
    ackDurably(tracker, page(1));
    await tick();
    assert.deepEqual(granted, ['B', 'A']);
    (await third).release();
  });

  it('never lets one stuck stream hold the whole event budget', async () => {
    // Four pages of 5 fill a budget of 20: before this rule, a stream whose first batch waits
    // on a refusing index read all four, and no other stream could read again until it moved.
    const tracker = new AckTracker({ maxInFlightEvents: 20, maxInFlightBatchesPerStream: 4 });
    for (let seq = 1; seq <= 3; seq += 1) (await tracker.reserve(A, 5)).register(batch(A, seq, 5));
    const granted: string[] = [];
    const fourth = tracker.reserve(A, 5).then((r) => (granted.push('A'), r));
    const other = tracker.reserve(B, 5).then((r) => (granted.push('B'), r));
    await tick();
    assert.deepEqual(granted, ['B'], 'the stuck stream waits for its own acks; B reads');
    (await other).release();
    ackDurably(tracker, batch(A, 1, 5));
    await tick();
    assert.deepEqual(granted, ['B', 'A']);
    (await fourth).release();
  });

  it('clamps oversize requests so that they proceed alone', async () => {
    const tracker = new AckTracker({ maxInFlightEvents: 50 });
    const reservation = await tracker.reserve(A, 10_000);
    assert.equal(reservation.events, 50);
    reservation.release();
  });

  it('rejects aborted waits and wakes the next waiter', async () => {
    const tracker = new AckTracker({ maxInFlightEvents: 10 });
    const held = await tracker.reserve(A, 10);
    const controller = new AbortController();
    const aborted = tracker.reserve(B, 10, controller.signal);
    const next = tracker.reserve(B, 5);
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    held.release();
    (await next).release();
  });

  it('withdraws only the newest batch, and whenIdle waits for all acks and settles', async () => {
    const tracker = new AckTracker();
    const b1 = await read(tracker, batch(A, 1));
    const b2 = await read(tracker, batch(A, 2));
    assert.equal(tracker.withdraw(b1), false);
    assert.equal(tracker.withdraw(b2), true);
    let idle = false;
    void tracker.whenIdle().then(() => (idle = true));
    await tick();
    assert.equal(idle, false);
    assert.equal(tracker.ack(b1)?.id, b1.id);
    await tick();
    assert.equal(idle, false, 'acknowledged is not idle until settled');
    tracker.settle(b1);
    await tick();
    assert.equal(idle, true);
  });
});
