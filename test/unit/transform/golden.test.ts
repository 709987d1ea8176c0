// Golden-file tests: every published AWS sample → full OCSF event, pinned in test/fixtures/golden.
// Regenerate with UPDATE_GOLDEN=1 after an intended mapping change, then review the diff.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parseRecord } from '../../../src/transform/parse.js';
import { normalize, toOcsfEvent } from '../../../src/transform/normalize.js';
import type { OcsfEvent } from '../../../src/transform/normalize.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { CONTEXT, GOLDEN_DIR, sampleNames, sampleRecord } from './fixtures.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Expectation {
  classUid: number;
  activityId: number;
  statusId: 1 | 2;
  statusCode: string;
  statusDetail?: string;
  user?: { name: string; typeId: number; type: string };
  entityUid?: string;
  entityData?: Record<string, string>;
  sequence?: number;
  rebootCounter?: string;
  time: number;
}

const EXPECTED: Record<string, Expectation> = {
  'aws-doc-certstore-create-object-failed.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 2,
    statusCode: 'MaxObjectsReached',
    time: 1726084937125,
  },
  'aws-doc-certstore-create-object.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 1,
    statusCode: 'OK',
    entityUid: '463180677312929947',
    time: 1725482483671,
  },
  'aws-doc-create-user-cu.txt': {
    classUid: 3001,
    activityId: 1,
    statusId: 1,
    statusCode: '0',
    user: { name: 'bob', typeId: 1, type: 'User' },
    sequence: 1,
    rebootCounter: '0x107',
    time: 1516067379437,
  },
  'aws-doc-destroy-object-private-key.txt': {
    classUid: 3004,
    activityId: 4,
    statusId: 1,
    statusCode: '0',
    entityUid: '131079',
    entityData: { key_handle: '131079' },
    sequence: 0x2b,
    rebootCounter: '0xe8',
    time: 1513206544815,
  },
  'aws-doc-export-wrap-key.txt': {
    classUid: 3004,
    activityId: 2,
    statusId: 1,
    statusCode: '0',
    entityUid: '7',
    entityData: { key_handle: '7' },
    sequence: 0x27,
    rebootCounter: '0x107',
    time: 1516823472860,
  },
  'aws-doc-gen-pswd-enc-key.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 1,
    statusCode: '0',
    sequence: 1,
    rebootCounter: '0xe8',
    time: 1513717277140,
  },
  'aws-doc-generate-key-pair.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 1,
    statusCode: '0',
    entityUid: '131079',
    entityData: { key_handle: '131079', public_key_handle: '131078' },
    sequence: 0x29,
    rebootCounter: '0xe8',
    time: 1513206544761,
  },
  'aws-doc-generate-key.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 1,
    statusCode: '0',
    entityUid: '262152',
    entityData: { key_handle: '262152' },
    sequence: 1,
    rebootCounter: '0x107',
    time: 1516754370328,
  },
  'aws-doc-login-co-admin.txt': {
    classUid: 3002,
    activityId: 1,
    statusId: 1,
    statusCode: '0',
    user: { name: 'admin', typeId: 2, type: 'Admin' },
    sequence: 0,
    rebootCounter: '0x107',
    time: 1516067329824,
  },
  'aws-doc-login-fail-bad-password.txt': {
    classUid: 3002,
    activityId: 1,
    statusId: 2,
    statusCode: '163',
    statusDetail: 'RET_USER_LOGIN_FAILURE',
    user: { name: 'testuser', typeId: 1, type: 'User' },
    sequence: 5,
    rebootCounter: '0x107',
    time: 1516815865013,
  },
  'aws-doc-logout-co-admin.txt': {
    classUid: 3002,
    activityId: 2,
    statusId: 1,
    statusCode: '0',
    user: { name: 'admin', typeId: 2, type: 'Admin' },
    sequence: 2,
    rebootCounter: '0x107',
    time: 1516067395993,
  },
  'aws-doc-share-object.txt': {
    classUid: 3004,
    activityId: 3,
    statusId: 1,
    statusCode: '0',
    sequence: 0x3f,
    rebootCounter: '0x38',
    time: 1549654539480,
  },
};

function golden(name: string, event: OcsfEvent): void {
  const file = join(GOLDEN_DIR, name.replace(/\.txt$/, '.json'));
  const text = `${JSON.stringify(event, null, 2)}\n`;
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) assert.fail(`missing golden file ${file}; run with UPDATE_GOLDEN=1`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.deepEqual(JSON.parse(text), JSON.parse(readFileSync(file, 'utf8')));
}

describe('golden samples', () => {
  it('has an expectation for every sample and a sample for every expectation', () => {
    assert.deepEqual(sampleNames(), Object.keys(EXPECTED).sort());
  });

  for (const name of sampleNames()) {
    it(`normalizes ${name}`, () => {
      const record = sampleRecord(name);
      const event = toOcsfEvent(record, CONTEXT);
      assertValidOcsf(event);
      golden(name, event);

      const want = EXPECTED[name];
      assert.ok(want, `no expectation for ${name}`);
      assert.equal(event.class_uid, want.classUid);
      assert.equal(event.activity_id, want.activityId);
      assert.equal(event.type_uid, want.classUid * 100 + want.activityId);
      assert.equal(event.status_id, want.statusId);
      assert.equal(event.status, want.statusId === 1 ? 'Success' : 'Failure');
      assert.equal(event.status_code, want.statusCode);
      if (want.statusDetail !== undefined) assert.equal(event.status_detail, want.statusDetail);
      assert.equal(event.severity_id, want.statusId === 2 ? 2 : event.severity_id);
      assert.equal(event.time, want.time);
      assert.equal(event.raw_data, record.message);
      if (want.user) {
        assert.equal(event.user?.name, want.user.name);
        assert.equal(event.user.type_id, want.user.typeId);
        assert.equal(event.user.type, want.user.type);
      } else {
        assert.equal(event.user, undefined);
      }
      if (want.entityUid !== undefined) assert.equal(event.entity?.uid, want.entityUid);
      if (want.entityData !== undefined) assert.deepEqual(event.entity?.data, want.entityData);
      assert.equal(event.metadata.sequence, want.sequence);
      if (want.rebootCounter !== undefined) {
        assert.equal(event.unmapped.cloudhsm.reboot_counter, want.rebootCounter);
        const seqHex = event.unmapped.cloudhsm.sequence_no;
        assert.equal(
          event.metadata.uid,
          `${record.logStream}:${want.rebootCounter}:${seqHex as string}`,
        );
        assert.deepEqual(event.metadata.profiles, ['cloud', 'host']);
        assert.equal(event.device?.uid, record.logStream);
        assert.equal(event.device.groups[0]?.uid, 'cluster-likphkxygsn');
      } else {
        assert.match(event.metadata.uid, /^cluster-likphkxygsn:[0-9a-f]{32}$/);
        assert.deepEqual(event.metadata.profiles, ['cloud']);
        assert.equal(event.device, undefined);
      }
      // normalize(parse) and toOcsfEvent agree, and the output is deterministic.
      assert.deepEqual(normalize(record, parseRecord(record.message), CONTEXT), event);
    });
  }

  it('keeps the 64-bit certificate handle exact, also in the serialized JSON', () => {
    const event = toOcsfEvent(sampleRecord('aws-doc-certstore-create-object.txt'), CONTEXT);
    const json = JSON.stringify(event);
    assert.ok(json.includes('"uid":"463180677312929947"'));
    assert.equal(event.unmapped.cloudhsm.object_handle, '463180677312929947');
  });

  it('matches the failed-login example of ocsf-mapping.md §7.6 field by field', () => {
    const event = toOcsfEvent(sampleRecord('aws-doc-login-fail-bad-password.txt'), CONTEXT);
    assert.equal(
      event.message,
      'CN_LOGIN by testuser (CU) on hsm-abcde123456: RET_USER_LOGIN_FAILURE',
    );
    assert.equal(event.severity, 'Low');
    assert.deepEqual(event.session, { uid: '0xc008002' });
    assert.deepEqual(event.dst_endpoint, { uid: 'hsm-abcde123456', name: 'hsm-abcde123456' });
    assert.deepEqual(event.service, { name: 'AWS CloudHSM', uid: 'cluster-likphkxygsn' });
    assert.equal(event.metadata.uid, 'hsm-abcde123456:0x107:0x5');
    assert.equal(event.metadata.original_time, '01/24/18 17:44:25.013218');
    assert.equal(event.metadata.logged_time, 1737000000500);
    assert.deepEqual(event.cloud, {
      provider: 'AWS',
      region: 'us-east-1',
      account: { uid: '111122223333', type_id: 10, type: 'AWS Account' },
    });
    assert.deepEqual(event.observables, [
      { name: 'device.uid', type_id: 10, type: 'Resource UID', value: 'hsm-abcde123456' },
      { name: 'user.name', type_id: 4, type: 'User Name', value: 'testuser' },
    ]);
  });
});
