import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { emptySnapshot } from '../../../src/transform/cluster-metadata.js';
import {
  ENRICHMENT_NONE,
  ENRICHMENT_PARTIAL,
  enrichEvent,
  enrichmentStatusOf,
  labelsOf,
} from '../../../src/transform/enrich.js';
import type { EnrichedCloud, EnrichedDevice } from '../../../src/transform/enrich.js';
import { findingToEvent } from '../../../src/transform/integrity.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { CONTEXT, sampleNames, sampleRecord } from '../transform/fixtures.js';
import {
  CLUSTER_ID,
  HSM_ID,
  cluster,
  deepFreeze,
  event,
  hsm,
  record,
  snapshot,
} from './support.js';

describe('enrichEvent', () => {
  it('fills cloud, device, the cluster group, labels and unmapped metadata for a known HSM', () => {
    const input = event({ seq: 0, opcode: 'CN_LOGIN', opcodeHex: '0xd', user: 'admin' });
    const out = enrichEvent(input, snapshot());
    const cloud = out.cloud as EnrichedCloud;
    assert.deepEqual(cloud, {
      provider: 'AWS',
      region: 'us-east-1',
      account: { uid: '111122223333', type_id: 10, type: 'AWS Account' },
      zone: 'us-east-1a',
    });
    const device = out.device as EnrichedDevice;
    assert.equal(device.uid, HSM_ID);
    assert.equal(device.zone, 'us-east-1a');
    assert.equal(device.ip, '10.0.1.25');
    assert.equal(device.subnet_uid, 'subnet-0aaa');
    assert.equal(device.interface_uid, 'eni-0123456789abcdef0');
    assert.equal(device.vpc_uid, 'vpc-0abc');
    assert.equal(device.desc, 'AWS CloudHSM hsm2m.medium');
    assert.deepEqual(device.groups, [
      {
        uid: CLUSTER_ID,
        name: 'payments-prod',
        type: 'CloudHSM Cluster',
        desc: 'Tags: Name=payments-prod, costcenter=cc-42',
      },
    ]);
    assert.deepEqual(labelsOf(out), ['environment=prod', 'team=payments']);
    assert.equal(out.unmapped.cloudhsm.user_type, 'CN_CRYPTO_OFFICER (2)', 'source fields stay');
    // Only what device/cloud/labels do not hold goes under unmapped.
    assert.deepEqual(out.unmapped.cloudhsm, {
      ...input.unmapped.cloudhsm,
      enrichment_refreshed_at: '2023-11-14T22:14:20.000Z',
      enrichment_cluster_state: 'ACTIVE',
      enrichment_cluster_mode: 'FIPS',
      enrichment_cluster_network_type: 'IPV4',
      enrichment_cluster_backup_policy: 'DEFAULT',
      enrichment_cluster_backup_retention_type: 'DAYS',
      enrichment_cluster_backup_retention_value: '90',
      enrichment_cluster_present: 'true',
      enrichment_cluster_subnet_mapping: [
        { key: 'us-east-1a', value: 'subnet-0aaa' },
        { key: 'us-east-1b', value: 'subnet-0bbb' },
      ],
      enrichment_hsm_state: 'ACTIVE',
      enrichment_hsm_present: 'true',
      enrichment_hsm_first_seen: '2023-11-14T22:13:20.000Z',
      enrichment_hsm_last_seen: '2023-11-14T22:13:20.000Z',
    });
    assertValidOcsf(out);
  });

  it('marks an unknown HSM of a known cluster as partial and still names the cluster', () => {
    const input = event({ seq: 1, opcode: 'CN_LOGIN', user: 'admin', hsmId: 'hsm-newone12345' });
    const out = enrichEvent(input, snapshot());
    assert.equal(enrichmentStatusOf(input, snapshot()), 'partial');
    assert.deepEqual(labelsOf(out), ['environment=prod', 'team=payments', ENRICHMENT_PARTIAL]);
    const device = out.device as EnrichedDevice;
    assert.equal(device.zone, undefined);
    assert.equal(device.ip, undefined);
    assert.equal(device.groups[0]?.name, 'payments-prod');
    assert.equal(out.unmapped.cloudhsm.enrichment_status, undefined, 'the marker says it');
    assert.equal(out.unmapped.cloudhsm.enrichment_hsm_state, undefined);
    assert.equal(out.unmapped.cloudhsm.enrichment_cluster_mode, 'FIPS');
    assertValidOcsf(out);
  });

  it('returns an unknown cluster event unchanged apart from account, labels and the marker', () => {
    const input = event({
      seq: 2,
      opcode: 'CN_GENERATE_KEY',
      opcodeHex: '0x17',
      keyHandle: '7',
      logGroup: '/aws/cloudhsm/cluster-unknown0000',
      hsmId: 'hsm-unknown00000',
    });
    const out = enrichEvent(input, snapshot());
    assert.deepEqual(labelsOf(out), ['environment=prod', 'team=payments', ENRICHMENT_NONE]);
    assert.deepEqual(out.device, input.device);
    assert.deepEqual(out.unmapped, input.unmapped);
    assert.deepEqual(
      { ...out, metadata: input.metadata, cloud: input.cloud },
      input,
      'nothing else changed',
    );
    assert.equal(out.cloud.account?.uid, '111122223333');
    assertValidOcsf(out);
  });

  it('marks everything as not enriched when there is no snapshot, keeping option labels', () => {
    const input = event({ seq: 3, opcode: 'CN_LOGIN', user: 'admin' });
    const out = enrichEvent(input, undefined, { labels: { environment: 'dev' } });
    assert.deepEqual(labelsOf(out), ['environment=dev', ENRICHMENT_NONE]);
    assert.deepEqual(out.cloud, input.cloud);
    assert.deepEqual(out.device, input.device);
    assertValidOcsf(out);
  });

  it('option labels override snapshot labels of the same key', () => {
    const out = enrichEvent(event({ seq: 4, opcode: 'CN_LOGIN', user: 'a' }), snapshot(), {
      labels: { team: 'crypto', region_role: 'primary' },
    });
    assert.deepEqual(labelsOf(out), ['environment=prod', 'team=crypto', 'region_role=primary']);
  });

  it('an HSM known but its cluster unknown is partial; a retired HSM keeps its metadata', () => {
    const snap = snapshot({ clusters: [], hsms: [hsm({ present: false, lastSeen: 5 })] });
    const out = enrichEvent(event({ seq: 5, opcode: 'CN_LOGIN', user: 'a' }), snap);
    assert.ok(labelsOf(out).includes(ENRICHMENT_PARTIAL));
    assert.equal((out.device as EnrichedDevice).ip, '10.0.1.25');
    assert.equal(out.unmapped.cloudhsm.enrichment_hsm_present, 'false');
    assert.equal(out.unmapped.cloudhsm.enrichment_hsm_last_seen, '1970-01-01T00:00:00.005Z');
    assertValidOcsf(out);
  });

  it('uses the IPv6 ENI address when there is no IPv4 one, and the name falls back to the id', () => {
    const { name: _name, ...unnamed } = cluster({ tags: {} });
    const { eniIp: _ip, ...v6only } = hsm({ eniIpV6: '2600:1f18::25' });
    const snap = snapshot({ clusters: [unnamed], hsms: [v6only] });
    const out = enrichEvent(event({ seq: 6, opcode: 'CN_LOGIN', user: 'a' }), snap);
    const device = out.device as EnrichedDevice;
    assert.equal(device.ip, '2600:1f18::25');
    assert.deepEqual(device.groups, [
      { uid: CLUSTER_ID, name: CLUSTER_ID, type: 'CloudHSM Cluster' },
    ]);
    assertValidOcsf(out);
  });

  it('repeats no value of device or cloud under unmapped', () => {
    const leaves = (value: unknown): unknown[] =>
      typeof value === 'object' && value !== null ? Object.values(value).flatMap(leaves) : [value];
    const { eniIp: _v4, ...v6Only } = hsm({ eniIpV6: '2600:1f18::25' });
    for (const snap of [snapshot(), snapshot({ hsms: [v6Only] })]) {
      const out = enrichEvent(event({ seq: 0, opcode: 'CN_LOGIN', user: 'admin' }), snap);
      const placed = new Set([...leaves(out.device), ...leaves(out.cloud)]);
      for (const [key, value] of Object.entries(out.unmapped.cloudhsm)) {
        if (key.startsWith('enrichment_') && key !== 'enrichment_cluster_subnet_mapping') {
          assert.ok(
            !placed.has(value),
            `${key}: ${JSON.stringify(value)} is already in device/cloud`,
          );
        }
      }
    }
  });

  it('keeps the IPv6 address under unmapped when device.ip holds the IPv4 one', () => {
    const out = enrichEvent(
      event({ seq: 0, opcode: 'CN_LOGIN', user: 'admin' }),
      snapshot({ hsms: [hsm({ eniIpV6: '2600:1f18::25' })] }),
    );
    assert.equal((out.device as EnrichedDevice).ip, '10.0.1.25');
    assert.equal(out.unmapped.cloudhsm.enrichment_hsm_eni_ip_v6, '2600:1f18::25');
  });

  it('does not mutate its input and shares untouched parts', () => {
    const input = deepFreeze(event({ seq: 7, opcode: 'CN_CREATE_USER', user: 'bob' }));
    const copy = structuredClone(input);
    const out = enrichEvent(input, snapshot());
    assert.deepEqual(input, copy);
    assert.notEqual(out, input);
    assert.equal(out.user, input.user);
    assert.equal(out.observables, input.observables);
    assert.notEqual(out.metadata, input.metadata);
  });

  it('is idempotent and replaces a stale marker when re-enriched with better data', () => {
    const input = event({ seq: 8, opcode: 'CN_LOGIN', user: 'a' });
    const first = enrichEvent(input, emptySnapshot({ labels: { environment: 'prod' } }));
    assert.deepEqual(labelsOf(first), ['environment=prod', ENRICHMENT_NONE]);
    const second = enrichEvent(first, snapshot());
    assert.deepEqual(labelsOf(second), ['environment=prod', 'team=payments']);
    assert.deepEqual(enrichEvent(second, snapshot()), second);
  });

  it('enriches certificate-storage events (no device) with the cluster only', () => {
    const certstore = sampleNames().find((n) => n.includes('certstore'));
    assert.ok(certstore);
    const input = toOcsfEvent(sampleRecord(certstore), CONTEXT);
    const out = enrichEvent(input, snapshot());
    assert.equal(out.device, undefined);
    assert.deepEqual(labelsOf(out), ['environment=prod', 'team=payments']);
    // No device to hold them, so the cluster's name, type, VPC and tags stay under unmapped.
    assert.equal(out.unmapped.cloudhsm.enrichment_cluster_name, 'payments-prod');
    assert.equal(out.unmapped.cloudhsm.enrichment_cluster_hsm_type, 'hsm2m.medium');
    assert.equal(out.unmapped.cloudhsm.enrichment_cluster_vpc_id, 'vpc-0abc');
    assert.deepEqual(out.unmapped.cloudhsm.enrichment_cluster_tags, [
      { key: 'Name', value: 'payments-prod' },
      { key: 'costcenter', value: 'cc-42' },
    ]);
    assertValidOcsf(out);
  });

  it('keeps every sample and an integrity finding valid OCSF 1.1.0 after enrichment', () => {
    for (const name of sampleNames()) {
      const input = toOcsfEvent(sampleRecord(name), CONTEXT);
      for (const snap of [
        snapshot(),
        snapshot({ hsms: [] }),
        snapshot({ clusters: [] }),
        undefined,
      ]) {
        assertValidOcsf(enrichEvent(input, snap, { labels: { owner: 'sec' } }));
      }
    }
    const gapRecord = record({ seq: 9, opcode: 'CN_LOGIN', user: 'a' });
    const finding = findingToEvent(
      {
        kind: 'gap',
        streamKey: `${gapRecord.logGroup}:${gapRecord.logStream}`,
        rebootCounter: '0x107',
        sequence: '0x9',
        expected: '0x5',
        missing: '4',
      },
      gapRecord,
      CONTEXT,
    );
    assertValidOcsf(enrichEvent(finding, snapshot()));
  });
});
