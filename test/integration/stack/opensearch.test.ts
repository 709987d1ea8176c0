import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { Client } from '@opensearch-project/opensearch';

import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

describe('OpenSearch node of the local stack, through the OpenSearch client', () => {
  const env = stackEnv();
  const client = new Client({ node: env.opensearchUrl });
  const suffix = uniqueSuffix();
  const template = `stack-test-${suffix}`;
  const index = `stack-test-${suffix}-2026.11.23`;

  after(async () => {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.indices.deleteIndexTemplate({ name: template });
    await client.close();
  });

  it('installs an index template, bulk-creates documents with explicit ids and finds them', async () => {
    await client.indices.putIndexTemplate({
      name: template,
      body: {
        index_patterns: [`stack-test-${suffix}-*`],
        template: {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: {
            dynamic: 'strict',
            properties: {
              time: { type: 'date', format: 'epoch_millis' },
              user: { properties: { name: { type: 'keyword' } } },
              status_id: { type: 'integer' },
            },
          },
        },
      },
    });

    const docs = Array.from({ length: 50 }, (_, i) => ({
      id: `hsm-a:0x1:0x${i.toString(16)}`,
      doc: {
        time: 1_700_000_000_000 + i,
        user: { name: i % 5 === 0 ? 'alice' : 'bob' },
        status_id: 1,
      },
    }));
    const bulk = await client.bulk({
      body: docs.flatMap(({ id, doc }) => [{ create: { _index: index, _id: id } }, doc]),
      refresh: 'wait_for',
    });
    assert.equal(bulk.body.errors, false);

    // Same ids again: `create` answers 409 per item, so re-delivery never duplicates a document.
    const again = await client.bulk({
      body: docs
        .slice(0, 3)
        .flatMap(({ id, doc }) => [{ create: { _index: index, _id: id } }, doc]),
      refresh: 'wait_for',
    });
    assert.deepEqual(
      again.body.items.map((item) => item.create?.status),
      [409, 409, 409],
    );

    const mapping = await client.indices.getMapping({ index });
    const properties = mapping.body[index]?.mappings.properties;
    assert.equal(properties?.time?.type, 'date', 'the template applied to the new index');

    const result = await client.search({
      index,
      body: { query: { term: { 'user.name': 'alice' } }, size: 100 },
    });
    const total = result.body.hits.total;
    assert.equal(typeof total === 'number' ? total : total?.value, 10);
    const count = await client.count({ index });
    assert.equal(count.body.count, 50);
  });
});
