/**
 * Parser for CloudHSM audit messages (docs/cloudhsm-audit-records.md). Pure and total:
 * `parseRecord` never throws, whatever the input.
 *
 * What "unparseable" means (everything else parses, possibly with `warnings`):
 * - the message is empty or blank;
 * - a text record has no `Time` line, or its first `Time` line carries no `usecs:<digits>`
 *   (without the HSM's own clock the record cannot be placed in time, and this is the one line
 *   every known firmware prints);
 * - a message whose first non-blank character is `{` is not a well-formed JSON object.
 * A missing `Sequence No`, `Reboot counter`, `Opcode` or `Response`, a malformed hex counter,
 * or a line without a colon only adds a warning: the record is still an audit event and its
 * known parts are worth keeping (time-info records, for instance, may have no opcode at all).
 */

import { flat } from '../util/flat-string.js';
import { parseCertStore } from './parse-cert-store.js';
import { nameCodeOf, responseOf, termAt } from './parse-terms.js';
import type { Term } from './parse-terms.js';
import type {
  ExtraField,
  HexCounter,
  HsmFieldName,
  HsmValues,
  NameCode,
  ParsedRecord,
  TimeInfo,
} from './parsed-record.js';
import { clip, isTrimmed, parseHex, parseTimeInfo, parseTimeLineAt } from './parse-values.js';

const KEY_NAMES = new Map<string, HsmFieldName>([
  ['version no', 'version_no'],
  ['sequence no', 'sequence_no'],
  ['reboot counter', 'reboot_counter'],
  ['command type(hex)', 'command_type'],
  ['command type', 'command_type'],
  ['opcode', 'opcode'],
  ['session handle', 'session_handle'],
  ['response', 'response'],
  ['log type', 'log_type'],
  ['user id', 'user_id'],
  ['user name', 'user_name'],
  ['user type', 'user_type'],
  ['target user name', 'target_user_name'],
  ['target user type', 'target_user_type'],
  ['target user id', 'target_user_id'],
  ['priv/secret key handle', 'priv_secret_key_handle'],
  ['public key handle', 'public_key_handle'],
  ['key handle', 'key_handle'],
  ['mechanism', 'mechanism'],
  ['mfa enabled', 'mfa_enabled'],
  ['operation', 'operation'],
  ['number of users', 'number_of_users'],
  ['userids', 'user_ids'],
  ['user ids', 'user_ids'],
  ['local time', 'local_time'],
  ['host time', 'host_time'],
  ['propagation delay', 'propagation_delay'],
]);

// Every field in slot order. The parser collects a record's values in a scratch array by slot
// (an indexed store; `values[name]` with a varying name was a megamorphic keyed store) and builds
// the values object once, from one literal (`valuesFrom`, checked against this list below).
const FIELDS: readonly HsmFieldName[] = [
  'version_no',
  'sequence_no',
  'reboot_counter',
  'command_type',
  'opcode',
  'session_handle',
  'response',
  'log_type',
  'user_id',
  'user_name',
  'user_type',
  'target_user_name',
  'target_user_type',
  'target_user_id',
  'priv_secret_key_handle',
  'public_key_handle',
  'key_handle',
  'mechanism',
  'mfa_enabled',
  'operation',
  'number_of_users',
  'user_ids',
  'local_time',
  'host_time',
  'propagation_delay',
];
/** What `keyAt` returns besides a slot: the `Time` line, or a key of no known field. */
const TIME_SLOT = -1;
const UNKNOWN_SLOT = -2;

function slotOf(name: HsmFieldName | 'time' | undefined): number {
  if (name === 'time') return TIME_SLOT;
  return name === undefined ? UNKNOWN_SLOT : FIELDS.indexOf(name);
}

// Fields whose values come from a small vocabulary: read as shared terms (parse-terms.ts).
const COMMAND_TYPE = slotOf('command_type');
const OPCODE = slotOf('opcode');
const RESPONSE = slotOf('response');
const LOG_TYPE = slotOf('log_type');
const USER_TYPE = slotOf('user_type');
const TARGET_USER_TYPE = slotOf('target_user_type');
const OPERATION = slotOf('operation');
const IS_VOCABULARY: readonly boolean[] = FIELDS.map((_, slot) =>
  [COMMAND_TYPE, OPCODE, RESPONSE, LOG_TYPE, USER_TYPE, TARGET_USER_TYPE, OPERATION].includes(slot),
);

// Scratch space of parseText, cleared at each call: parseText is synchronous and calls nothing
// that could re-enter it, and two fresh arrays per record were measurable garbage.
const found: Array<string | undefined> = FIELDS.map(() => undefined);
const foundTerms: Array<Term | undefined> = FIELDS.map(() => undefined);
// Per field, the term its last record had: most records repeat their predecessor's command
// type, log type and response, and comparing with one string costs less than the dictionary
// lookup of termAt.
const lastTerms: Array<Term | undefined> = FIELDS.map(() => undefined);

/** The values object, every key present (HsmValues says why), from the slots of `FIELDS`. */
function valuesFrom(slots: ReadonlyArray<string | undefined>): HsmValues {
  return {
    version_no: slots[0],
    sequence_no: slots[1],
    reboot_counter: slots[2],
    command_type: slots[3],
    opcode: slots[4],
    session_handle: slots[5],
    response: slots[6],
    log_type: slots[7],
    user_id: slots[8],
    user_name: slots[9],
    user_type: slots[10],
    target_user_name: slots[11],
    target_user_type: slots[12],
    target_user_id: slots[13],
    priv_secret_key_handle: slots[14],
    public_key_handle: slots[15],
    key_handle: slots[16],
    mechanism: slots[17],
    mfa_enabled: slots[18],
    operation: slots[19],
    number_of_users: slots[20],
    user_ids: slots[21],
    local_time: slots[22],
    host_time: slots[23],
    propagation_delay: slots[24],
  };
}

{
  const check = valuesFrom(FIELDS);
  const keys = Object.keys(check);
  if (keys.length !== FIELDS.length || FIELDS.some((name) => check[name] !== name)) {
    throw new Error('parse.ts: valuesFrom does not follow FIELDS');
  }
}

// The spellings AWS prints, grouped by length: comparing a fresh key with one or two literals of
// its length is several times cheaper than hashing it for a Map lookup (and than comparing it
// in place character by character in JS).
const PRINTED_KEYS = [
  'Time',
  'Version No',
  'Sequence No',
  'Reboot counter',
  'Command Type(hex)',
  'Opcode',
  'Session Handle',
  'Response',
  'Log type',
  'User id',
  'User Name',
  'User Type',
  'Target User Name',
  'Target User Type',
  'Target User id',
  'Priv/Secret Key Handle',
  'Public Key Handle',
  'Key Handle',
  'Mechanism',
  'Mfa enabled',
  'Operation',
  'Number of Users',
  'UserIDs',
  'local time',
  'host time',
  'propagation delay',
];
const PRINTED_BY_LENGTH: Array<Array<{ key: string; slot: number }>> = [];

// Other spellings seen before → slot; bounded against hostile input.
const KEY_CACHE = new Map<string, number>();
const KEY_CACHE_LIMIT = 4096;

/** The slot of the key `message.slice(start, end)`. */
function keyAt(message: string, start: number, end: number): number {
  const key = message.slice(start, end);
  const printed = PRINTED_BY_LENGTH[key.length];
  if (printed !== undefined) {
    for (let i = 0; i < printed.length; i++) {
      const entry = printed[i] as { key: string; slot: number };
      if (entry.key === key) return entry.slot;
    }
  }
  const cached = KEY_CACHE.get(key);
  if (cached !== undefined) return cached;
  const slot = slotOf(resolveKey(key));
  if (KEY_CACHE.size < KEY_CACHE_LIMIT) KEY_CACHE.set(key, slot);
  return slot;
}

/** True when `message.slice(start, end)` is `text` (compared without slicing when lengths differ). */
function sameText(message: string, start: number, end: number, text: string): boolean {
  return end - start === text.length && message.slice(start, end) === text;
}

function resolveKey(key: string): HsmFieldName | 'time' | undefined {
  const lower = key.toLowerCase();
  if (lower === 'time') return 'time';
  const hit = KEY_NAMES.get(lower);
  if (hit !== undefined) return hit;
  // Rare spellings (`Command Type (hex)`, doubled spaces) only pay for the slow path.
  const squeezed = lower.replace(/\s+/g, ' ').replace(' (', '(');
  return squeezed === lower ? undefined : KEY_NAMES.get(squeezed);
}

for (const key of PRINTED_KEYS) {
  const name = resolveKey(key);
  if (name === undefined) throw new Error(`parse.ts: printed key "${key}" has no name`);
  (PRINTED_BY_LENGTH[key.length] ??= []).push({ key, slot: slotOf(name) });
}

/** Parse one CloudWatch message. Never throws. */
export function parseRecord(message: string): ParsedRecord {
  try {
    // Records start with their first key or `{`: skip the scan for blanks then.
    const first = message.charCodeAt(0);
    const start = first > 32 && first !== 0xfeff ? 0 : firstNonBlank(message);
    if (start < 0) return { kind: 'unparseable', error: 'empty message', raw: message };
    if (message.charCodeAt(start) === 123 /* { */) return parseCertStore(message, start);
    return parseText(message);
  } catch (error) {
    // Defensive only: every known path returns normally; a bug must not drop a record.
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'unparseable', error: `internal parser error: ${detail}`, raw: message };
  }
}

function firstNonBlank(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return i;
  }
  return -1;
}

function parseText(message: string): ParsedRecord {
  const extraFields: ExtraField[] = [];
  const strayLines: string[] = [];
  const warnings: string[] = [];
  // The first `Time` line's value, as indices (-1: none yet).
  let timeStart = -1;
  let timeEnd = -1;
  for (let slot = 0; slot < FIELDS.length; slot++) {
    found[slot] = undefined;
    foundTerms[slot] = undefined;
  }

  // Index arithmetic instead of slice + trim per line: one slice per key and per value.
  const len = message.length;
  // The first ':' at or after the current line start (-1: none left). It only moves forward, so
  // lines without a colon do not rescan the rest of the message (no quadratic case).
  let colon = message.indexOf(':');
  let pos = 0;
  while (pos <= len) {
    let end = message.indexOf('\n', pos);
    if (end < 0) end = len;
    let start = pos;
    pos = end + 1;
    while (start < end && isTrimmed(message.charCodeAt(start))) start++;
    while (end > start && isTrimmed(message.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    if (colon >= 0 && colon < start) colon = message.indexOf(':', start);
    if (colon < 0 || colon >= end) {
      strayLines.push(message.slice(start, end));
      continue;
    }
    let keyEnd = colon;
    while (keyEnd > start && isTrimmed(message.charCodeAt(keyEnd - 1))) keyEnd--;
    let valueStart = colon + 1;
    while (valueStart < end && isTrimmed(message.charCodeAt(valueStart))) valueStart++;
    const slot = keyAt(message, start, keyEnd);
    if (slot === TIME_SLOT && timeStart < 0) {
      timeStart = valueStart;
      timeEnd = end;
    } else if (slot >= 0 && found[slot] === undefined) {
      if (IS_VOCABULARY[slot] === true) {
        const last = lastTerms[slot];
        let term: Term;
        if (last !== undefined && sameText(message, valueStart, end, last.text)) term = last;
        else lastTerms[slot] = term = termAt(message, valueStart, end);
        found[slot] = term.text;
        foundTerms[slot] = term;
      } else {
        // Copied when long enough to be a view into the record (user names, key handles): such
        // values go into events, where a view costs the fast JSON.stringify path.
        found[slot] = flat(message.slice(valueStart, end));
      }
    } else {
      extraFields.push({
        key: flat(message.slice(start, keyEnd)),
        value: flat(message.slice(valueStart, end)),
      });
    }
  }

  if (timeStart < 0) {
    return { kind: 'unparseable', error: 'no "Time" line', raw: message };
  }
  const time = parseTimeLineAt(message, timeStart, timeEnd);
  if (time === undefined) {
    return {
      kind: 'unparseable',
      error: `"Time" line has no usecs value: ${clip(message.slice(timeStart, timeEnd))}`,
      raw: message,
    };
  }
  if (time.ms === undefined) warnings.push(`usecs value out of range: ${clip(time.usecs)}`);
  if (strayLines.length > 0) warnings.push(`${strayLines.length} line(s) without a colon`);

  const values = valuesFrom(found);
  const seq = values.sequence_no;
  let sequenceNo: HexCounter | undefined;
  if (seq === undefined) warnings.push('missing "Sequence No"');
  else {
    sequenceNo = parseHex(seq);
    if (sequenceNo.value === undefined) warnings.push(`invalid "Sequence No": ${clip(seq)}`);
  }
  const reboot = values.reboot_counter;
  let rebootCounter: HexCounter | undefined;
  if (reboot === undefined) warnings.push('missing "Reboot counter"');
  else {
    rebootCounter = parseHex(reboot);
    if (rebootCounter.value === undefined) {
      warnings.push(`invalid "Reboot counter": ${clip(reboot)}`);
    }
  }
  const opcode = foundTerms[OPCODE];
  if (opcode === undefined || opcode.text === '') warnings.push('missing "Opcode"');
  const response = foundTerms[RESPONSE];
  const parsedResponse = response === undefined ? undefined : responseOf(response);
  if (response === undefined) warnings.push('missing "Response"');
  else if (parsedResponse?.success === undefined) {
    warnings.push(`unrecognised "Response": ${clip(response.text)}`);
  }
  // One literal with every key (HsmRecord says why).
  return {
    kind: 'hsm',
    values,
    extraFields,
    strayLines,
    time,
    sequenceNo,
    rebootCounter,
    commandType: nameCodeOrUndefined(foundTerms[COMMAND_TYPE]),
    opcode: opcode === undefined || opcode.text === '' ? undefined : nameCodeOf(opcode),
    logType: nameCodeOrUndefined(foundTerms[LOG_TYPE]),
    userType: nameCodeOrUndefined(foundTerms[USER_TYPE]),
    targetUserType: nameCodeOrUndefined(foundTerms[TARGET_USER_TYPE]),
    operation: nameCodeOrUndefined(foundTerms[OPERATION]),
    response: parsedResponse,
    localTime: timeInfoOrUndefined(values.local_time),
    hostTime: timeInfoOrUndefined(values.host_time),
    propagationDelay: timeInfoOrUndefined(values.propagation_delay),
    warnings,
  };
}

function nameCodeOrUndefined(term: Term | undefined): NameCode | undefined {
  return term === undefined ? undefined : nameCodeOf(term);
}

function timeInfoOrUndefined(value: string | undefined): TimeInfo | undefined {
  return value === undefined ? undefined : parseTimeInfo(value);
}
