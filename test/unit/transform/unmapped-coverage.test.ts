// Coverage of the leaner event: every field the parser reads from a record must still be in the
// event — in the OCSF attribute it maps to, or under `unmapped.cloudhsm` — so dropping the copy
// of every source field loses nothing. Derived from the parser's output (ParsedRecord), not from
// the mapping table: a field normalize forgets to place fails here whatever the table says.
// A value found in a mapped attribute counts wherever it is (the test cannot know the intended
// path without restating the mapping); `null` must be under `unmapped` with its own key.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { normalize } from '../../../src/transform/normalize.js';
import type { OcsfEvent } from '../../../src/transform/normalize.js';
import { parseRecord } from '../../../src/transform/parse.js';
import type {
  CertStoreRecord,
  HsmRecord,
  ParsedRecord,
} from '../../../src/transform/parsed-record.js';
import type { SourceRecord } from '../../../src/transform/source-record.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { CLUSTER_STREAM, CONTEXT, hsmRecord, sampleNames, sampleRecord } from './fixtures.js';

/** Every node of the event except the free-text copies (`raw_data`, `message`). */
function nodes(event: OcsfEvent): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown): void => {
    out.push(value);
    if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  for (const [key, value] of Object.entries(event)) {
    if (key !== 'raw_data' && key !== 'message') walk(value);
  }
  return out;
}

function holds(all: unknown[], value: unknown): boolean {
  return all.some((node) => isDeepStrictEqual(node, value));
}

/** Fields of a text record whose OCSF form is split over several attributes. */
function structuredHome(parsed: HsmRecord, name: string, event: OcsfEvent): boolean {
  if (name === 'sequence_no') {
    const seq = event.metadata.sequence;
    return seq !== undefined && BigInt(seq) === parsed.sequenceNo?.value;
  }
  if (name === 'response') {
    const r = parsed.response;
    if (r?.code === undefined || r.kind === undefined) return false;
    const statusId = r.kind === 'Return' ? 1 : 2;
    return (
      event.status_code === r.code && event.status_detail === r.text && event.status_id === statusId
    );
  }
  return false;
}

function missingHsm(parsed: HsmRecord, event: OcsfEvent): string[] {
  const all = nodes(event);
  const missing: string[] = [];
  if (!holds(all, parsed.time.text)) missing.push(`Time text ${parsed.time.text}`);
  if (!holds(all, parsed.time.usecs)) missing.push(`Time usecs ${parsed.time.usecs}`);
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined) continue; // every field is present, most without a value
    if (!holds(all, value) && !structuredHome(parsed, name, event)) {
      missing.push(`${name}: ${value}`);
    }
  }
  for (const extra of parsed.extraFields) {
    if (!holds(all, extra)) missing.push(`extra ${extra.key}: ${extra.value}`);
  }
  for (const line of parsed.strayLines) {
    if (!holds(all, line)) missing.push(`stray line ${line}`);
  }
  return missing;
}

function missingCertStore(parsed: CertStoreRecord, event: OcsfEvent): string[] {
  const all = nodes(event);
  const unmapped = event.unmapped.cloudhsm;
  const missing: string[] = [];
  const need = (key: string, value: unknown): void => {
    if (value === undefined) return;
    const ok = value === null ? unmapped[key] === null : holds(all, value);
    if (!ok) missing.push(`${key}: ${JSON.stringify(value)}`);
  };
  need('object_handle', parsed.objectHandle);
  need('op_code', parsed.opCode);
  need('response', parsed.response);
  need('attributes', parsed.attributes);
  need('timestamp', parsed.timestamp);
  for (const extra of parsed.extraFields) need(`extra ${extra.key}`, extra);
  return missing;
}

function missingFields(parsed: ParsedRecord, event: OcsfEvent): string[] {
  switch (parsed.kind) {
    case 'hsm':
      return missingHsm(parsed, event);
    case 'certstore':
      return missingCertStore(parsed, event);
    case 'unparseable':
      return holds(nodes(event), parsed.error) ? [] : [`parse error ${parsed.error}`];
  }
}

function assertCovered(record: SourceRecord): void {
  const parsed = parseRecord(record.message);
  const event = normalize(record, parsed, CONTEXT);
  assertValidOcsf(event);
  assert.deepEqual(missingFields(parsed, event), [], record.message);
}

// The printed keys the parser knows (parse.ts), with values of the shapes AWS prints.
const FIELDS: ReadonlyArray<readonly [string, fc.Arbitrary<string>]> = [
  ['Version No', fc.constantFrom('0x1', '0x2')],
  ['Sequence No', fc.constantFrom('0x0', '0x1a', '0xFFFFFFFFFFFFFFFE', 'zz')],
  ['Reboot counter', fc.constantFrom('0x107', '0xe8', 'bad')],
  ['Command Type(hex)', fc.constantFrom('CN_MGMT_CMD (0x0)', 'TIME_INFO_CMD (0xeee2)')],
  [
    'Opcode',
    fc.constantFrom(
      'CN_LOGIN (0xd)',
      'CN_LOGOUT (0xe)',
      'CN_APP_FINALIZE (0xc)',
      'CN_CREATE_USER (0x3)',
      'CN_CHANGE_PSWD (0x9)',
      'CN_GENERATE_KEY_PAIR (0x19)',
      'CN_SHARE_OBJECT (0x12)',
      'CN_SOMETHING_NEW (0x77)',
      'CN_LOGIN',
    ),
  ],
  ['Session Handle', fc.constantFrom('0x7014006', '0x0')],
  [
    'Response',
    fc.constantFrom(
      '0:HSM Return: SUCCESS',
      '163:HSM Error: RET_USER_LOGIN_FAILURE',
      '0: HSM Error: odd',
      'free text',
    ),
  ],
  ['Log type', fc.constantFrom('MGMT_USER_DETAILS_LOG (2)', 'MGMT_KEY_DETAILS_LOG (1)')],
  ['User id', fc.constantFrom('7', '12')],
  ['User Name', fc.constantFrom('admin', 'crypto_user')],
  ['User Type', fc.constantFrom('CN_CRYPTO_OFFICER (2)', 'CN_CRYPTO_PRE_OFFICER (7)', 'ODD')],
  ['Target User Name', fc.constantFrom('bob', 'alice')],
  ['Target User Type', fc.constantFrom('CN_CRYPTO_USER (1)', 'CN_APPLIANCE_USER (5)')],
  ['Target User id', fc.constantFrom('9', '10')],
  ['Priv/Secret Key Handle', fc.constantFrom('262152', '131079')],
  ['Public Key Handle', fc.constantFrom('0', '131078')],
  ['Key Handle', fc.constantFrom('262152', '2490398')],
  ['Mechanism', fc.constantFrom('4225', '0x1087')],
  ['Mfa enabled', fc.constantFrom('true', 'false')],
  ['Operation', fc.constantFrom('SHARE (1)', 'UNSHARE')],
  ['Number of Users', fc.constantFrom('1', '2')],
  ['UserIDs', fc.constantFrom('8, 9', '3')],
  ['local time', fc.constantFrom('04/30/22 20:13:18.189504, usec:1650658398189504')],
  ['host time', fc.constantFrom('04/22/22 20:13:18.189990 usec:1650658398189990')],
  ['propagation delay', fc.constantFrom('usec:486')],
  ['Firmware Build', fc.constantFrom('3.4.1')],
];

const textRecord = fc
  .tuple(
    fc.subarray([...FIELDS.keys()], { minLength: 1 }),
    fc.tuple(...FIELDS.map(([, value]) => value)),
    fc.boolean(),
  )
  .map(([chosen, values, stray]) => {
    const lines = ['Time: 01/24/18 17:44:25.013218, usecs:1516815865013218'];
    for (const i of chosen) lines.push(`${FIELDS[i]?.[0]} : ${values[i]}`);
    if (stray) lines.push('a line without a colon', `User Name : repeated`);
    return lines.join('\n');
  });

describe('unmapped coverage: every parsed field stays in the event', () => {
  it('holds for every published sample', () => {
    for (const name of sampleNames()) assertCovered(sampleRecord(name));
  });

  it('holds for text records with any mix of the known fields, under every class', () => {
    fc.assert(
      fc.property(textRecord, (message) => assertCovered(hsmRecord(message))),
      { seed: 20261126, numRuns: 400 },
    );
  });

  it('holds for certificate-storage records and unparseable ones', () => {
    for (const message of [
      '{"object_handle":null,"op_code":"SetAttributeValues","response":"InvalidAttributeValue","attributes":["Label"],"timestamp":1725482483671}',
      '{"object_handle":"12","op_code":"DestroyObject","response":"OK","attributes":null,"timestamp":1,"extra":{"a":[1,2]},"op_code":"again"}',
      '{"op_code":7,"attributes":{},"timestamp":"x"}',
      '{}',
      '{"broken":',
      'garbage',
    ]) {
      assertCovered(hsmRecord(message, { logStream: CLUSTER_STREAM }));
    }
  });
});
