import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { StreamRef } from '../../../src/util/identity.js';
import { noopLogger } from '../../../src/util/logger.js';
import { RateLimiter } from '../../../src/source/rate-limiter.js';
import { StreamDiscovery } from '../../../src/source/stream-discovery.js';
import { FakeClock } from './support/fake-clock.js';
import { awsError, FakeCloudWatch } from './support/fake-port.js';
import { RecordingMetrics } from './support/recording-metrics.js';

function setup(options: { logGroups?: string[] } = {}) {
  const clock = new FakeClock();
  const port = new FakeCloudWatch();
  const added: string[] = [];
  const created: Array<number | undefined> = [];
  const removed: string[] = [];
  const name = (s: StreamRef) => `${s.logGroup}:${s.logStream}`;
  const discovery = new StreamDiscovery({
    port,
    limiter: new RateLimiter({}, clock),
    clock,
    logger: noopLogger,
    metrics: new RecordingMetrics(),
    random: () => 0.5,
    options: { intervalMs: 10_000, ...options },
    onAdded: (s, creationTime) => {
      added.push(name(s));
      created.push(creationTime);
    },
    onRemoved: (s) => removed.push(name(s)),
  });
  return { clock, port, discovery, added, created, removed };
}

describe('StreamDiscovery', () => {
  it('paginates groups and streams, includes explicit groups and every stream kind', async () => {
    const t = setup({ logGroups: ['/custom/group', '/custom/missing'] });
    for (const c of ['a', 'b', 'c']) {
      for (const s of ['hsm-1', 'hsm-2', 'hsm-3', `cluster-${c}`]) {
        t.port.put(`/aws/cloudhsm/cluster-${c}`, s);
      }
    }
    t.port.put('/other/group', 'ignored');
    t.port.put('/custom/group', 'hsm-9');
    const started = t.discovery.start();
    await t.clock.advanceUntil(() => t.discovery.completedRounds === 1, 60_000);
    await started;
    assert.equal(t.added.length, 13);
    assert.ok(t.added.includes('/aws/cloudhsm/cluster-b:cluster-b'));
    assert.ok(t.added.includes('/custom/group:hsm-9'));
    assert.ok(!t.added.some((s) => s.startsWith('/other')));
    // page size 2 forces pagination of both Describe calls
    assert.ok(t.port.describeCalls.includes('groups:/aws/cloudhsm/:2'));
    assert.ok(t.port.describeCalls.includes('streams:/aws/cloudhsm/cluster-a:2'));
    await t.discovery.stop();
  });

  it('finds new groups and streams on the next round and retires vanished ones', async () => {
    const t = setup();
    t.port.put('/aws/cloudhsm/c1', 'hsm-1');
    t.port.put('/aws/cloudhsm/c1', 'hsm-2');
    const started = t.discovery.start();
    await t.clock.advance(1000);
    await started;
    t.port.put('/aws/cloudhsm/c1', 'hsm-3');
    t.port.put('/aws/cloudhsm/c2', 'hsm-4');
    t.port.groups.get('/aws/cloudhsm/c1')?.delete('hsm-1');
    await t.clock.advanceUntil(() => t.discovery.completedRounds === 2, 20_000, 100);
    assert.deepEqual(t.added.slice(2).sort(), ['/aws/cloudhsm/c1:hsm-3', '/aws/cloudhsm/c2:hsm-4']);
    assert.deepEqual(t.removed, ['/aws/cloudhsm/c1:hsm-1']);
    await t.discovery.stop();
  });

  it('reports a stream created again under its name as removed, then added anew', async () => {
    const t = setup();
    let creationTime = 1_000;
    t.port.describeLogStreams = () =>
      Promise.resolve({
        logStreamNames: ['hsm-1'],
        logStreams: [
          {
            logStreamName: 'hsm-1',
            creationTime,
            firstEventTimestamp: undefined,
            lastEventTimestamp: undefined,
          },
        ],
        nextToken: undefined,
      });
    t.port.put('/aws/cloudhsm/c1', 'hsm-1');
    const started = t.discovery.start();
    await t.clock.advance(1000);
    await started;
    assert.deepEqual(t.created, [1_000]);
    creationTime = 2_000; // deleted and created again between two rounds
    await t.clock.advanceUntil(() => t.discovery.completedRounds === 2, 20_000, 100);
    assert.deepEqual(t.removed, ['/aws/cloudhsm/c1:hsm-1']);
    assert.deepEqual(t.added, ['/aws/cloudhsm/c1:hsm-1', '/aws/cloudhsm/c1:hsm-1']);
    assert.deepEqual(t.created, [1_000, 2_000]);
    await t.clock.advanceUntil(() => t.discovery.completedRounds === 3, 20_000, 100);
    assert.equal(t.added.length, 2, 'the same incarnation is not reported again');
    await t.discovery.stop();
  });

  it('never retires streams because a listing failed', async () => {
    const t = setup();
    t.port.put('/aws/cloudhsm/c1', 'hsm-1');
    const started = t.discovery.start();
    await t.clock.advance(1000);
    await started;
    const original = t.port.describeLogStreams.bind(t.port);
    t.port.describeLogStreams = () => Promise.reject(awsError('ThrottlingException'));
    await t.clock.advanceUntil(() => t.discovery.completedRounds === 2, 60_000, 100);
    assert.deepEqual(t.removed, []);
    t.port.describeLogStreams = original;
    await t.discovery.stop();
  });
});
