import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CHECKPOINT_VERSION,
  type CheckpointRecord,
  type CheckpointStore,
} from '../../../src/checkpoint/checkpoint-store.js';
import type { Batch } from '../../../src/source/batch.js';
import { streamKey, type StreamRef } from '../../../src/util/identity.js';
import {
  CloudWatchSource,
  type CloudWatchSourceOptions,
} from '../../../src/source/cloudwatch-source.js';
import { ForwarderError } from '../../../src/util/errors.js';
import { FakeClock } from './support/fake-clock.js';
import { event, FakeCloudWatch, hsmRecord } from './support/fake-port.js';
import { RecordingMetrics } from './support/recording-metrics.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';
import type { StreamIntegrityState } from '../../../src/transform/integrity.js';

class MemoryStore implements CheckpointStore {
  readonly scope = TEST_SCOPE;
  readonly records = new Map<string, CheckpointRecord>();
  saves = 0;
  /** Saves that fail before the store works again. */
  failSaves = 0;
  corrupt = false;
  /** Fault injected through the store interface: `save` rejects while set. */
  failing: Error | undefined;
  open(): Promise<void> {
    return Promise.resolve();
  }
  load(stream: StreamRef): Promise<CheckpointRecord | undefined> {
    return Promise.resolve(this.records.get(streamKey(stream)));
  }
  loadAll(): Promise<CheckpointRecord[]> {
    if (this.corrupt) {
      return Promise.reject(new ForwarderError('FWD_ERR_CHECKPOINT_CORRUPT', 'bad file x'));
    }
    return Promise.resolve([...this.records.values()]);
  }
  save(record: CheckpointRecord): Promise<void> {
    this.saves += 1;
    if (this.failSaves > 0) {
      this.failSaves -= 1;
      return Promise.reject(new ForwarderError('FWD_ERR_CHECKPOINT_IO', 'disk full'));
    }
    if (this.failing !== undefined) return Promise.reject(this.failing);
    this.records.set(streamKey(record), record);
    return Promise.resolve();
  }
  reset(streams?: readonly StreamRef[]): Promise<number> {
    if (streams === undefined) {
      const n = this.records.size;
      this.records.clear();
      return Promise.resolve(n);
    }
    let n = 0;
    for (const stream of streams) if (this.records.delete(streamKey(stream))) n += 1;
    return Promise.resolve(n);
  }
}

const G = '/aws/cloudhsm/cluster-u';
const T0 = 1_700_000_000_000;

function makeSource(
  port: FakeCloudWatch,
  store: MemoryStore,
  clock: FakeClock,
  extra: Partial<CloudWatchSourceOptions> = {},
) {
  return new CloudWatchSource({
    port,
    checkpointStore: store,
    clock,
    metrics: new RecordingMetrics(),
    random: () => 0.5,
    polling: { pageLimit: 2 },
    scheduling: { minIdleMs: 100 },
    discovery: { intervalMs: 1000 },
    rateLimits: { GetLogEvents: { ratePerSecond: 1000, burst: 100 } },
    ...extra,
  });
}

/** A distinguishable integrity state per batch. */
function integrityAt(n: number): StreamIntegrityState {
  return { rebootCounter: '0x1', lastSequence: `0x${n}`, recent: [] };
}

describe('CloudWatchSource', () => {
  it('commits a checkpoint only when the contiguous prefix is acknowledged, and resumes from it', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    const store = new MemoryStore();
    for (let i = 0; i < 6; i += 1) port.put(G, 'hsm-1', event(T0 + i, hsmRecord(i)));
    const source = makeSource(port, store, clock);
    const batches: Batch[] = [];
    const started = source.start((b) => void batches.push(b));
    await clock.advance(0);
    await started;
    await clock.advance(0);
    assert.equal(batches.length, 3);
    const [b1, b2, b3] = batches as [Batch, Batch, Batch];
    await source.ack(b3, { integrity: integrityAt(3) });
    await source.ack(b2, { integrity: integrityAt(2) });
    // Still the start checkpoint written before the first read: no token, nothing delivered.
    assert.equal(store.records.get(streamKey(b1.stream))?.nextForwardToken, null);
    await source.ack(b1);
    const saved = store.records.get(streamKey(b1.stream));
    assert.equal(saved?.nextForwardToken, 't/6');
    assert.equal(saved?.lastSequence, '0x5');
    // The state travels with its batch: the commit of 1..3 carries batch 3's, acked first.
    assert.deepEqual(saved?.transformState, { integrity: integrityAt(3) });
    assert.deepEqual([saved?.accountId, saved?.region], [TEST_SCOPE.accountId, TEST_SCOPE.region]);
    await source.stop();

    // a new instance continues from the checkpoint: only new records are read
    port.put(G, 'hsm-1', event(T0 + 7, hsmRecord(6)));
    const again = makeSource(port, store, clock);
    const more: Batch[] = [];
    const restarted = again.start((b) => void more.push(b));
    await clock.advance(0);
    await restarted;
    await clock.advance(0);
    assert.deepEqual(
      more.flatMap((b) => b.events.map((e) => e.message)),
      [hsmRecord(6)],
    );
    assert.equal(more[0]?.fromToken, 't/6');
    await again.stop();
  });

  // The real-filesystem version is test/integration/e2e/checkpoint-store-fault.test.ts; here the
  // fault is injected through the store interface to check the retry and pause logic alone.
  it('retries a failing checkpoint write and reads no further until it is durable', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    const store = new MemoryStore();
    const metrics = new RecordingMetrics();
    for (let i = 0; i < 10; i += 1) port.put(G, 'hsm-1', event(T0 + i, hsmRecord(i)));
    // The stream's start is already durable (a new stream would first write it, and wait).
    const start: CheckpointRecord = {
      version: CHECKPOINT_VERSION,
      ...TEST_SCOPE,
      logGroup: G,
      logStream: 'hsm-1',
      nextForwardToken: null,
      tokenStartTime: null,
      lastEventTimestamp: null,
      lastIngestionTime: null,
      hashesAtLastTimestamp: [],
      rebootCounter: null,
      lastSequence: null,
      transformState: null,
      updatedAt: new Date(T0).toISOString(),
      streamCreationTime: null,
    };
    store.records.set(streamKey(start), start);
    store.failing = new ForwarderError(
      'FWD_ERR_CHECKPOINT_IO',
      'cannot write checkpoint x: ENOTDIR',
    );
    const source = makeSource(port, store, clock, {
      metrics,
      backpressure: { maxInFlightBatchesPerStream: 2 },
    });
    const batches: Batch[] = [];
    const acks: Promise<void>[] = [];
    const started = source.start((b) => {
      batches.push(b);
      acks.push(source.ack(b));
    });
    await clock.advance(0);
    await started;
    await clock.advanceUntil(() => metrics.checkpointFailures >= 5, 60_000, 100);
    assert.equal(batches.length, 2, 'the per-stream limit of 2 batches, held unsaved, stops reads');
    assert.equal(store.records.get(streamKey(start))?.nextForwardToken, null, 'nothing saved');
    assert.deepEqual(source.inFlight(), { batches: 2, events: 4 });
    assert.ok(store.saves >= 5, `write retried (${store.saves} attempts)`);

    store.failing = undefined;
    await clock.advanceUntil(
      () => batches.length === 5 && source.inFlight().batches === 0,
      60_000,
      100,
    );
    await Promise.all(acks);
    assert.equal(store.records.get(streamKey(batches[0]!.stream))?.lastSequence, '0x9');
    await source.stop();
  });

  it('refuses to start on a corrupt checkpoint', async () => {
    const store = new MemoryStore();
    store.corrupt = true;
    const source = makeSource(new FakeCloudWatch(), store, new FakeClock());
    await assert.rejects(
      source.start(() => {}),
      { code: 'FWD_ERR_CHECKPOINT_CORRUPT' },
    );
  });

  it('starts pollers for streams discovered later and stops them when they vanish', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    port.put(G, 'hsm-1', event(T0, hsmRecord(0)));
    const source = makeSource(port, new MemoryStore(), clock);
    const seen: string[] = [];
    const started = source.start((b) => {
      seen.push(b.stream.logStream);
      void source.ack(b);
    });
    await clock.advance(0);
    await started;
    port.put(G, 'hsm-2', event(T0, hsmRecord(0)));
    await clock.advanceUntil(() => seen.includes('hsm-2'), 5000, 50);
    assert.deepEqual(
      source
        .activeStreams()
        .map((s) => s.logStream)
        .sort(),
      ['hsm-1', 'hsm-2'],
    );
    port.groups.get(G)?.delete('hsm-1');
    await clock.advanceUntil(() => source.activeStreams().length === 1, 5000, 50);
    assert.deepEqual(
      source.activeStreams().map((s) => s.logStream),
      ['hsm-2'],
    );
    await source.stop();
  });

  it('persists where a quiet stream starts, so a restart does not skip what arrived in between (START_POSITION=end)', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    const store = new MemoryStore();
    port.put(G, 'hsm-1', event(T0, hsmRecord(0))); // before the first start: `end` skips it
    const end = { startPosition: { kind: 'end' } } as const;
    const first = makeSource(port, store, clock, end);
    const seen: Batch[] = [];
    const started = first.start((b) => void seen.push(b));
    await clock.advance(0);
    await started;
    await clock.advance(500);
    assert.equal(seen.length, 0);
    await first.stop();

    await clock.advance(5000);
    port.put(G, 'hsm-1', event(T0 + 12_000, hsmRecord(1))); // while the forwarder is down
    await clock.advance(5000);
    const second = makeSource(port, store, clock, end);
    const restarted = second.start((b) => void seen.push(b));
    await clock.advance(0);
    await restarted;
    await clock.advance(0);
    assert.deepEqual(
      seen.flatMap((b) => b.events.map((e) => e.message)),
      [hsmRecord(1)],
    );
    await second.stop();
  });

  it('reads a new stream only once its start is durable, retrying a failed start checkpoint', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    const store = new MemoryStore();
    store.failSaves = 2;
    port.put(G, 'hsm-1', event(T0, hsmRecord(0)));
    const source = makeSource(port, store, clock, { backoff: { baseMs: 1000, maxMs: 1000 } });
    const seen: Batch[] = [];
    const started = source.start((b) => void seen.push(b));
    await clock.advance(0);
    await started;
    assert.equal(store.saves, 1);
    assert.equal(port.calls.length, 0, 'nothing is read before the start is durable');
    assert.ok(await clock.advanceUntil(() => seen.length === 1, 10_000));
    assert.equal(store.saves, 3);
    assert.equal(store.records.size, 1);
    await source.stop();
  });

  it('forgets the read positions of retired streams after the retention; a returning stream resumes from its checkpoint', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    const store = new MemoryStore();
    for (const s of ['hsm-1', 'hsm-2', 'hsm-3']) port.put(G, s, event(T0, hsmRecord(0)));
    const source = makeSource(port, store, clock, { parkedRetentionMs: 10_000 });
    const seen: string[] = [];
    const started = source.start((b) => {
      for (const e of b.events) seen.push(`${b.stream.logStream}:${e.message}`);
      void source.ack(b);
    });
    // Three streams take two DescribeLogStreams pages: the rate limiter waits on the clock.
    let ready = false;
    void started.then(() => (ready = true));
    assert.ok(await clock.advanceUntil(() => ready, 5000, 50));
    await started;
    assert.ok(await clock.advanceUntil(() => seen.length === 3 && store.saves >= 6, 5000, 50));

    port.groups.get(G)?.delete('hsm-1');
    assert.ok(await clock.advanceUntil(() => source.activeStreams().length === 2, 5000, 50));
    assert.equal(source.parkedStreams, 1);
    await clock.advance(10_000);
    port.groups.get(G)?.delete('hsm-2');
    assert.ok(await clock.advanceUntil(() => source.activeStreams().length === 1, 5000, 50));
    assert.equal(source.parkedStreams, 1, 'hsm-1 forgotten, hsm-2 kept');

    port.put(G, 'hsm-1', event(T0, hsmRecord(0)), event(T0 + 1, hsmRecord(1)));
    assert.ok(await clock.advanceUntil(() => seen.length === 4, 5000, 50));
    assert.equal(seen.at(-1), `hsm-1:${hsmRecord(1)}`);
    await source.stop();
  });
  it('deletes the checkpoint of a stream gone longer than the retention and tells the pipeline; a quiet live stream keeps its own', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const port = new FakeCloudWatch();
    const store = new MemoryStore();
    for (const s of ['hsm-1', 'hsm-2']) port.put(G, s, event(T0, hsmRecord(0)));
    // A checkpoint of a stream that was gone before this process started.
    const gone: CheckpointRecord = {
      version: CHECKPOINT_VERSION,
      ...TEST_SCOPE,
      logGroup: '/aws/cloudhsm/cluster-old',
      logStream: 'hsm-gone',
      nextForwardToken: 'f/1',
      tokenStartTime: null,
      lastEventTimestamp: T0 - 100_000,
      lastIngestionTime: T0 - 100_000,
      hashesAtLastTimestamp: [],
      rebootCounter: '0x1',
      lastSequence: '0x0',
      transformState: null,
      updatedAt: new Date(T0 - 100_000).toISOString(),
      streamCreationTime: null,
    };
    store.records.set(streamKey(gone), gone);
    const metrics = new RecordingMetrics();
    const source = makeSource(port, store, clock, {
      metrics,
      parkedRetentionMs: 10_000,
      retiredCheckpointRetentionMs: 60_000,
    });
    const forgotten: string[] = [];
    const started = source.start(
      (b) => void source.ack(b),
      (stream) => forgotten.push(stream.logStream),
    );
    let ready = false;
    void started.then(() => (ready = true));
    assert.ok(await clock.advanceUntil(() => ready, 5000, 50));
    await started;
    // The first rounds delete the file of the stream gone for longer than the retention.
    assert.ok(await clock.advanceUntil(() => !store.records.has(streamKey(gone)), 5000, 50));
    assert.deepEqual(forgotten, ['hsm-gone']);
    assert.deepEqual(metrics.logGroupsForgotten, ['/aws/cloudhsm/cluster-old']);

    port.groups.get(G)?.delete('hsm-1');
    assert.ok(await clock.advanceUntil(() => source.activeStreams().length === 1, 5000, 50));
    const key1 = streamKey({ logGroup: G, logStream: 'hsm-1' });
    assert.ok(store.records.has(key1), 'kept within the retention');
    // hsm-2 stays listed and quiet for longer than the retention: its checkpoint stays.
    assert.ok(await clock.advanceUntil(() => !store.records.has(key1), 120_000, 1000));
    // Told twice: when its parked read position expired, and when its checkpoint went.
    assert.deepEqual(forgotten, ['hsm-gone', 'hsm-1', 'hsm-1']);
    // hsm-2 still reads from the group, so its per-cluster metric series stay.
    assert.deepEqual(metrics.logGroupsForgotten, ['/aws/cloudhsm/cluster-old']);
    assert.ok(store.records.has(streamKey({ logGroup: G, logStream: 'hsm-2' })));
    assert.equal(source.parkedStreams, 0);
    await source.stop();
  });
});
