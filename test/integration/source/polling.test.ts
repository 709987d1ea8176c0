import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { FileCheckpointStore } from '../../../src/checkpoint/file-store.js';
import { SdkCloudWatchPort } from '../../../src/source/cloudwatch-port.js';
import {
  CloudWatchSource,
  type CloudWatchSourceOptions,
} from '../../../src/source/cloudwatch-source.js';
import { RecordingMetrics } from '../../unit/source/support/recording-metrics.js';
import { client, uniquePrefix, waitFor, Writer } from './support/aws.js';
import { checkpointDir } from './support/checkpoint-dir.js';
import { MemorySink } from './support/memory-sink.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';

const cwl = client();
after(() => {
  cwl.destroy();
});

function sourceFor(
  prefix: string,
  dir: string,
  extra: Partial<CloudWatchSourceOptions> = {},
): CloudWatchSource {
  return new CloudWatchSource({
    port: new SdkCloudWatchPort(cwl),
    checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir }),
    discovery: { logGroupPrefixes: [prefix], intervalMs: 1000 },
    polling: { pageLimit: 25 },
    scheduling: { minIdleMs: 50 },
    rateLimits: { GetLogEvents: { ratePerSecond: 50 }, DescribeLogStreams: { ratePerSecond: 20 } },
    ...extra,
  });
}

function assertExactlyOnceInOrder(writer: Writer, sink: MemorySink): void {
  for (const [key, written] of writer.written) {
    assert.deepEqual(sink.received.get(key) ?? [], written, `stream ${key}`);
  }
  assert.equal(sink.count, writer.total());
}

describe('CloudWatchSource against the emulator', () => {
  it('(a) reads every record of 3 clusters × (4 HSMs + cert stream) exactly once, in order, while they are written', async () => {
    const prefix = uniquePrefix();
    const writer = new Writer(cwl);
    const streams: [string, string][] = [];
    for (const suffix of ['a', 'b', 'c']) {
      const group = `${prefix}${suffix}`;
      await writer.createGroup(group);
      for (const s of ['hsm-0001', 'hsm-0002', 'hsm-0003', 'hsm-0004', `cluster-${suffix}`]) {
        await writer.createStream(group, s);
        streams.push([group, s]);
      }
    }
    for (const [g, s] of streams) await writer.append(g, s, 40);
    const source = sourceFor(prefix, await checkpointDir());
    const sink = new MemorySink();
    sink.source = source;
    await source.start(sink.handler);
    // keep appending while polling is under way
    for (let round = 0; round < 5; round += 1) {
      for (const [g, s] of streams) await writer.append(g, s, 1 + ((round * 7) % 5));
      await new Promise((r) => setTimeout(r, 150));
    }
    await waitFor(() => sink.count >= writer.total(), 60_000, 'all records');
    await new Promise((r) => setTimeout(r, 500)); // any duplicate would show up here
    await source.stop();
    await source.whenAllAcked();
    await source.flush();
    assertExactlyOnceInOrder(writer, sink);
  });

  it('(f) a corrupted token in the checkpoint resumes from the timestamp without duplicates', async () => {
    const prefix = uniquePrefix();
    const group = `${prefix}f`;
    const writer = new Writer(cwl);
    await writer.createGroup(group);
    await writer.createStream(group, 'hsm-00f1');
    await writer.append(group, 'hsm-00f1', 30);
    const dir = await checkpointDir();
    const first = sourceFor(prefix, dir);
    const sink = new MemorySink();
    sink.source = first;
    await first.start(sink.handler);
    await waitFor(() => sink.count >= 30, 20_000, 'first 30 records');
    await first.stop();
    await first.whenAllAcked();
    await first.flush();

    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
    const saved = await store.load({ logGroup: group, logStream: 'hsm-00f1' });
    assert.ok(saved !== undefined);
    assert.equal(saved.lastSequence, '0x1d');
    await store.save({ ...saved, nextForwardToken: 'f/garbage' });
    await writer.append(group, 'hsm-00f1', 12);

    const metrics = new RecordingMetrics();
    const second = sourceFor(prefix, dir, { metrics });
    sink.source = second;
    await second.start(sink.handler);
    await waitFor(() => sink.count >= 42, 20_000, 'the 12 new records');
    await new Promise((r) => setTimeout(r, 500));
    await second.stop();
    await second.whenAllAcked();
    await second.flush();
    assert.equal(metrics.tokenRejections, 1);
    assert.ok(metrics.duplicates >= 1, 'the last delivered millisecond was re-read and skipped');
    assertExactlyOnceInOrder(writer, sink);
    const resumed = await store.load({ logGroup: group, logStream: 'hsm-00f1' });
    assert.equal(resumed?.lastSequence, '0x29');
    assert.match(resumed?.nextForwardToken ?? '', /^f\/\d+$/);
  });

  it('(c) picks up a new log group and a new stream within one rediscovery interval', async () => {
    const prefix = uniquePrefix();
    const writer = new Writer(cwl);
    const group = `${prefix}c1`;
    await writer.createGroup(group);
    await writer.createStream(group, 'hsm-00c1');
    await writer.append(group, 'hsm-00c1', 3);
    // Discovery rounds are counted by their DescribeLogGroups calls (one page each here), so the
    // assertion follows what the source did, not how fast a busy machine let it run.
    const metrics = new RecordingMetrics();
    const roundsAtDiscovery = new Map<string, number>();
    const rounds = (): number => metrics.calls('DescribeLogGroups', 'success');
    const record = metrics.streamDiscovered.bind(metrics);
    metrics.streamDiscovered = (stream) => {
      record(stream);
      roundsAtDiscovery.set(`${stream.logGroup}|${stream.logStream}`, rounds());
    };
    const source = sourceFor(prefix, await checkpointDir(), {
      discovery: { logGroupPrefixes: [prefix], intervalMs: 1000 },
      metrics,
    });
    const sink = new MemorySink();
    sink.source = source;
    await source.start(sink.handler);
    await waitFor(() => sink.count >= 3, 10_000, 'initial records');

    const roundsBefore = rounds();
    await writer.createStream(group, 'hsm-00c2');
    await writer.append(group, 'hsm-00c2', 2);
    await writer.createGroup(`${prefix}c2`);
    await writer.createStream(`${prefix}c2`, 'hsm-00c3');
    await writer.createStream(`${prefix}c2`, 'cluster-c2');
    await writer.append(`${prefix}c2`, 'hsm-00c3', 2);
    await writer.append(`${prefix}c2`, 'cluster-c2', 2);
    await waitFor(() => sink.count >= writer.total(), 30_000, 'records of new streams');
    await source.stop();
    // The round under way while the streams were created may miss them; the next one may not.
    for (const key of [`${group}|hsm-00c2`, `${prefix}c2|hsm-00c3`, `${prefix}c2|cluster-c2`]) {
      const at = roundsAtDiscovery.get(key);
      assert.ok(at !== undefined, `${key} discovered`);
      assert.ok(
        at - roundsBefore <= 2,
        `${key} discovered ${at - roundsBefore} rounds after creation`,
      );
    }
    assertExactlyOnceInOrder(writer, sink);
  });
});
