// Golden-file tests: every published AWS sample → full OCSF event, pinned in test/fixtures/golden.
// Regenerate with UPDATE_GOLDEN=1 after an intended mapping change, then review the diff.
// The golden files are written by the code, so they only catch changes; the EXPECTED table is
// written by hand from the samples and docs/ocsf-mapping.md (classes, severities, unmapped)
// and is what says the output is right.
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
  severityId: number;
  uid: string;
  /** The whole of `unmapped.cloudhsm`. */
  unmapped: Record<string, unknown>;
}

const CW_FIELDS = { cloudwatch_timestamp: '1737000000000' };

/** `unmapped.cloudhsm` of an HSM sample: what OCSF has no place for, in the emitted key order. */
function hsmUnmapped(
  name: string,
  usecs: string,
  reboot: string,
  opcode: string,
  logType: string,
  rest: Record<string, string> = {},
): Record<string, unknown> {
  return {
    time_usecs: usecs,
    reboot_counter: reboot,
    command_type: 'CN_MGMT_CMD (0x0)',
    opcode,
    log_type: logType,
    ...rest,
    ...CW_FIELDS,
    cloudwatch_event_id: `evt-${name}`,
  };
}

const USER_LOG = 'MGMT_USER_DETAILS_LOG (2)';
const KEY_LOG = 'MGMT_KEY_DETAILS_LOG (1)';

const EXPECTED: Record<string, Expectation> = {
  'aws-doc-certstore-create-object-failed.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 2,
    statusCode: 'MaxObjectsReached',
    time: 1726084937125,
    severityId: 2,
    uid: 'cluster-likphkxygsn:a441910b3c5293e91eb336f03fd16524',
    unmapped: {
      log_stream: 'cluster-likphkxygsn',
      object_handle: null,
      attributes: null,
      ...CW_FIELDS,
      cloudwatch_event_id: 'evt-aws-doc-certstore-create-object-failed',
    },
  },
  'aws-doc-certstore-create-object.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 1,
    statusCode: 'OK',
    entityUid: '463180677312929947',
    time: 1725482483671,
    severityId: 1,
    uid: 'cluster-likphkxygsn:3e2f11901105f7c82a6b7731862b4445',
    unmapped: {
      log_stream: 'cluster-likphkxygsn',
      attributes: null,
      ...CW_FIELDS,
      cloudwatch_event_id: 'evt-aws-doc-certstore-create-object',
    },
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
    severityId: 3,
    uid: 'hsm-abcde123456:0x107:0x1',
    unmapped: hsmUnmapped(
      'aws-doc-create-user-cu',
      '1516067379437708',
      '0x107',
      'CN_CREATE_USER (0x3)',
      USER_LOG,
      {
        user_type: 'CN_CRYPTO_USER (1)',
      },
    ),
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
    severityId: 1,
    uid: 'hsm-abcde123456:0xe8:0x2b',
    unmapped: hsmUnmapped(
      'aws-doc-destroy-object-private-key',
      '1513206544815530',
      '0xe8',
      'CN_DESTROY_OBJECT (0x11)',
      KEY_LOG,
      {
        public_key_handle: '0',
      },
    ),
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
    severityId: 2,
    uid: 'hsm-abcde123456:0x107:0x27',
    unmapped: hsmUnmapped(
      'aws-doc-export-wrap-key',
      '1516823472860123',
      '0x107',
      'CN_WRAP_KEY (0x1a)',
      KEY_LOG,
      {
        public_key_handle: '0',
      },
    ),
  },
  'aws-doc-gen-pswd-enc-key.txt': {
    classUid: 3004,
    activityId: 1,
    statusId: 1,
    statusCode: '0',
    sequence: 1,
    rebootCounter: '0xe8',
    time: 1513717277140,
    severityId: 1,
    uid: 'hsm-abcde123456:0xe8:0x1',
    unmapped: hsmUnmapped(
      'aws-doc-gen-pswd-enc-key',
      '1513717277140812',
      '0xe8',
      'CN_GEN_PSWD_ENC_KEY (0x1d)',
      'MINIMAL_LOG_ENTRY (0)',
    ),
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
    severityId: 1,
    uid: 'hsm-abcde123456:0xe8:0x29',
    unmapped: hsmUnmapped(
      'aws-doc-generate-key-pair',
      '1513206544761594',
      '0xe8',
      'CN_GENERATE_KEY_PAIR (0x19)',
      KEY_LOG,
    ),
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
    severityId: 1,
    uid: 'hsm-abcde123456:0x107:0x1',
    unmapped: hsmUnmapped(
      'aws-doc-generate-key',
      '1516754370328334',
      '0x107',
      'CN_GENERATE_KEY (0x17)',
      KEY_LOG,
      {
        public_key_handle: '0',
      },
    ),
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
    severityId: 1,
    uid: 'hsm-abcde123456:0x107:0x0',
    unmapped: hsmUnmapped(
      'aws-doc-login-co-admin',
      '1516067329824999',
      '0x107',
      'CN_LOGIN (0xd)',
      USER_LOG,
      {
        user_type: 'CN_CRYPTO_OFFICER (2)',
      },
    ),
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
    severityId: 2,
    uid: 'hsm-abcde123456:0x107:0x5',
    unmapped: hsmUnmapped(
      'aws-doc-login-fail-bad-password',
      '1516815865013218',
      '0x107',
      'CN_LOGIN (0xd)',
      USER_LOG,
      {
        user_type: 'CN_CRYPTO_USER (1)',
      },
    ),
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
    severityId: 1,
    uid: 'hsm-abcde123456:0x107:0x2',
    unmapped: hsmUnmapped(
      'aws-doc-logout-co-admin',
      '1516067395993404',
      '0x107',
      'CN_LOGOUT (0xe)',
      USER_LOG,
      {
        user_type: 'CN_CRYPTO_OFFICER (2)',
      },
    ),
  },
  'aws-doc-share-object.txt': {
    classUid: 3004,
    activityId: 3,
    statusId: 1,
    statusCode: '0',
    sequence: 0x3f,
    rebootCounter: '0x38',
    time: 1549654539480,
    severityId: 1,
    uid: 'hsm-abcde123456:0x38:0x3f',
    unmapped: hsmUnmapped(
      'aws-doc-share-object',
      '1549654539480168',
      '0x38',
      'CN_SHARE_OBJECT (0x12)',
      'UNKNOWN_LOG_TYPE (5)',
    ),
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

      const want = EXPECTED[name];
      assert.ok(want, `no expectation for ${name}`);
      assert.equal(event.class_uid, want.classUid);
      assert.equal(event.activity_id, want.activityId);
      assert.equal(event.type_uid, want.classUid * 100 + want.activityId);
      assert.equal(event.status_id, want.statusId);
      assert.equal(event.status, want.statusId === 1 ? 'Success' : 'Failure');
      assert.equal(event.status_code, want.statusCode);
      if (want.statusDetail !== undefined) assert.equal(event.status_detail, want.statusDetail);
      assert.equal(event.severity_id, want.severityId);
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
      assert.equal(event.metadata.uid, want.uid);
      assert.deepEqual(event.unmapped.cloudhsm, want.unmapped);
      if (want.rebootCounter !== undefined) {
        assert.deepEqual(event.metadata.profiles, ['cloud', 'host']);
        assert.equal(event.device?.uid, record.logStream);
        assert.equal(event.device.groups[0]?.uid, 'cluster-likphkxygsn');
      } else {
        assert.deepEqual(event.metadata.profiles, ['cloud']);
        assert.equal(event.device, undefined);
      }
      // normalize(parse) and toOcsfEvent agree, and the output is deterministic.
      assert.deepEqual(normalize(record, parseRecord(record.message), CONTEXT), event);
      // Last: the hand-written expectations above say why a golden diff is wrong or right.
      golden(name, event);
    });
  }

  it('keeps the 64-bit certificate handle exact, also in the serialized JSON', () => {
    const event = toOcsfEvent(sampleRecord('aws-doc-certstore-create-object.txt'), CONTEXT);
    const json = JSON.stringify(event);
    assert.ok(json.includes('"uid":"463180677312929947"'));
    assert.equal(event.entity?.uid, '463180677312929947');
  });

  it('matches the hand-written failed-login example field by field', () => {
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
