import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';

import { CloudHSMV2Client } from '@aws-sdk/client-cloudhsm-v2';

import { createCloudHsmPort } from '../../../src/enrichment/cloudhsm-port.js';

interface SeenRequest {
  headers: Record<string, string>;
  body: string;
}

/** A client whose HTTP layer answers with canned JSON bodies (no network). */
function clientAnswering(bodies: unknown[], status = 200) {
  const seen: SeenRequest[] = [];
  const client = new CloudHSMV2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      handle: (request: { headers: Record<string, string>; body?: unknown }) => {
        seen.push({ headers: request.headers, body: String(request.body) });
        const body = JSON.stringify(bodies.shift() ?? {});
        return Promise.resolve({
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(body)]),
          },
        });
      },
    } as never,
  });
  return { client, seen };
}

describe('createCloudHsmPort (SDK 3.332.0 adapter)', () => {
  it('returns the wire JSON, including members the old SDK model drops', async () => {
    const { client, seen } = clientAnswering([
      {
        Clusters: [
          {
            ClusterId: 'cluster-abc',
            CreateTimestamp: 1700000000.5,
            Mode: 'NON_FIPS',
            NetworkType: 'DUALSTACK',
            HsmType: 'hsm2m.medium',
            Hsms: [
              { HsmId: 'hsm-1', HsmType: 'hsm2m.medium', EniIpV6: '2600::1', EniIp: '10.0.0.1' },
            ],
          },
        ],
        NextToken: 'page-2',
      },
    ]);
    const port = createCloudHsmPort(client, { pageSize: 10 });
    const page = await port.describeClusters('page-1');
    assert.equal(page.nextToken, 'page-2');
    const [cluster] = page.clusters;
    assert.equal(cluster?.Mode, 'NON_FIPS');
    assert.equal(cluster?.NetworkType, 'DUALSTACK');
    assert.equal(cluster?.Hsms?.[0]?.HsmType, 'hsm2m.medium');
    assert.equal(cluster?.Hsms?.[0]?.EniIpV6, '2600::1');
    assert.equal(seen[0]?.headers['x-amz-target'], 'BaldrApiService.DescribeClusters');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { NextToken: 'page-1', MaxResults: 10 });
  });

  it('lists tags and treats a null NextToken as the last page', async () => {
    const { client } = clientAnswering([
      { TagList: [{ Key: 'Name', Value: 'payments' }], NextToken: null },
    ]);
    const page = await createCloudHsmPort(client).listTags('cluster-abc');
    assert.deepEqual(page, { tags: [{ Key: 'Name', Value: 'payments' }] });
  });

  it('leaves error responses to the SDK, which throws the modelled exception', async () => {
    const { client } = clientAnswering(
      [{ __type: 'CloudHsmAccessDeniedException', Message: 'no' }],
      400,
    );
    await assert.rejects(createCloudHsmPort(client).describeClusters(), {
      name: 'CloudHsmAccessDeniedException',
    });
  });
});
