import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type {
  CallerIdentityPort,
  CloudHsmPort,
  DescribeClustersPage,
  ListTagsPage,
  RawCluster,
} from '../../../src/enrichment/cloudhsm-port.js';
import { MetadataProvider } from '../../../src/enrichment/metadata-provider.js';
import type { RefreshOutcome } from '../../../src/enrichment/metadata-provider.js';
import { FakeClock } from '../source/support/fake-clock.js';

const MINUTE = 60_000;

function rawCluster(id: string, hsmIds: string[], extra: Partial<RawCluster> = {}): RawCluster {
  return {
    ClusterId: id,
    State: 'ACTIVE',
    HsmType: 'hsm2m.medium',
    Mode: 'FIPS',
    NetworkType: 'DUALSTACK',
    BackupPolicy: 'DEFAULT',
    BackupRetentionPolicy: { Type: 'DAYS', Value: '90' },
    VpcId: 'vpc-1',
    SubnetMapping: { 'us-east-1a': 'subnet-a' },
    Hsms: hsmIds.map((hsmId, i) => ({
      HsmId: hsmId,
      ClusterId: id,
      AvailabilityZone: 'us-east-1a',
      SubnetId: 'subnet-a',
      EniId: `eni-${i}`,
      EniIp: `10.0.0.${i + 10}`,
      EniIpV6: `2600::${i + 10}`,
      HsmType: 'hsm2m.medium',
      State: 'ACTIVE',
    })),
    ...extra,
  };
}

/** Scripted CloudHSM port: pages of clusters, tags per cluster, and a switch to fail. */
class FakePort implements CloudHsmPort {
  pages: RawCluster[][] = [[]];
  tags = new Map<string, Array<{ Key: string; Value: string }>>();
  failing: Error | undefined;
  failTags = false;
  describeCalls: Array<string | undefined> = [];
  listTagCalls: string[] = [];

  describeClusters(nextToken?: string): Promise<DescribeClustersPage> {
    this.describeCalls.push(nextToken);
    if (this.failing !== undefined) return Promise.reject(this.failing);
    const index = nextToken === undefined ? 0 : Number(nextToken);
    const clusters = this.pages[index] ?? [];
    return Promise.resolve(
      index + 1 < this.pages.length ? { clusters, nextToken: String(index + 1) } : { clusters },
    );
  }

  listTags(resourceId: string, nextToken?: string): Promise<ListTagsPage> {
    this.listTagCalls.push(resourceId);
    if (this.failTags) return Promise.reject(new Error('AccessDeniedException'));
    const all = this.tags.get(resourceId) ?? [];
    // Two tags per page, to exercise pagination.
    const start = nextToken === undefined ? 0 : Number(nextToken);
    const page = all.slice(start, start + 2);
    return Promise.resolve(
      start + 2 < all.length ? { tags: page, nextToken: String(start + 2) } : { tags: page },
    );
  }
}

function setup(options: { identity?: CallerIdentityPort; accountId?: string } = {}) {
  const port = new FakePort();
  const clock = new FakeClock();
  const outcomes: Array<[RefreshOutcome, unknown]> = [];
  const provider = new MetadataProvider({
    port,
    clock,
    region: 'eu-west-1',
    labels: { environment: 'prod' },
    refreshIntervalMs: 5 * MINUTE,
    backoff: { baseMs: 1000, maxMs: 60_000 },
    random: () => 0.5,
    onRefresh: (outcome, error) => outcomes.push([outcome, error]),
    ...options,
  });
  return { port, clock, provider, outcomes };
}

describe('MetadataProvider', () => {
  it('paginates DescribeClusters, lists tags where not inline, and maps every field', async () => {
    const { port, provider, clock } = setup({ accountId: '111122223333' });
    port.pages = [
      [rawCluster('cluster-a', ['hsm-a1', 'hsm-a2'])],
      [rawCluster('cluster-b', [], { TagList: [{ Key: 'Name', Value: 'inline-b' }] })],
    ];
    port.tags.set('cluster-a', [
      { Key: 'Name', Value: 'payments' },
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: 'sec' },
    ]);
    await provider.start();
    const snap = provider.snapshot();
    assert.deepEqual(port.describeCalls, [undefined, '1']);
    assert.deepEqual(port.listTagCalls, ['cluster-a', 'cluster-a'], 'two tag pages, b inline');
    assert.equal(snap.accountId, '111122223333');
    assert.equal(snap.region, 'eu-west-1');
    assert.equal(snap.refreshedAt, clock.now());
    assert.deepEqual(snap.labels, { environment: 'prod' });
    assert.deepEqual(snap.clusters.get('cluster-a'), {
      id: 'cluster-a',
      state: 'ACTIVE',
      hsmType: 'hsm2m.medium',
      mode: 'FIPS',
      networkType: 'DUALSTACK',
      backupPolicy: 'DEFAULT',
      backupRetention: { type: 'DAYS', value: '90' },
      vpcId: 'vpc-1',
      subnetMapping: { 'us-east-1a': 'subnet-a' },
      tags: { Name: 'payments', env: 'prod', owner: 'sec' },
      name: 'payments',
      present: true,
      firstSeen: clock.now(),
      lastSeen: clock.now(),
    });
    assert.equal(snap.clusters.get('cluster-b')?.name, 'inline-b');
    assert.deepEqual(snap.hsms.get('hsm-a2'), {
      id: 'hsm-a2',
      clusterId: 'cluster-a',
      availabilityZone: 'us-east-1a',
      subnetId: 'subnet-a',
      eniId: 'eni-1',
      eniIp: '10.0.0.11',
      eniIpV6: '2600::11',
      state: 'ACTIVE',
      hsmType: 'hsm2m.medium',
      firstSeen: clock.now(),
      lastSeen: clock.now(),
      present: true,
    });
    await provider.stop();
  });

  it('keeps the last good data on failure, counts failures, keeps refreshing and recovers', async () => {
    const { port, provider, clock, outcomes } = setup();
    port.pages = [[rawCluster('cluster-a', ['hsm-a1'])]];
    await provider.start();
    const good = provider.snapshot();
    assert.equal(good.hsms.size, 1);

    port.failing = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await clock.advance(5 * MINUTE);
    assert.equal(provider.snapshot(), good, 'same snapshot object after a failure');
    assert.equal(provider.stats().failures, 1);
    // Retries with backoff (1000 + 0.5 * 1000 ms), not only at the next interval.
    await clock.advance(1500);
    await clock.advance(1000 + 1000);
    const stats = provider.stats();
    assert.equal(stats.failures, 3);
    assert.equal(stats.consecutiveFailures, 3);
    assert.match(stats.lastError ?? '', /ECONNREFUSED/);
    assert.deepEqual(
      outcomes.map(([o]) => o),
      ['success', 'failure', 'failure', 'failure'],
    );
    assert.equal(provider.snapshot(), good);

    port.failing = undefined;
    port.pages = [[rawCluster('cluster-a', ['hsm-a1', 'hsm-a3'])]];
    const recovered = await clock.advanceUntil(() => provider.snapshot().hsms.size === 2, MINUTE);
    assert.ok(recovered, 'data comes back once the API answers again');
    assert.equal(provider.stats().consecutiveFailures, 0);
    assert.equal(provider.stats().failures, 3);
    await provider.stop();
    assert.equal(clock.pending, 0, 'stop cancels the loop');
  });

  it('keeps a disappeared HSM with present=false and first/last seen times', async () => {
    const { port, provider, clock } = setup();
    port.pages = [[rawCluster('cluster-a', ['hsm-old'])]];
    const t0 = clock.now();
    await provider.start();
    await clock.advance(5 * MINUTE);
    const t1 = clock.now();
    port.pages = [[rawCluster('cluster-a', ['hsm-new'])]];
    await clock.advance(5 * MINUTE);
    const snap = provider.snapshot();
    assert.deepEqual(
      { ...snap.hsms.get('hsm-old') },
      {
        id: 'hsm-old',
        clusterId: 'cluster-a',
        availabilityZone: 'us-east-1a',
        subnetId: 'subnet-a',
        eniId: 'eni-0',
        eniIp: '10.0.0.10',
        eniIpV6: '2600::10',
        state: 'ACTIVE',
        hsmType: 'hsm2m.medium',
        firstSeen: t0,
        lastSeen: t1,
        present: false,
      },
    );
    assert.equal(snap.hsms.get('hsm-new')?.present, true);
    assert.equal(snap.hsms.get('hsm-new')?.firstSeen, clock.now());
    assert.equal(snap.clusters.get('cluster-a')?.firstSeen, t0);

    // A deleted cluster is kept the same way.
    port.pages = [[]];
    await clock.advance(5 * MINUTE);
    assert.equal(provider.snapshot().clusters.get('cluster-a')?.present, false);
    await provider.stop();
  });

  it('forgets missing HSMs after retainMissingMs', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const provider = new MetadataProvider({
      port,
      clock,
      refreshIntervalMs: MINUTE,
      retainMissingMs: 2 * MINUTE,
    });
    port.pages = [[rawCluster('cluster-a', ['hsm-old'])]];
    await provider.start();
    port.pages = [[rawCluster('cluster-a', [])]];
    await clock.advance(2 * MINUTE);
    assert.equal(provider.snapshot().hsms.get('hsm-old')?.present, false);
    await clock.advance(MINUTE);
    assert.equal(provider.snapshot().hsms.has('hsm-old'), false);
    await provider.stop();
  });

  it('a first refresh failure is not fatal; STS is asked once for the account id', async () => {
    let stsCalls = 0;
    const identity: CallerIdentityPort = {
      getCallerIdentity: () => {
        stsCalls++;
        return Promise.resolve({ account: '444455556666' });
      },
    };
    const { port, provider, clock } = setup({ identity });
    port.failing = new Error('ServiceUnavailable');
    await provider.start();
    const snap = provider.snapshot();
    assert.equal(snap.clusters.size, 0);
    assert.equal(snap.refreshedAt, undefined);
    assert.equal(snap.accountId, '444455556666', 'account known even though clusters failed');
    port.failing = undefined;
    port.pages = [[rawCluster('cluster-a', [])]];
    await clock.advanceUntil(() => provider.snapshot().clusters.size === 1, MINUTE);
    assert.equal(provider.snapshot().accountId, '444455556666');
    assert.equal(stsCalls, 1);
    await provider.stop();
  });

  it('a ListTags failure keeps the previous tags and is counted, not fatal', async () => {
    const { port, provider, clock } = setup();
    port.pages = [[rawCluster('cluster-a', ['hsm-a1'])]];
    port.tags.set('cluster-a', [{ Key: 'Name', Value: 'payments' }]);
    await provider.start();
    port.failTags = true;
    await clock.advance(5 * MINUTE);
    const snap = provider.snapshot();
    assert.equal(snap.clusters.get('cluster-a')?.name, 'payments');
    assert.equal(provider.stats().tagFailures, 1);
    assert.equal(provider.stats().failures, 0);
    await provider.stop();
  });

  it('concurrent refresh calls share one request', async () => {
    const { port, provider } = setup();
    const results = await Promise.all([provider.refresh(), provider.refresh()]);
    assert.deepEqual(results, [true, true]);
    assert.equal(port.describeCalls.length, 1);
  });

  it('stop() cancels an in-flight refresh without counting it as a failure', async () => {
    const hanging: CloudHsmPort = {
      describeClusters: (_token, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
      listTags: () => Promise.resolve({ tags: [] }),
    };
    const provider = new MetadataProvider({ port: hanging, clock: new FakeClock() });
    const pending = provider.refresh();
    await provider.stop();
    assert.equal(await pending, false);
    assert.equal(provider.stats().failures, 0);
  });
});
