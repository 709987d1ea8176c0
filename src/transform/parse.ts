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

import { parseCertStore } from './parse-cert-store.js';
import { nameCodeOf, responseOf, termAt } from './parse-terms.js';
import type { Term } from './parse-terms.js';
import type { ExtraField, HsmFieldName, HsmRecord, ParsedRecord } from './parsed-record.js';
import { clip, isTrimmed, parseHex, parseTimeInfo, parseTimeLine } from './parse-values.js';

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

// Fields whose values come from a small vocabulary: read as shared terms (parse-terms.ts).
type VocabularyField =
  | 'command_type'
  | 'opcode'
  | 'response'
  | 'log_type'
  | 'user_type'
  | 'target_user_type'
  | 'operation';
const VOCABULARY: ReadonlySet<HsmFieldName> = new Set<VocabularyField>([
  'command_type',
  'opcode',
  'response',
  'log_type',
  'user_type',
  'target_user_type',
  'operation',
]);

function isVocabulary(name: HsmFieldName): name is VocabularyField {
  return VOCABULARY.has(name);
}

// The spellings AWS prints, grouped by length: comparing the key in place with one or two
// literals of its length costs less than slicing it out and hashing it for a Map lookup.
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
const PRINTED_BY_LENGTH: Array<Array<{ key: string; name: HsmFieldName | 'time' }>> = [];

// Other spellings seen before → canonical name (null: unknown); bounded against hostile input.
const KEY_CACHE = new Map<string, HsmFieldName | 'time' | null>();
const KEY_CACHE_LIMIT = 4096;

/** The name of the key `message.slice(start, end)`; slices only for spellings AWS does not print. */
function keyAt(message: string, start: number, end: number): HsmFieldName | 'time' | undefined {
  const printed = PRINTED_BY_LENGTH[end - start];
  if (printed !== undefined) {
    for (let i = 0; i < printed.length; i++) {
      const entry = printed[i] as { key: string; name: HsmFieldName | 'time' };
      if (message.startsWith(entry.key, start)) return entry.name;
    }
  }
  const key = message.slice(start, end);
  const cached = KEY_CACHE.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const name = resolveKey(key);
  if (KEY_CACHE.size < KEY_CACHE_LIMIT) KEY_CACHE.set(key, name ?? null);
  return name;
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
  (PRINTED_BY_LENGTH[key.length] ??= []).push({ key, name });
}

/** Parse one CloudWatch message. Never throws. */
export function parseRecord(message: string): ParsedRecord {
  try {
    const start = firstNonBlank(message);
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
  const values: Partial<Record<HsmFieldName, string>> = {};
  const extraFields: ExtraField[] = [];
  const strayLines: string[] = [];
  const warnings: string[] = [];
  let timeValue: string | undefined;
  // Vocabulary values (parse-terms.ts), already split into their parts.
  let commandType: Term | undefined;
  let opcode: Term | undefined;
  let response: Term | undefined;
  let logType: Term | undefined;
  let userType: Term | undefined;
  let targetUserType: Term | undefined;
  let operation: Term | undefined;

  // Index arithmetic instead of slice + trim per line: known keys are matched in place, and
  // values are sliced once (vocabulary values not at all).
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
    const name = keyAt(message, start, keyEnd);
    if (name === 'time' && timeValue === undefined) {
      timeValue = message.slice(valueStart, end);
    } else if (name !== undefined && name !== 'time' && values[name] === undefined) {
      if (isVocabulary(name)) {
        const term = termAt(message, valueStart, end);
        values[name] = term.text;
        switch (name) {
          case 'command_type':
            commandType = term;
            break;
          case 'opcode':
            opcode = term;
            break;
          case 'response':
            response = term;
            break;
          case 'log_type':
            logType = term;
            break;
          case 'user_type':
            userType = term;
            break;
          case 'target_user_type':
            targetUserType = term;
            break;
          case 'operation':
            operation = term;
            break;
        }
      } else {
        values[name] = message.slice(valueStart, end);
      }
    } else {
      extraFields.push({
        key: message.slice(start, keyEnd),
        value: message.slice(valueStart, end),
      });
    }
  }

  if (timeValue === undefined) {
    return { kind: 'unparseable', error: 'no "Time" line', raw: message };
  }
  const time = parseTimeLine(timeValue);
  if (time === undefined) {
    return {
      kind: 'unparseable',
      error: `"Time" line has no usecs value: ${clip(timeValue)}`,
      raw: message,
    };
  }
  if (time.ms === undefined) warnings.push(`usecs value out of range: ${clip(time.usecs)}`);
  if (strayLines.length > 0) warnings.push(`${strayLines.length} line(s) without a colon`);

  const record: HsmRecord = {
    kind: 'hsm',
    values,
    extraFields,
    strayLines,
    time,
    warnings,
  };

  const seq = values.sequence_no;
  if (seq === undefined) warnings.push('missing "Sequence No"');
  else {
    record.sequenceNo = parseHex(seq);
    if (record.sequenceNo.value === undefined) warnings.push(`invalid "Sequence No": ${clip(seq)}`);
  }
  const reboot = values.reboot_counter;
  if (reboot === undefined) warnings.push('missing "Reboot counter"');
  else {
    record.rebootCounter = parseHex(reboot);
    if (record.rebootCounter.value === undefined) {
      warnings.push(`invalid "Reboot counter": ${clip(reboot)}`);
    }
  }
  if (opcode === undefined || opcode.text === '') warnings.push('missing "Opcode"');
  else record.opcode = nameCodeOf(opcode);
  if (response === undefined) warnings.push('missing "Response"');
  else {
    record.response = responseOf(response);
    if (record.response.success === undefined) {
      warnings.push(`unrecognised "Response": ${clip(response.text)}`);
    }
  }
  if (commandType !== undefined) record.commandType = nameCodeOf(commandType);
  if (logType !== undefined) record.logType = nameCodeOf(logType);
  if (userType !== undefined) record.userType = nameCodeOf(userType);
  if (targetUserType !== undefined) record.targetUserType = nameCodeOf(targetUserType);
  if (operation !== undefined) record.operation = nameCodeOf(operation);
  if (values.local_time !== undefined) record.localTime = parseTimeInfo(values.local_time);
  if (values.host_time !== undefined) record.hostTime = parseTimeInfo(values.host_time);
  if (values.propagation_delay !== undefined) {
    record.propagationDelay = parseTimeInfo(values.propagation_delay);
  }
  return record;
}
