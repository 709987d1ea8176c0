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
    const u = out.unmapped.cloudhsm;
    assert.equal(u.enrichment_status, 'full');
    assert.equal(u.enrichment_cluster_mode, 'FIPS');
    assert.equal(u.enrichment_cluster_state, 'ACTIVE');
    assert.equal(u.enrichment_cluster_name, 'payments-prod');
    assert.equal(u.enrichment_hsm_type, 'hsm2m.medium');
    assert.equal(u.enrichment_hsm_eni_ip, '10.0.1.25');
    assert.equal(u.enrichment_hsm_present, 'true');
    assert.deepEqual(u.enrichment_cluster_tags, [
      { key: 'Name', value: 'payments-prod' },
      { key: 'costcenter', value: 'cc-42' },
    ]);
    // Source fields are untouched.
    assert.equal(u.user_name, 'admin');
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
    assert.equal(out.unmapped.cloudhsm.enrichment_status, 'partial');
    assert.equal(out.unmapped.cloudhsm.enrichment_hsm_id, undefined);
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
    assert.equal(out.unmapped.cloudhsm.enrichment_cluster_name, 'payments-prod');
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
