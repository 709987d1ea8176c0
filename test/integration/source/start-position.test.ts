import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { FileCheckpointStore } from '../../../src/checkpoint/file-store.js';
import { SdkCloudWatchPort } from '../../../src/source/cloudwatch-port.js';
import { CloudWatchSource } from '../../../src/source/cloudwatch-source.js';
import type { StartPosition } from '../../../src/source/read-position.js';
import { RecordingMetrics } from '../../unit/source/support/recording-metrics.js';
import { client, uniquePrefix, waitFor, Writer } from './support/aws.js';
import { checkpointDir } from './support/checkpoint-dir.js';
import { MemorySink } from './support/memory-sink.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';

// A "restart" here is a new CloudWatchSource on the same checkpoint directory: all it knows of
// the previous run is what that run wrote to disk, exactly as for a restarted process.

const cwl = client();
after(() => {
  cwl.destroy();
});

interface Run {
  readonly source: CloudWatchSource;
  readonly sink: MemorySink;
  readonly metrics: RecordingMetrics;
}

async function startRun(prefix: string, dir: string, startPosition: StartPosition): Promise<Run> {
  const metrics = new RecordingMetrics();
  const source = new CloudWatchSource({
    port: new SdkCloudWatchPort(cwl),
    checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir }),
    metrics,
    startPosition,
    discovery: { logGroupPrefixes: [prefix], intervalMs: 300 },
    polling: { pageLimit: 25 },
    scheduling: { minIdleMs: 30 },
    rateLimits: { GetLogEvents: { ratePerSecond: 50 }, DescribeLogStreams: { ratePerSecond: 20 } },
  });
  const sink = new MemorySink();
  sink.source = source;
  await source.start(sink.handler);
  return { source, sink, metrics };
}

/** Graceful stop: no more reads, every batch acknowledged, every checkpoint write finished. */
async function stopRun(run: Run): Promise<void> {
  await run.source.stop();
  await run.source.whenAllAcked();
  await run.source.flush();
}

/** Waits until every stream of the run has been read to its end at least once. */
async function untilAllIdle(run: Run, streams: number): Promise<void> {
  await waitFor(
    () => run.source.activeStreams().length === streams && run.metrics.lastStates.idle === streams,
    20_000,
    `${streams} stream(s) polled to their end`,
  );
}

/** Makes sure the next start's clock is past every record written so far. */
async function afterLastWrite(): Promise<void> {
  const written = Date.now();
  await waitFor(() => Date.now() > written + 5, 1000, 'the clock to move on');
}

async function assertDeliveredAfterRestart(run: Run, writer: Writer, key: string): Promise<void> {
  const written = writer.written.get(key) ?? [];
  try {
    await waitFor(
      () => (run.sink.received.get(key)?.length ?? 0) >= written.length,
      20_000,
      `the ${written.length} records written to ${key} while the forwarder was stopped`,
    );
  } finally {
    await stopRun(run);
  }
  assert.deepEqual(run.sink.received.get(key), written, `stream ${key}: exactly once, in order`);
}

describe('start position of quiet streams across restarts (against the emulator)', () => {
  it('START_POSITION=end: a stream that delivered nothing keeps its start across a restart', async () => {
    const prefix = uniquePrefix();
    const group = `${prefix}e`;
    const writer = new Writer(cwl);
    await writer.createGroup(group);
    await writer.createStream(group, 'hsm-0e01');
    const dir = await checkpointDir();

    const first = await startRun(prefix, dir, { kind: 'end' });
    await untilAllIdle(first, 1);
    await stopRun(first);
    assert.equal(first.sink.count, 0, 'the stream stayed quiet during the first run');

    // Written while the forwarder is down: after the first start, before the restart.
    await writer.append(group, 'hsm-0e01', 5);
    await afterLastWrite();

    const second = await startRun(prefix, dir, { kind: 'end' });
    await assertDeliveredAfterRestart(second, writer, Writer.key(group, 'hsm-0e01'));
  });

  it('START_POSITION=end: a stream first seen after the first discovery round keeps reading from its beginning across a restart', async () => {
    const prefix = uniquePrefix();
    const group = `${prefix}l`;
    const writer = new Writer(cwl);
    await writer.createGroup(group);
    await writer.createStream(group, 'hsm-0l01');
    const dir = await checkpointDir();

    const first = await startRun(prefix, dir, { kind: 'end' });
    await untilAllIdle(first, 1);
    // A replaced HSM: its stream appears while the forwarder runs, and is read from its start.
    await writer.createStream(group, 'hsm-0l02');
    await untilAllIdle(first, 2);
    await stopRun(first);
    assert.equal(first.sink.count, 0, 'both streams stayed quiet during the first run');

    await writer.append(group, 'hsm-0l02', 5);
    await afterLastWrite();

    const second = await startRun(prefix, dir, { kind: 'end' });
    await assertDeliveredAfterRestart(second, writer, Writer.key(group, 'hsm-0l02'));
  });

  it('START_POSITION=<time>: a stream that delivered nothing keeps the start it resolved, even when the setting moves later', async () => {
    const prefix = uniquePrefix();
    const group = `${prefix}t`;
    const writer = new Writer(cwl);
    await writer.createGroup(group);
    await writer.createStream(group, 'hsm-0t01');
    const dir = await checkpointDir();

    const first = await startRun(prefix, dir, { kind: 'time', time: Date.now() - 60_000 });
    await untilAllIdle(first, 1);
    await stopRun(first);
    assert.equal(first.sink.count, 0, 'the stream stayed quiet during the first run');

    await writer.append(group, 'hsm-0t01', 5);
    await afterLastWrite();

    // The setting now names a time after those records. It applies to streams never seen before;
    // this stream's start was resolved (and acted on) in the first run, so nothing it held since
    // may be skipped.
    const second = await startRun(prefix, dir, { kind: 'time', time: Date.now() });
    await assertDeliveredAfterRestart(second, writer, Writer.key(group, 'hsm-0t01'));
  });
});
