// Enrichment against the emulator's CloudHSM v2 API (moto). moto implements clusters and tags
// but not HSMs (no CreateHsm; `Hsms` is always []), so this test adds an HSM list to the
// DescribeClusters response with an SDK middleware at the client boundary, before the adapter
// and the SDK deserializer see the body. Everything else — cluster fields, TagResource/ListTags,
// pagination, STS GetCallerIdentity — is the emulator's. The test never resets moto and only
// touches the cluster it creates.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';

import {
  CreateClusterCommand,
  DeleteClusterCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudhsm-v2';
import type { CloudHSMV2Client } from '@aws-sdk/client-cloudhsm-v2';
import { STSClient } from '@aws-sdk/client-sts';

import {
  createCallerIdentityPort,
  createCloudHsmClient,
  createCloudHsmPort,
  readBody,
} from '../../../src/enrichment/cloudhsm-port.js';
import type { CloudHsmPort } from '../../../src/enrichment/cloudhsm-port.js';
import { MetadataProvider } from '../../../src/enrichment/metadata-provider.js';
import type { RefreshOutcome } from '../../../src/enrichment/metadata-provider.js';
import {
  ENRICHMENT_NONE,
  ENRICHMENT_PARTIAL,
  enrichEvent,
  labelsOf,
} from '../../../src/transform/enrich.js';
import type { EnrichedDevice } from '../../../src/transform/enrich.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import type { OcsfEvent } from '../../../src/transform/ocsf-event.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

interface AwsSettings {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The stack's AWS settings; fails with a clear message when the environment is missing. */
function awsSettings(): AwsSettings {
  const { awsEndpoint, awsRegion } = stackEnv();
  const accessKeyId = process.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = process.env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set: export the stack environment ' +
        `with 'eval "$(npm run --silent stack -- env)"' (moto accepts any value, e.g. test/test)`,
    );
  }
  return {
    endpoint: awsEndpoint,
    region: awsRegion,
    credentials: { accessKeyId, secretAccessKey },
  };
}

/** A TCP port nothing listens on: connecting to it is refused, like a stopped emulator. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

type Handler = (args: unknown) => Promise<{ response: { body?: unknown }; output?: unknown }>;

/**
 * The fake at the client boundary: appends `hsms` to the emulator's DescribeClusters answer for
 * the given cluster, by rewriting the HTTP body before anything else reads it.
 */
function addHsmsMiddleware(
  client: CloudHSMV2Client,
  hsmsByCluster: Map<string, Array<Record<string, string>>>,
): void {
  const middleware =
    (next: Handler, context: { commandName?: string }): Handler =>
    async (args) => {
      const result = await next(args);
      if (!/^(Describe|Create|Delete)Clusters?Command$/.test(context.commandName ?? '')) {
        return result;
      }
      const bytes = await readBody(result.response.body);
      type WireCluster = { ClusterId?: string; Hsms?: unknown[]; CreateTimestamp?: unknown };
      const json = JSON.parse(new TextDecoder().decode(bytes)) as {
        Clusters?: WireCluster[];
        Cluster?: WireCluster;
      };
      const clusters = json.Clusters ?? (json.Cluster === undefined ? [] : [json.Cluster]);
      for (const cluster of clusters) {
        // moto sends an ISO string where AWS sends epoch seconds; the SDK would log a TypeError
        // for every cluster (docs/cloudwatch-logs.md, moto quirks). Not asserted on; normalised for quiet logs.
        if (typeof cluster.CreateTimestamp === 'string') {
          cluster.CreateTimestamp = Date.parse(`${cluster.CreateTimestamp}Z`) / 1000;
        }
        const extra =
          cluster.ClusterId === undefined ? undefined : hsmsByCluster.get(cluster.ClusterId);
        if (extra !== undefined) cluster.Hsms = [...(cluster.Hsms ?? []), ...extra];
      }
      result.response.body = new TextEncoder().encode(JSON.stringify(json));
      return result;
    };
  // Lowest priority of the last step = innermost: runs on the raw response before the adapter's
  // capture middleware and the SDK's deserializer.
  (
    client.middlewareStack as unknown as {
      add(mw: unknown, options: Record<string, unknown>): void;
    }
  ).add(middleware, { step: 'deserialize', priority: 'low', name: 'testFakeHsmList' });
}

function hsmRecordText(seq: number, opcode: string, user: string): string {
  const now = Date.now();
  return [
    `Time: 01/16/18 01:49:39.437708, usecs:${now * 1000}`,
    `Sequence No : 0x${seq.toString(16)}`,
    'Reboot counter : 0x107',
    'Command Type(hex) : CN_MGMT_CMD (0x0)',
    `Opcode : ${opcode}`,
    'Session Handle : 0x7014006',
    'Response : 0:HSM Return: SUCCESS',
    'Log type : MGMT_USER_DETAILS_LOG (2)',
    `User Name : ${user}`,
    'User Type : CN_CRYPTO_OFFICER (2)',
  ].join('\n');
}

function eventFor(clusterId: string, hsmId: string, seq: number, region: string): OcsfEvent {
  return toOcsfEvent(
    {
      logGroup: `/aws/cloudhsm/${clusterId}`,
      logStream: hsmId,
      timestamp: Date.now(),
      ingestionTime: Date.now(),
      message: hsmRecordText(seq, 'CN_LOGIN (0xd)', 'admin'),
    },
    { region },
  );
}

describe('enrichment against the CloudHSM v2 emulator', () => {
  let aws: AwsSettings;
  let admin: CloudHSMV2Client;
  let clusterId: string | undefined;
  const suffix = uniqueSuffix();
  const hsmId = `hsm-${suffix.replace(/[^a-z0-9]/g, '').slice(-11)}`;
  const hsms = new Map<string, Array<Record<string, string>>>();

  after(async () => {
    if (clusterId !== undefined) {
      await admin.send(new DeleteClusterCommand({ ClusterId: clusterId })).catch(() => undefined);
    }
  });

  it('enriches known HSMs, marks unknown ones, survives an outage and recovers', async () => {
    // Set-up inside the test: a missing stack environment must fail it, not cancel it.
    aws = awsSettings();
    admin = createCloudHsmClient(aws);
    addHsmsMiddleware(admin, new Map()); // only for the CreateTimestamp normalisation
    // No TagList at creation: moto keeps creation tags apart from ListTags.
    const answer = await admin.send(
      new CreateClusterCommand({ HsmType: 'hsm2m.medium', SubnetIds: [`subnet-${suffix}`] }),
    );
    const id = answer.Cluster?.ClusterId;
    assert.ok(id, 'CreateCluster returned a cluster id');
    clusterId = id; // for clean-up
    const created = id;
    await admin.send(
      new TagResourceCommand({
        ResourceId: created,
        TagList: [
          { Key: 'Name', Value: `payments-${suffix}` },
          { Key: 'environment', Value: 'integration' },
        ],
      }),
    );
    hsms.set(created, [
      {
        HsmId: hsmId,
        ClusterId: created,
        AvailabilityZone: `${aws.region}a`,
        SubnetId: `subnet-${suffix}`,
        EniId: 'eni-0a1b2c3d4e5f60718',
        EniIp: '10.42.0.17',
        HsmType: 'hsm2m.medium',
        State: 'ACTIVE',
      },
    ]);

    const live = createCloudHsmClient(aws);
    addHsmsMiddleware(live, hsms);
    const livePort = createCloudHsmPort(live);
    // The emulator is shared with other tests and must not be stopped, so the outage is
    // simulated at the client boundary: a second adapter whose client points at a closed port.
    // The provider talks to whichever is active; switching back is "the emulator returned".
    const down = createCloudHsmClient({
      ...aws,
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      maxAttempts: 1,
    });
    const downPort = createCloudHsmPort(down);
    let active: CloudHsmPort = livePort;
    const port: CloudHsmPort = {
      describeClusters: (token, signal) => active.describeClusters(token, signal),
      listTags: (id, token, signal) => active.listTags(id, token, signal),
    };
    const outcomes: RefreshOutcome[] = [];
    const sts = new STSClient({
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: aws.credentials,
    });
    const provider = new MetadataProvider({
      port,
      identity: createCallerIdentityPort(sts),
      region: aws.region,
      labels: { environment: 'test', team: 'payments' },
      refreshIntervalMs: 150,
      backoff: { baseMs: 50, maxMs: 150 },
      onRefresh: (outcome) => outcomes.push(outcome),
    });

    try {
      await provider.start();
      const snap = provider.snapshot();
      assert.match(snap.accountId ?? '', /^\d{12}$/, 'account id from STS GetCallerIdentity');
      const cluster = snap.clusters.get(created);
      assert.ok(cluster, 'the created cluster is known');
      assert.equal(cluster.name, `payments-${suffix}`);
      assert.equal(cluster.tags.environment, 'integration');
      assert.equal(cluster.hsmType, 'hsm2m.medium');
      assert.ok(cluster.mode !== undefined, 'Mode read from the raw body (dropped by SDK 3.332.0)');

      // Known cluster and HSM: tags, name, AZ, IP and type.
      const known = enrichEvent(eventFor(created, hsmId, 0, aws.region), snap);
      const device = known.device as EnrichedDevice;
      assert.equal(device.zone, `${aws.region}a`);
      assert.equal(device.ip, '10.42.0.17');
      assert.equal(device.subnet_uid, `subnet-${suffix}`);
      assert.equal(device.desc, 'AWS CloudHSM hsm2m.medium');
      assert.deepEqual(device.groups[0], {
        uid: created,
        name: `payments-${suffix}`,
        type: 'CloudHSM Cluster',
        desc: `Tags: Name=payments-${suffix}, environment=integration`,
      });
      assert.equal(known.cloud.account?.uid, snap.accountId);
      // Type and tags are in device.desc / device.groups[0].desc, so not repeated under unmapped;
      // what has no OCSF attribute (the cluster's mode) is.
      assert.equal(known.unmapped.cloudhsm.enrichment_hsm_type, undefined);
      assert.equal(known.unmapped.cloudhsm.enrichment_cluster_tags, undefined);
      assert.equal(known.unmapped.cloudhsm.enrichment_cluster_mode, cluster.mode);
      assert.deepEqual(labelsOf(known), ['environment=test', 'team=payments']);
      assertValidOcsf(known);

      // Unknown HSM (known cluster) and unknown cluster: delivered, marked not enriched.
      const newHsm = enrichEvent(eventFor(created, 'hsm-notlisted01', 1, aws.region), snap);
      assert.ok(labelsOf(newHsm).includes(ENRICHMENT_PARTIAL));
      assertValidOcsf(newHsm);
      const stranger = enrichEvent(
        eventFor(`cluster-none${suffix.slice(-6)}`, 'hsm-stranger0001', 2, aws.region),
        snap,
      );
      assert.ok(labelsOf(stranger).includes(ENRICHMENT_NONE));
      assertValidOcsf(stranger);

      // Outage: refreshes fail and are counted; the last good snapshot stays and enrichment
      // does not wait for anything.
      active = downPort;
      const failuresBefore = provider.stats().failures;
      await waitFor(() => provider.stats().failures >= failuresBefore + 2, 10_000, 'failures');
      assert.equal(provider.snapshot(), snap, 'last good snapshot kept');
      assert.ok(outcomes.includes('failure'));
      const pending = eventFor(created, hsmId, 3, aws.region);
      // Synchronous by construction (a value, not a promise), so it cannot wait on the endpoint;
      // a wall-clock bound here would only measure how busy the machine is.
      const during = enrichEvent(pending, provider.snapshot());
      assert.ok(!((during as unknown) instanceof Promise), 'enrichment is synchronous');
      assert.equal(provider.snapshot(), snap, 'enriched from the last good snapshot');
      assert.equal((during.device as EnrichedDevice).ip, '10.42.0.17');

      // Recovery: a tag added during the outage shows up once the endpoint answers again.
      await admin.send(
        new TagResourceCommand({
          ResourceId: created,
          TagList: [{ Key: 'owner', Value: 'secops' }],
        }),
      );
      active = livePort;
      await waitFor(
        () => provider.snapshot().clusters.get(created)?.tags.owner === 'secops',
        10_000,
        'fresh data after recovery',
      );
      assert.equal(provider.stats().consecutiveFailures, 0);
      assert.equal(provider.snapshot().hsms.get(hsmId)?.present, true);
    } finally {
      await provider.stop();
      live.destroy();
      down.destroy();
      sts.destroy();
    }
  });
});
