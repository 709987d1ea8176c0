/**
 * The transform state travels with its batch to the checkpoint and back: a restarted pipeline
 * continues the integrity tracking where the committed checkpoint left it. The source runs on
 * the unit-test fake of the CloudWatch port and a real file store; the sink is a fake behind the
 * Sink port (delivery is not under test here).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { FileCheckpointStore } from '../../../src/checkpoint/file-store.js';
import { Dispatcher } from '../../../src/pipeline/dispatcher.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import type { Sink } from '../../../src/sink/sink.js';
import { CloudWatchSource } from '../../../src/source/cloudwatch-source.js';
import type { IntegrityFindingKind } from '../../../src/transform/integrity.js';
import { IntegrityTracker } from '../../../src/transform/integrity.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';
import { event, FakeCloudWatch, hsmRecord } from '../source/support/fake-port.js';

const G = '/aws/cloudhsm/cluster-p';
const T0 = 1_700_000_000_000;
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

class CollectingSink implements Sink {
  readonly name = 'kafka' as const;
  readonly events: OutboundEvent[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  deliver(events: readonly OutboundEvent[]) {
    this.events.push(...events);
    return Promise.resolve({ delivered: events.length, duplicates: 0, rejected: [] });
  }
  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One pipeline over `port` and the checkpoints in `dir`, with a fresh integrity tracker. */
function run(port: FakeCloudWatch, dir: string) {
  const sink = new CollectingSink();
  const findings: IntegrityFindingKind[] = [];
  const source = new CloudWatchSource({
    port,
    checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir }),
    discovery: { logGroupPrefixes: [G], intervalMs: 60_000 },
    scheduling: { minIdleMs: 5 },
  });
  const pipeline = new Pipeline({
    source,
    dispatcher: new Dispatcher({
      sinks: [sink],
      deadLetter: {
        start: () => Promise.resolve(),
        write: () => Promise.reject(new Error('nothing is rejected in this test')),
        stop: () => Promise.resolve(),
      },
    }),
    tracker: new IntegrityTracker(),
    context: {},
    observer: {
      transformed: (_batch, result) => {
        for (const [kind, count] of Object.entries(result.findings)) {
          for (let i = 0; i < count; i += 1) findings.push(kind as IntegrityFindingKind);
        }
      },
      acknowledged: () => {},
    },
  });
  return { source, pipeline, sink, findings };
}

describe('Pipeline transform state', () => {
  it('commits the integrity state with its batch and restores it after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pipeline-state-'));
    dirs.push(dir);
    const port = new FakeCloudWatch();
    for (let i = 0; i < 5; i += 1) port.put(G, 'hsm-1', event(T0 + i, hsmRecord(i)));

    const first = run(port, dir);
    await first.pipeline.start();
    await waitFor('five records delivered', () => first.sink.events.length === 5);
    assert.equal(await first.pipeline.stop(10_000), true);
    await first.source.flush();
    const [file] = await readdir(dir);
    const saved = JSON.parse(await readFile(join(dir, file ?? ''), 'utf8')) as {
      version: number;
      accountId: string;
      region: string;
      transformState: { integrity?: { lastSequence: string } };
    };
    assert.equal(saved.version, 2);
    assert.deepEqual([saved.accountId, saved.region], [TEST_SCOPE.accountId, TEST_SCOPE.region]);
    assert.equal(saved.transformState.integrity?.lastSequence, '0x4');
    assert.deepEqual(first.findings, []);

    // Records 0x5 and 0x6 never reach CloudWatch: only the restored state knows 0x7 is a gap.
    port.put(G, 'hsm-1', event(T0 + 7, hsmRecord(7)));
    const second = run(port, dir);
    await second.pipeline.start();
    await waitFor('the record after the restart', () => second.sink.events.length >= 1);
    assert.equal(await second.pipeline.stop(10_000), true);
    assert.deepEqual(second.findings, ['gap']);
  });
});
