import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { toOcsfEvent } from '../../../src/transform/normalize.js';
import { parseRecord } from '../../../src/transform/parse.js';
import type { HsmRecord, ParsedRecord } from '../../../src/transform/parsed-record.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { CONTEXT, hsmRecord, readSample, textRecord } from './fixtures.js';

const TIME = '01/24/18 17:44:25.013218, usecs:1516815865013218';

const LOGIN: ReadonlyArray<readonly [string, string]> = [
  ['Time', TIME],
  ['Sequence No', '0x5'],
  ['Reboot counter', '0x107'],
  ['Command Type(hex)', 'CN_MGMT_CMD (0x0)'],
  ['Opcode', 'CN_LOGIN (0xd)'],
  ['Session Handle', '0xc008002'],
  ['Response', '163:HSM Error: RET_USER_LOGIN_FAILURE'],
  ['Log type', 'MGMT_USER_DETAILS_LOG (2)'],
  ['User Name', 'testuser'],
  ['User Type', 'CN_CRYPTO_USER (1)'],
];

function hsm(parsed: ParsedRecord): HsmRecord {
  assert.equal(parsed.kind, 'hsm', parsed.kind === 'unparseable' ? parsed.error : '');
  return parsed;
}

/** Node 20 lacks assert.partialDeepStrictEqual: compare only the keys `want` names. */
function assertSubset(actual: unknown, want: object): void {
  assert.ok(actual !== null && typeof actual === 'object', 'expected an object');
  const picked = Object.fromEntries(
    Object.keys(want).map((k) => [k, (actual as Record<string, unknown>)[k]]),
  );
  assert.deepEqual(picked, want);
}

function valid(message: string): void {
  assertValidOcsf(toOcsfEvent(hsmRecord(message), CONTEXT));
}

describe('parseRecord: text records', () => {
  for (const sep of [' : ', ': ', '\t: ', ':', ' \t :  ']) {
    it(`accepts the separator ${JSON.stringify(sep)}`, () => {
      const message = textRecord(LOGIN, sep);
      const r = hsm(parseRecord(message));
      assert.equal(r.sequenceNo?.text, '0x5');
      assert.equal(r.sequenceNo.value, 5n);
      assert.equal(r.rebootCounter?.text, '0x107');
      assert.deepEqual(r.opcode, { name: 'CN_LOGIN', code: '0xd' });
      assert.equal(r.values.user_name, 'testuser');
      assert.deepEqual(r.userType, { name: 'CN_CRYPTO_USER', code: '1' });
      assert.deepEqual(r.time, {
        text: '01/24/18 17:44:25.013218',
        usecs: '1516815865013218',
        ms: 1516815865013,
      });
      assert.deepEqual(r.warnings, []);
      valid(message);
    });
  }

  it('tolerates CRLF line ends, blank lines and trailing whitespace', () => {
    const message = `${textRecord(LOGIN).split('\n').join('  \r\n\r\n')}\r\n`;
    const r = hsm(parseRecord(message));
    assert.equal(r.values.user_type, 'CN_CRYPTO_USER (1)');
    // Every line but `Time` is a known key, each read once: none lost to the blank lines.
    assert.equal(Object.values(r.values).filter((v) => v !== undefined).length, LOGIN.length - 1);
    assert.deepEqual(r.extraFields, []);
    assert.deepEqual(r.warnings, []);
    assert.equal(toOcsfEvent(hsmRecord(message), CONTEXT).raw_data, message);
  });

  it('matches keys by name, in any order and any case', () => {
    const reordered = [...LOGIN]
      .reverse()
      .map(([k, v]): [string, string] => [k === 'Time' ? k : k.toUpperCase(), v]);
    const r = hsm(parseRecord(textRecord(reordered)));
    assert.equal(r.sequenceNo?.value, 5n);
    assert.equal(r.opcode?.name, 'CN_LOGIN');
    assert.equal(r.response?.code, '163');
    assert.equal(r.values.user_type, 'CN_CRYPTO_USER (1)');
    assert.deepEqual(r.extraFields, []);
  });

  it('keeps repeated and unknown keys, in order', () => {
    const message = textRecord([
      ...LOGIN,
      ['Firmware Build', '3.4.1'],
      ['User Name', 'second'],
      ['Odd Key', 'a: b: c'],
    ]);
    const r = hsm(parseRecord(message));
    assert.equal(r.values.user_name, 'testuser');
    assert.deepEqual(r.extraFields, [
      { key: 'Firmware Build', value: '3.4.1' },
      { key: 'User Name', value: 'second' },
      { key: 'Odd Key', value: 'a: b: c' },
    ]);
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.deepEqual(event.unmapped.cloudhsm.extra_fields, r.extraFields);
  });

  it('splits NAME (code) with and without a code', () => {
    const message = textRecord([
      ...LOGIN.filter(([k]) => k !== 'Log type'),
      ['Log type', 'GENERIC_LOG'],
    ]);
    const r = hsm(parseRecord(message));
    assert.deepEqual(r.logType, { name: 'GENERIC_LOG' });
    assert.deepEqual(r.commandType, { name: 'CN_MGMT_CMD', code: '0x0' });
  });

  it('parses the Response variants', () => {
    const cases: Array<[string, object]> = [
      ['0:HSM Return: SUCCESS', { code: '0', kind: 'Return', text: 'SUCCESS', success: true }],
      ['0: HSM Return: SUCCESS', { code: '0', kind: 'Return', text: 'SUCCESS', success: true }],
      [
        "157:HSM Error: user isn't initialized or user with this name doesn't exist",
        {
          code: '157',
          kind: 'Error',
          text: "user isn't initialized or user with this name doesn't exist",
          success: false,
        },
      ],
      ['163:HSM Error: RET_USER_LOGIN_FAILURE', { code: '163', success: false }],
      ["HSM Error: This user doesn't exist", { kind: 'Error', success: false }],
      ['something else', { text: 'something else' }],
    ];
    for (const [raw, want] of cases) {
      const message = textRecord([...LOGIN.filter(([k]) => k !== 'Response'), ['Response', raw]]);
      const r = hsm(parseRecord(message));
      assertSubset(r.response, { raw, ...want });
      const event = toOcsfEvent(hsmRecord(message), CONTEXT);
      assertValidOcsf(event);
      const success = (r.response as { success?: boolean }).success;
      assert.equal(event.status_id, success === undefined ? 0 : success ? 1 : 2);
    }
  });

  it('understands newer-firmware records (versioned header, target user, key handle)', () => {
    const message = [
      'Time: 04/22/22 20:13:18.189504, usecs:1650658398189504',
      'Version No : 0x1',
      'Sequence No : 0x1a2',
      'Reboot counter : 0x3',
      'Opcode : CN_CREATE_USER (0x3)',
      'Command Type(hex) : CN_MGMT_CMD (0x0)',
      'User id : 3',
      'Session Handle : 0x2010004',
      'Response : 0:HSM Return: SUCCESS',
      'Log type : MGMT_USER_DETAILS_LOG (2)',
      'User Name\t: admin',
      'User Type\t: CN_CRYPTO_OFFICER (2)',
      'Target User Name : kmsuser',
      'Target User Type : CN_CRYPTO_USER (1)',
      'Target User id : 9',
      'Mfa enabled : false',
    ].join('\n');
    const r = hsm(parseRecord(message));
    assert.equal(r.values.version_no, '0x1');
    assert.equal(r.values.user_id, '3');
    assert.equal(r.values.target_user_name, 'kmsuser');
    assert.deepEqual(r.targetUserType, { name: 'CN_CRYPTO_USER', code: '1' });
    assert.equal(r.values.mfa_enabled, 'false');
    assert.deepEqual(r.extraFields, []);
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.class_uid, 3001);
    assert.deepEqual(event.user, { name: 'kmsuser', type_id: 1, type: 'User', uid: '9' });
    assert.deepEqual(event.actor?.user, { name: 'admin', type_id: 2, type: 'Admin', uid: '3' });
    assert.equal(event.message, 'CN_CREATE_USER for kmsuser (CU) on hsm-abcde123456: SUCCESS');
  });

  it('understands key-handle, mechanism and share fields', () => {
    const message = [
      'Time: 04/22/22 20:13:18.189504, usecs:1650658398189504',
      'Version No : 0x1',
      'Sequence No : 0x1a3',
      'Reboot counter : 0x3',
      'Opcode : CN_SHARE_OBJECT (0x12)',
      'Command Type(hex) : CN_MGMT_CMD (0x0)',
      'User id : 7',
      'Session Handle : 0x2010004',
      'Response : 0:HSM Return: SUCCESS',
      'Log type : MGMT_KEY_DETAILS_LOG (1)',
      'Public Key Handle : 0',
      'Priv/Secret Key Handle : 2490398',
      'Key Handle : 2490398',
      'Mechanism : 4225',
      'Operation : SHARE (1)',
      'Number of Users : 2',
      'UserIDs : 8, 9',
    ].join('\n');
    const r = hsm(parseRecord(message));
    assert.deepEqual(r.operation, { name: 'SHARE', code: '1' });
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.entity?.uid, '2490398');
    assert.deepEqual(event.entity.data, {
      key_handle: '2490398',
      mechanism: '4225',
      operation: 'SHARE',
      number_of_users: '2',
      user_ids: '8, 9',
    });
    assert.deepEqual(event.actor?.user, { uid: '7' });
    // In entity.data, so not repeated; the operation's code would be lost there, so it stays.
    assert.equal(event.unmapped.cloudhsm.user_ids, undefined);
    assert.equal(event.unmapped.cloudhsm.operation, 'SHARE (1)');
  });

  it('sets no actor.user from a user type alone (OCSF needs a name or uid)', () => {
    const message = [
      'Time: 01/24/18 17:44:25.013218, usecs:1516815865013218',
      'Opcode : CN_GENERATE_KEY (0x17)',
      'User Type : CN_CRYPTO_OFFICER (2)',
    ].join('\n');
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.actor, undefined);
    assert.equal(event.unmapped.cloudhsm.user_type, 'CN_CRYPTO_OFFICER (2)');
  });

  it('understands TIME_INFO records (no opcode line)', () => {
    const message = [
      'Time: 04/22/22 20:13:18.189504, usecs:1650658398189504',
      'Sequence No : 0x1a4',
      'Reboot counter : 0x3',
      'Command Type(hex) : TIME_INFO_CMD (0xeee2)',
      'Session Handle : 0x0',
      'Response : 0:HSM Return: SUCCESS',
      'Log type : TIME_INFO_LOG (16)',
      'local time : 04/30/22 20:13:18.189504, usec:1650658398189504',
      'host time : 04/22/22 20:13:18.189990 usec:1650658398189990',
      'propagation delay : usec:486',
    ].join('\n');
    const r = hsm(parseRecord(message));
    assert.deepEqual(r.localTime, { text: '04/30/22 20:13:18.189504', usec: '1650658398189504' });
    assert.deepEqual(r.hostTime, { text: '04/22/22 20:13:18.189990', usec: '1650658398189990' });
    assert.deepEqual(r.propagationDelay, { text: '', usec: '486' });
    assert.deepEqual(r.warnings, ['missing "Opcode"']);
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.class_uid, 3004);
    assert.equal(event.activity_id, 99);
    assert.equal(event.activity_name, 'TIME_INFO_CMD');
    assert.equal(event.unmapped.cloudhsm.propagation_delay, 'usec:486');
    assert.equal(
      event.unmapped.cloudhsm.host_time,
      '04/22/22 20:13:18.189990 usec:1650658398189990',
    );
  });

  it('keeps 64-bit sequence numbers exact (BigInt) and omits metadata.sequence', () => {
    const message = textRecord([
      ...LOGIN.filter(([k]) => k !== 'Sequence No'),
      ['Sequence No', '0xFFFFFFFFFFFFFFFE'],
    ]);
    const r = hsm(parseRecord(message));
    assert.equal(r.sequenceNo?.value, 0xfffffffffffffffen);
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.metadata.sequence, undefined);
    assert.equal(event.metadata.uid, 'hsm-abcde123456:0x107:0xfffffffffffffffe');
    assert.equal(event.unmapped.cloudhsm.sequence_no, '0xFFFFFFFFFFFFFFFE');
  });

  it('names cluster and uid after each record own group, stream and reboot, in any interleaving', () => {
    // The normalizer remembers the last group and stream; records that alternate must not get
    // their neighbour's cluster id or uid prefix.
    const cases = [
      ['/aws/cloudhsm/cluster-aaa', 'hsm-one', '0x107', 'cluster-aaa', 'hsm-one:0x107:0x5'],
      ['/aws/cloudhsm/cluster-bbb', 'hsm-two', '0x107', 'cluster-bbb', 'hsm-two:0x107:0x5'],
      ['/aws/cloudhsm/cluster-aaa', 'hsm-one', '0x108', 'cluster-aaa', 'hsm-one:0x108:0x5'],
      ['/aws/cloudhsm/cluster-aaa', 'hsm-one', '0x109', 'cluster-aaa', 'hsm-one:0x109:0x5'],
      ['/aws/cloudhsm/cluster-aaa', 'HSM-Upper', '0x1', 'cluster-aaa', 'HSM-Upper:0x1:0x5'],
      ['/aws/cloudhsm/cluster-aaa', 'hsm-one', '0x107', 'cluster-aaa', 'hsm-one:0x107:0x5'],
    ] as const;
    for (let round = 0; round < 2; round++) {
      for (const [logGroup, logStream, reboot, cluster, uid] of cases) {
        const message = textRecord([
          ...LOGIN.filter(([k]) => k !== 'Reboot counter'),
          ['Reboot counter', reboot],
        ]);
        const event = toOcsfEvent(hsmRecord(message, { logGroup, logStream }), CONTEXT);
        assert.equal(event.device?.groups?.[0]?.uid, cluster);
        assert.equal(event.service?.uid, cluster);
        assert.equal(event.metadata.uid, uid);
      }
    }
  });

  it('falls back to the hash uid when the sequence is missing or malformed', () => {
    const message = textRecord([
      ...LOGIN.filter(([k]) => k !== 'Sequence No'),
      ['Sequence No', 'zz'],
    ]);
    const r = hsm(parseRecord(message));
    assert.deepEqual(r.warnings, ['invalid "Sequence No": zz']);
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.match(event.metadata.uid, /^hsm-abcde123456:[0-9a-f]{32}$/);
  });

  it('treats records without a usable Time line as unparseable, and still emits an event', () => {
    for (const message of ['', '  \n ', 'Sequence No : 0x1', 'Time: yesterday', 'garbage']) {
      const parsed = parseRecord(message);
      assert.equal(parsed.kind, 'unparseable');
      const event = toOcsfEvent(hsmRecord(message), CONTEXT);
      assertValidOcsf(event);
      assert.equal(event.class_uid, 3004);
      assert.equal(event.activity_id, 99);
      assert.equal(event.status_id, 0);
      assert.equal(event.raw_data, message);
      assert.equal(typeof event.unmapped.cloudhsm.parse_error, 'string');
      assert.deepEqual(event.entity, {
        uid: 'hsm-abcde123456',
        name: 'hsm-abcde123456',
        type: 'HSM',
      });
    }
  });

  it('uses the CloudWatch timestamp when usecs is implausible', () => {
    const message = textRecord([...LOGIN.filter(([k]) => k !== 'Time'), ['Time', 'x, usecs:12']]);
    const r = hsm(parseRecord(message));
    assert.equal(r.time.ms, undefined);
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.time, 1737000000000);
  });

  it('does not confuse opcode names with Object.prototype members', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const message = textRecord([
        ...LOGIN.filter(([k]) => k !== 'Opcode' && k !== 'User Type'),
        ['Opcode', `${name} (0x1)`],
        ['User Type', `${name} (1)`],
      ]);
      const event = toOcsfEvent(hsmRecord(message), CONTEXT);
      assertValidOcsf(event);
      assert.equal(event.activity_name, name);
    }
  });
});

describe('parseRecord: certificate-storage JSON', () => {
  it('keeps the 64-bit object_handle exact', () => {
    const parsed = parseRecord(readSample('aws-doc-certstore-create-object.txt'));
    assert.equal(parsed.kind, 'certstore');
    assertSubset(parsed, {
      objectHandle: '463180677312929947',
      opCode: 'CreateObject',
      response: 'OK',
      attributes: null,
      timestamp: '1725482483671',
      timestampMs: 1725482483671,
    });
  });

  it('parses compact JSON, attributes, escapes and unknown members', () => {
    const message =
      '  {"object_handle":18446744073709551615,"op_code":"SetAttributeValues","response":"OK",' +
      '"attributes":["Label","Id"],"timestamp":1725482483671,"extra":{"a":[1.5e3,true]},"note":"t\\u00e9"}';
    const parsed = parseRecord(message);
    assert.equal(parsed.kind, 'certstore');
    assertSubset(parsed, {
      objectHandle: '18446744073709551615',
      attributes: ['Label', 'Id'],
      extraFields: [
        { key: 'extra', value: '{"a":[1.5e3,true]}' },
        { key: 'note', value: '"t\\u00e9"' },
      ],
    });
    const event = toOcsfEvent(hsmRecord(message, { logStream: 'cluster-likphkxygsn' }), CONTEXT);
    assertValidOcsf(event);
    assert.equal(event.activity_id, 3);
    assert.deepEqual(event.entity?.data, { modified_attributes: ['Label', 'Id'] });
  });

  it('reports broken JSON as unparseable', () => {
    for (const message of ['{', '{"a":}', '{"a":1} x', '[1]', '{"a":01}', '{"a":"\u0001"}']) {
      const parsed = parseRecord(message);
      assert.equal(parsed.kind, 'unparseable', message);
      const event = toOcsfEvent(hsmRecord(message, { logStream: 'cluster-x' }), CONTEXT);
      assertValidOcsf(event);
      assert.deepEqual(event.metadata.profiles, ['cloud']);
      assert.equal(event.entity?.type, 'Log Stream');
    }
  });

  it('survives deep nesting without a stack overflow', () => {
    const message = `{"a":${'['.repeat(100000)}`;
    const parsed = parseRecord(message);
    assert.equal(parsed.kind, 'unparseable');
  });
});
