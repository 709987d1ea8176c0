import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  assertValidOcsf,
  ocsfSchemaIndex,
  validateOcsfEvent,
} from '../../helpers/ocsf-validator.js';

// Example events, one per class, written out in full by hand.
const product = { name: 'CloudHSM', vendor_name: 'AWS', feature: { name: 'HSM audit log' } };
const cloud = {
  provider: 'AWS',
  region: 'us-east-1',
  account: { uid: '111122223333', type_id: 10, type: 'AWS Account' },
};
const device = {
  type_id: 99,
  type: 'HSM',
  uid: 'hsm-abcde123456',
  name: 'hsm-abcde123456',
  region: 'us-east-1',
  groups: [{ uid: 'cluster-likphkxygsn', name: 'cluster-likphkxygsn', type: 'CloudHSM Cluster' }],
};

const failedLogin = {
  class_uid: 3002,
  class_name: 'Authentication',
  category_uid: 3,
  category_name: 'Identity & Access Management',
  activity_id: 1,
  activity_name: 'Logon',
  type_uid: 300201,
  type_name: 'Authentication: Logon',
  time: 1516815865013,
  timezone_offset: 0,
  severity_id: 2,
  severity: 'Low',
  status_id: 2,
  status: 'Failure',
  status_code: '163',
  status_detail: 'RET_USER_LOGIN_FAILURE',
  message: 'CN_LOGIN by testuser (CU) on hsm-abcde123456: RET_USER_LOGIN_FAILURE',
  metadata: {
    version: '1.1.0',
    product,
    profiles: ['cloud', 'host'],
    uid: 'hsm-abcde123456:0x107:0x5',
    event_code: 'CN_LOGIN',
    sequence: 5,
    original_time: '01/24/18 17:44:25.013218',
    logged_time: 1516815866513,
    log_name: '/aws/cloudhsm/cluster-likphkxygsn',
    log_provider: 'AWS CloudHSM',
  },
  cloud,
  device,
  user: { name: 'testuser', type_id: 1, type: 'User' },
  session: { uid: '0xc008002' },
  dst_endpoint: { uid: 'hsm-abcde123456', name: 'hsm-abcde123456' },
  service: { name: 'AWS CloudHSM', uid: 'cluster-likphkxygsn' },
  is_remote: true,
  observables: [
    { name: 'device.uid', type_id: 10, type: 'Resource UID', value: 'hsm-abcde123456' },
    { name: 'user.name', type_id: 4, type: 'User Name', value: 'testuser' },
  ],
  raw_data:
    'Time: 01/24/18 17:44:25.013218, usecs:1516815865013218\nSequence No : 0x5\nReboot counter : 0x107',
  unmapped: {
    cloudhsm: {
      cluster_id: 'cluster-likphkxygsn',
      hsm_id: 'hsm-abcde123456',
      sequence_no: '0x5',
      reboot_counter: '0x107',
      command_type: 'CN_MGMT_CMD (0x0)',
      opcode: 'CN_LOGIN (0xd)',
      session_handle: '0xc008002',
      response: '163:HSM Error: RET_USER_LOGIN_FAILURE',
      log_type: 'MGMT_USER_DETAILS_LOG (2)',
      time_usecs: 1516815865013218,
      user_name: 'testuser',
      user_type: 'CN_CRYPTO_USER (1)',
    },
  },
};

const keyPairGeneration = {
  class_uid: 3004,
  class_name: 'Entity Management',
  category_uid: 3,
  category_name: 'Identity & Access Management',
  activity_id: 1,
  activity_name: 'Create',
  type_uid: 300401,
  type_name: 'Entity Management: Create',
  time: 1513206544761,
  timezone_offset: 0,
  severity_id: 1,
  severity: 'Informational',
  status_id: 1,
  status: 'Success',
  status_code: '0',
  status_detail: 'SUCCESS',
  message: 'CN_GENERATE_KEY_PAIR on hsm-abcde123456: SUCCESS',
  metadata: {
    version: '1.1.0',
    product,
    profiles: ['cloud', 'host'],
    uid: 'hsm-abcde123456:0xe8:0x29',
    event_code: 'CN_GENERATE_KEY_PAIR',
    sequence: 41,
    original_time: '12/13/17 23:09:04.761594',
    log_name: '/aws/cloudhsm/cluster-likphkxygsn',
    log_provider: 'AWS CloudHSM',
  },
  cloud,
  device,
  actor: { session: { uid: '0x2014004' } },
  entity: {
    uid: '131079',
    name: 'key handle 131079',
    type: 'Key',
    data: { key_handle: 131079, public_key_handle: 131078 },
  },
  observables: [
    { name: 'device.uid', type_id: 10, type: 'Resource UID', value: 'hsm-abcde123456' },
  ],
  raw_data: 'Time: 12/13/17 23:09:04.761594, usecs:1513206544761594\nSequence No : 0x29',
  unmapped: {
    cloudhsm: {
      opcode: 'CN_GENERATE_KEY_PAIR (0x19)',
      key_handle: '131079',
      public_key_handle: '131078',
    },
  },
};

const certificateStorageFailure = {
  class_uid: 3004,
  class_name: 'Entity Management',
  category_uid: 3,
  category_name: 'Identity & Access Management',
  activity_id: 1,
  activity_name: 'Create',
  type_uid: 300401,
  type_name: 'Entity Management: Create',
  time: 1726084937125,
  timezone_offset: 0,
  severity_id: 2,
  severity: 'Low',
  status_id: 2,
  status: 'Failure',
  status_code: 'MaxObjectsReached',
  message: 'CreateObject on cluster-likphkxygsn: MaxObjectsReached',
  metadata: {
    version: '1.1.0',
    product: { ...product, feature: { name: 'Certificate storage audit log' } },
    profiles: ['cloud'],
    uid: 'cluster-likphkxygsn:cert:1726084937125:0',
    event_code: 'CreateObject',
    log_name: '/aws/cloudhsm/cluster-likphkxygsn',
    log_provider: 'AWS CloudHSM',
  },
  cloud,
  entity: { type: 'Certificate', name: 'certificate object' },
  raw_data: '{"operation":"CreateObject","response":"MaxObjectsReached","object_handle":null}',
  unmapped: { cloudhsm: { opcode: 'CreateObject', response: 'MaxObjectsReached' } },
};

const createUser = {
  class_uid: 3001,
  class_name: 'Account Change',
  category_uid: 3,
  category_name: 'Identity & Access Management',
  activity_id: 1,
  activity_name: 'Create',
  type_uid: 300101,
  type_name: 'Account Change: Create',
  time: 1513206544761,
  timezone_offset: 0,
  severity_id: 3,
  severity: 'Medium',
  status_id: 1,
  status: 'Success',
  status_code: '0',
  status_detail: 'SUCCESS',
  message: 'CN_CREATE_USER app_user (CU) on hsm-abcde123456: SUCCESS',
  metadata: {
    version: '1.1.0',
    product,
    profiles: ['cloud', 'host'],
    uid: 'hsm-abcde123456:0xe8:0x2a',
    event_code: 'CN_CREATE_USER',
    sequence: 42,
    labels: ['actor:inferred'],
  },
  cloud,
  device,
  user: { name: 'app_user', type_id: 1, type: 'User' },
  actor: { session: { uid: '0x2014004' }, user: { name: 'admin', type_id: 2, type: 'Admin' } },
  observables: [
    { name: 'device.uid', type_id: 10, type: 'Resource UID', value: 'hsm-abcde123456' },
    { name: 'user.name', type_id: 4, type: 'User Name', value: 'app_user' },
    { name: 'actor.user.name', type_id: 4, type: 'User Name', value: 'admin' },
  ],
  raw_data: 'Opcode : CN_CREATE_USER (0x3)',
  unmapped: { cloudhsm: { opcode: 'CN_CREATE_USER (0x3)', user_name: 'app_user' } },
};

const sequenceGapFinding = {
  class_uid: 2004,
  class_name: 'Detection Finding',
  category_uid: 2,
  category_name: 'Findings',
  activity_id: 1,
  activity_name: 'Create',
  type_uid: 200401,
  type_name: 'Detection Finding: Create',
  time: 1516815870000,
  severity_id: 4,
  severity: 'High',
  status_id: 1,
  status: 'New',
  message: 'Sequence gap on hsm-abcde123456 (reboot 0x107): 0x6..0x8 missing',
  metadata: {
    version: '1.1.0',
    product: { name: 'cloudhsm-audit-forwarder', vendor_name: 'cloudhsm-audit-forwarder' },
    profiles: ['cloud', 'host'],
    uid: 'gap:hsm-abcde123456:0x107:0x6',
  },
  cloud,
  device,
  finding_info: {
    uid: 'gap:hsm-abcde123456:0x107:0x6',
    title: 'CloudHSM audit log sequence gap',
    types: ['Audit Trail Integrity'],
  },
  observables: [
    { name: 'device.uid', type_id: 10, type: 'Resource UID', value: 'hsm-abcde123456' },
  ],
  unmapped: { cloudhsm: { first_missing: '0x6', last_missing: '0x8' } },
};

type Event = Record<string, unknown>;
const clone = <T>(e: T): T & Event => structuredClone(e) as T & Event;

describe('validateOcsfEvent: hand-written examples are valid', () => {
  const examples: [string, unknown][] = [
    ['failed login (3002)', failedLogin],
    ['key pair generation (3004)', keyPairGeneration],
    ['certificate-storage failure (3004, cloud only)', certificateStorageFailure],
    ['CN_CREATE_USER (3001)', createUser],
    ['sequence-gap Detection Finding (2004)', sequenceGapFinding],
  ];
  for (const [name, event] of examples) {
    it(name, () => {
      assert.deepEqual(validateOcsfEvent(event), []);
      assertValidOcsf(event);
    });
  }

  it('accepts a source-specific activity_name and type_name for activity 99', () => {
    const e = clone(keyPairGeneration);
    Object.assign(e, { activity_id: 99, activity_name: 'Use', type_uid: 300499 });
    e.type_name = 'Entity Management: Use';
    assert.deepEqual(validateOcsfEvent(e), []);
  });
});

describe('validateOcsfEvent: invalid events', () => {
  const expectProblem = (event: unknown, expected: string) => {
    const problems = validateOcsfEvent(event);
    assert.ok(
      problems.includes(expected),
      `expected ${JSON.stringify(expected)} in:\n  ${problems.join('\n  ')}`,
    );
  };

  it('missing required user', () => {
    const { user: _user, ...e } = clone(failedLogin);
    expectProblem(e, "/: must have required property 'user'");
  });

  it('user without name, uid or account', () => {
    const e = clone(failedLogin);
    Object.assign(e, { user: { type_id: 1, type: 'User' } });
    expectProblem(e, "/user: must have at least one of 'account', 'name', 'uid'");
  });

  it('device with only the cloud profile declared', () => {
    const { actor: _actor, ...e } = clone(keyPairGeneration);
    e.metadata.profiles = ['cloud'];
    expectProblem(e, "/: must NOT have additional property 'device'");
  });

  it('status_id 5 is not in the enum', () => {
    const e = clone(failedLogin);
    e.status_id = 5;
    expectProblem(e, '/status_id: must be one of 0, 1, 2, 99 (got 5)');
  });

  it('type_uid of another activity of the same class', () => {
    const e = clone(failedLogin);
    e.type_uid = 300202;
    assert.deepEqual(validateOcsfEvent(e), [
      '/type_uid: must be 300201 (class_uid 3002 * 100 + activity_id 1), got 300202',
    ]);
  });

  it('activity_name that is not the caption', () => {
    const e = clone(failedLogin);
    e.activity_name = 'Login';
    expectProblem(e, '/activity_name: must be "Logon" for activity_id 1 (got "Login")');
  });

  it('type_name, severity and nested type captions', () => {
    const e = clone(createUser);
    e.type_name = 'Account Change: Logon';
    e.severity = 'High';
    e.user.type = 'Admin';
    e.cloud.account.type = 'AWS account';
    const problems = validateOcsfEvent(e);
    for (const expected of [
      '/type_name: must be "Account Change: Create" (got "Account Change: Logon")',
      '/severity: must be "Medium" for severity_id 3 (got "High")',
      '/user/type: must be "User" for type_id 1 (got "Admin")',
      '/cloud/account/type: must be "AWS Account" for type_id 10 (got "AWS account")',
    ]) {
      assert.ok(problems.includes(expected), `missing ${expected} in ${problems.join('; ')}`);
    }
  });

  it('unknown top-level event object (ECS leak)', () => {
    const e = clone(failedLogin);
    e.event = { outcome: 'failure' };
    expectProblem(e, "/: must NOT have additional property 'event'");
  });

  it('Authentication without service or dst_endpoint', () => {
    const { service: _service, dst_endpoint: _dst, ...e } = clone(failedLogin);
    expectProblem(e, "/: must have at least one of 'service', 'dst_endpoint'");
  });

  it('observable name that is not an attribute path', () => {
    const e = clone(failedLogin);
    e.observables.push({ name: 'device.serial', type_id: 10, type: 'Resource UID', value: 'x' });
    expectProblem(
      e,
      '/observables/2/name: "device.serial" is not an attribute path of authentication with profiles [cloud, host]',
    );
  });

  it('project rules: version, profiles, time, raw_data, metadata.uid', () => {
    const e = clone(failedLogin);
    e.metadata.version = '1.8.0';
    e.metadata.uid = '';
    e.time = 1516815865; // seconds, not milliseconds
    Object.assign(e, { raw_data: 42 });
    const problems = validateOcsfEvent(e);
    for (const expected of [
      '/metadata/version: must be "1.1.0" (got "1.8.0")',
      '/metadata/uid: must be a non-empty string',
      '/time: must be an integer number of milliseconds since the epoch',
      '/raw_data: must be a string when present',
    ]) {
      assert.ok(problems.includes(expected), `missing ${expected} in ${problems.join('; ')}`);
    }
  });

  it('unknown or uncompiled profile sets', () => {
    const e = clone(failedLogin);
    e.metadata.profiles = ['cloud', 'hots'];
    const problems = validateOcsfEvent(e);
    assert.equal(problems[0], '/metadata/profiles: unknown profile "hots"');
    assert.match(problems[1] ?? '', /^\/class_uid: no compiled schema for class_uid 3002/);
  });

  it('assertValidOcsf throws an AssertionError listing all problems', () => {
    const { user: _user, ...e } = clone(failedLogin);
    e.status_id = 5;
    assert.throws(
      () => assertValidOcsf(e),
      (err: unknown) =>
        err instanceof assert.AssertionError &&
        err.message.includes("/: must have required property 'user'") &&
        err.message.includes('/status_id: must be one of'),
    );
  });
});

describe('compiled schemas', () => {
  it('index.json lists every expected class and profile set', () => {
    const index = ocsfSchemaIndex();
    assert.equal(index.ocsf_version, '1.1.0');
    const compiled = index.classes.map((c) => `${c.class_uid}:${c.profiles.join(',')}`).sort();
    assert.deepEqual(compiled, [
      '2004:cloud',
      '2004:cloud,host',
      '3001:cloud',
      '3001:cloud,host',
      '3002:cloud',
      '3002:cloud,host',
      '3004:cloud',
      '3004:cloud,host',
    ]);
    const auth = index.classes.find((c) => c.class_uid === 3002);
    assert.equal(auth?.activities['1'], 'Logon');
  });
});
