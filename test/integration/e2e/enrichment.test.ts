/**
 * Enrichment end to end: the forwarder's CloudHSM API traffic goes through a small TCP relay in
 * front of the emulator that the test can cut (the emulator itself is shared with the CloudWatch
 * side, so it cannot be stopped). While the relay is down, delivery goes on unslowed and events
 * are marked `enrichment:none`, and the failures show in /metrics; once it is back, refreshes
 * succeed and new events carry the cluster's Name tag.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  CloudHSMV2Client,
  CreateClusterCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudhsm-v2';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { putRecords, writeStreams } from '../../../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../../../src/simulator/fleet.js';
import { freePort, startForwarder, waitFor } from '../support/forwarder-process.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();

/** A TCP relay to `target` that refuses (resets) connections while `up` is false. */
async function relay(target: URL): Promise<{ server: Server; port: number; up: boolean }> {
  const state = { up: false };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!state.up) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle = {
    server,
    port: (server.address() as AddressInfo).port,
    get up() {
      return state.up;
    },
    set up(value: boolean) {
      state.up = value;
      if (!value) for (const socket of sockets) socket.destroy();
    },
  };
  return handle;
}

async function metric(port: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = pattern.exec(text)?.[1];
  return value === undefined ? 0 : Number(value);
}

describe('enrichment against the emulator, through an outage', { timeout: 240_000 }, () => {
  it('never blocks delivery, counts failed refreshes and recovers the cluster metadata', async () => {
    const hsmClient = new CloudHSMV2Client({ endpoint: env.awsEndpoint, region: env.awsRegion });
    const created = await hsmClient.send(
      new CreateClusterCommand({ HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0e2e'] }),
    );
    const clusterId = created.Cluster?.ClusterId ?? '';
    assert.ok(clusterId !== '');
    await hsmClient.send(
      new TagResourceCommand({
        ResourceId: clusterId,
        TagList: [{ Key: 'Name', Value: 'payments-prod' }],
      }),
    );
    hsmClient.destroy();

    const logGroup = `/aws/cloudhsm/${clusterId}`;
    const fleet = simulateFleet({
      clusters: 1,
      hsmsPerCluster: 1,
      recordsPerHsm: 60,
      startMs: Date.now() - 3_600_000,
    });
    const [simulated] = fleet.streams;
    assert.ok(simulated !== undefined);
    const stream = { ...simulated, logGroup };
    const cloudwatch = new CloudWatchLogsClient({
      endpoint: env.awsEndpoint,
      region: env.awsRegion,
    });
    await writeStreams(cloudwatch, [{ ...stream, records: stream.records.slice(0, 30) }]);

    const proxy = await relay(new URL(env.awsEndpoint));
    const dir = await mkdtemp(join(tmpdir(), 'enrich-e2e-'));
    const indexPrefix = `enrich-${uniqueSuffix()}`;
    const port = await freePort();
    const opensearch = new Client({ node: env.opensearchUrl });
    const documents = async (): Promise<{ labels: string[]; groupName?: string }[]> => {
      try {
        await opensearch.indices.refresh({ index: `${indexPrefix}-*` });
        const result = await opensearch.search({
          index: `${indexPrefix}-*`,
          body: { size: 200, query: { match_all: {} } },
        });
        return result.body.hits.hits.map((hit) => {
          const source = hit._source as {
            metadata: { labels?: string[] };
            device?: { groups?: { name?: string }[] };
          };
          const groupName = source.device?.groups?.[0]?.name;
          return {
            labels: source.metadata.labels ?? [],
            ...(groupName === undefined ? {} : { groupName }),
          };
        });
      } catch {
        return [];
      }
    };

    const forwarder = startForwarder({
      LOG_GROUP_PREFIXES: logGroup,
      CHECKPOINT_DIR: join(dir, 'checkpoints'),
      DEAD_LETTER_FILE: join(dir, 'dlq.ndjson'),
      KAFKA_BROKERS: '',
      OPENSEARCH_INDEX_PREFIX: indexPrefix,
      HTTP_PORT: port,
      ENRICHMENT_ENABLED: 'true',
      ENRICHMENT_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}`,
      ENRICHMENT_REFRESH_INTERVAL_MS: '1000',
      AWS_ACCOUNT_ID: '111122223333',
      LABELS: 'environment=test',
      POLL_MIN_INTERVAL_MS: '200',
    });
    try {
      // CloudHSM API unreachable: delivery is not held back, events are marked not enriched.
      const started = Date.now();
      await waitFor('30 documents', async () => (await documents()).length === 30, 60_000);
      const deliveredIn = Date.now() - started;
      for (const doc of await documents()) {
        assert.ok(doc.labels.includes('enrichment:none'), JSON.stringify(doc));
        assert.ok(doc.labels.includes('environment=test'));
      }
      const failures = /cloudhsm_forwarder_enrichment_refreshes_total\{outcome="failure"\} (\d+)/;
      await waitFor(
        'failed refreshes in /metrics',
        async () => (await metric(port, failures)) > 0,
        30_000,
      );

      // The API is back: the next refresh succeeds and new events carry the cluster metadata.
      proxy.up = true;
      const successes = /cloudhsm_forwarder_enrichment_refreshes_total\{outcome="success"\} (\d+)/;
      await waitFor(
        'a successful refresh',
        async () => (await metric(port, successes)) > 0,
        30_000,
      );
      await putRecords(cloudwatch, stream.logGroup, stream.logStream, stream.records.slice(30));
      await waitFor('60 documents', async () => (await documents()).length === 60, 60_000);
      const enriched = (await documents()).filter((d) => d.groupName === 'payments-prod');
      assert.equal(enriched.length, 30, 'the records read after recovery carry the Name tag');
      // moto has no HSMs (no CreateHsm), so only the cluster is known: partial enrichment.
      for (const doc of enriched) assert.ok(doc.labels.includes('enrichment:partial'));
      console.log(
        `enrichment outage: 30 records delivered in ${deliveredIn} ms with the CloudHSM API down; ` +
          `${await metric(port, failures)} failed and ${await metric(port, successes)} successful refreshes`,
      );
    } finally {
      forwarder.child.kill('SIGTERM');
      await forwarder.exited;
      proxy.server.close();
      cloudwatch.destroy();
      await opensearch.indices.delete({ index: `${indexPrefix}-*` }).catch(() => undefined);
      await opensearch.close();
    }
  });
});
