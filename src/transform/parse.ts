/**
 * Parser for CloudHSM audit messages (format note §2–§9, checklist §13a). Pure and total:
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

/** A `NAME (code)` value such as `CN_LOGIN (0xd)`; `code` is absent when none is printed. */
export interface NameCode {
  name: string;
  code?: string;
}

/** A hex counter as printed (`text`) plus its exact value when the text is valid hex. */
export interface HexCounter {
  text: string;
  value?: bigint;
}

/** `<code>:HSM Return: <text>` / `<code>:HSM Error: <text>` split into its parts. */
export interface HsmResponse {
  raw: string;
  code?: string;
  kind?: 'Return' | 'Error';
  text: string;
  /** true for code 0 / `HSM Return`, false for any other code / `HSM Error`, absent if unknown. */
  success?: boolean;
}

/** A time-info value (`local time`, `host time`, `propagation delay`): text part and `usec`. */
export interface TimeInfo {
  text: string;
  usec?: string;
}

/** Canonical (snake_case) names of the text-record keys this parser understands. */
export type HsmFieldName =
  | 'version_no'
  | 'sequence_no'
  | 'reboot_counter'
  | 'command_type'
  | 'opcode'
  | 'session_handle'
  | 'response'
  | 'log_type'
  | 'user_id'
  | 'user_name'
  | 'user_type'
  | 'target_user_name'
  | 'target_user_type'
  | 'target_user_id'
  | 'priv_secret_key_handle'
  | 'public_key_handle'
  | 'key_handle'
  | 'mechanism'
  | 'mfa_enabled'
  | 'operation'
  | 'number_of_users'
  | 'user_ids'
  | 'local_time'
  | 'host_time'
  | 'propagation_delay';

/** A key/value pair kept verbatim (unknown keys, repeated keys, unknown JSON members). */
export interface ExtraField {
  key: string;
  value: string;
}

/** A text audit record from an HSM log stream. */
export interface HsmRecord {
  kind: 'hsm';
  /** Every `key: value` line in order, key and value trimmed, the `Time` line included. */
  fields: Array<[string, string]>;
  /** First value of each known key, verbatim (trimmed). */
  values: Partial<Record<HsmFieldName, string>>;
  /** Unknown keys and repeats of known keys, in order. */
  extraFields: ExtraField[];
  /** Non-blank lines without any colon. */
  strayLines: string[];
  /** `Time` line: human text, `usecs` digits, and epoch ms when it is a safe integer. */
  time: { text: string; usecs: string; ms?: number };
  sequenceNo?: HexCounter;
  rebootCounter?: HexCounter;
  commandType?: NameCode;
  opcode?: NameCode;
  logType?: NameCode;
  userType?: NameCode;
  targetUserType?: NameCode;
  operation?: NameCode;
  response?: HsmResponse;
  localTime?: TimeInfo;
  hostTime?: TimeInfo;
  propagationDelay?: TimeInfo;
  warnings: string[];
}

/** A certificate-storage JSON record (§9); integers are kept as their decimal text. */
export interface CertStoreRecord {
  kind: 'certstore';
  /** Every top-level member in order, value as its JSON source text. */
  fields: Array<[string, string]>;
  /** Decimal text as printed; `null` when the record says null; absent when missing. */
  objectHandle?: string | null;
  opCode?: string;
  response?: string;
  attributes?: string[] | null;
  /** `timestamp` as printed, and as ms when it is a safe integer. */
  timestamp?: string;
  timestampMs?: number;
  extraFields: ExtraField[];
  warnings: string[];
}

/** A message that is neither a usable text record nor a JSON object. */
export interface UnparseableRecord {
  kind: 'unparseable';
  error: string;
  raw: string;
}

/** Result of {@link parseRecord}. */
export type ParsedRecord = HsmRecord | CertStoreRecord | UnparseableRecord;

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

// The spellings AWS prints, grouped by length: comparing a fresh key with one or two literals of
// its length is several times cheaper than hashing it for a Map lookup.
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

function lookupKey(key: string): HsmFieldName | 'time' | undefined {
  const printed = PRINTED_BY_LENGTH[key.length];
  if (printed !== undefined) {
    for (let i = 0; i < printed.length; i++) {
      const entry = printed[i] as { key: string; name: HsmFieldName | 'time' };
      if (entry.key === key) return entry.name;
    }
  }
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
  const fields: Array<[string, string]> = [];
  const values: Partial<Record<HsmFieldName, string>> = {};
  const extraFields: ExtraField[] = [];
  const strayLines: string[] = [];
  const warnings: string[] = [];
  let timeValue: string | undefined;

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
    const key = message.slice(start, keyEnd);
    const value = message.slice(valueStart, end);
    fields.push([key, value]);
    const name = lookupKey(key);
    if (name === 'time') {
      if (timeValue === undefined) timeValue = value;
      else extraFields.push({ key, value });
    } else if (name !== undefined && values[name] === undefined) {
      values[name] = value;
    } else {
      extraFields.push({ key, value });
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
    fields,
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
  if (values.opcode === undefined || values.opcode === '') warnings.push('missing "Opcode"');
  else record.opcode = parseNameCode(values.opcode);
  if (values.response === undefined) warnings.push('missing "Response"');
  else {
    record.response = parseResponse(values.response);
    if (record.response.success === undefined) {
      warnings.push(`unrecognised "Response": ${clip(values.response)}`);
    }
  }
  if (values.command_type !== undefined) record.commandType = parseNameCode(values.command_type);
  if (values.log_type !== undefined) record.logType = parseNameCode(values.log_type);
  if (values.user_type !== undefined) record.userType = parseNameCode(values.user_type);
  if (values.target_user_type !== undefined) {
    record.targetUserType = parseNameCode(values.target_user_type);
  }
  if (values.operation !== undefined) record.operation = parseNameCode(values.operation);
  if (values.local_time !== undefined) record.localTime = parseTimeInfo(values.local_time);
  if (values.host_time !== undefined) record.hostTime = parseTimeInfo(values.host_time);
  if (values.propagation_delay !== undefined) {
    record.propagationDelay = parseTimeInfo(values.propagation_delay);
  }
  return record;
}

/** The characters String.prototype.trim removes (WhiteSpace and LineTerminator). */
function isTrimmed(c: number): boolean {
  if (c > 32 && c < 0xa0) return false;
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

// 1973-03-03 .. 5138-11-16: outside this window a value is a typo or a unit mix-up (µs vs ms),
// and the CloudWatch timestamp is the better event time.
const MIN_PLAUSIBLE_MS = 1e11;
const MAX_PLAUSIBLE_MS = 1e14;

/** True when `ms` is an integer epoch-milliseconds value in a plausible range. */
export function isPlausibleMs(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= MIN_PLAUSIBLE_MS && ms < MAX_PLAUSIBLE_MS;
}

/** `01/24/18 17:44:25.013218, usecs:1516815865013218` → text, usecs digits, ms. */
function parseTimeLine(value: string): HsmRecord['time'] | undefined {
  const info = parseTimeInfo(value);
  if (info.usec === undefined) return undefined;
  const usecs = info.usec;
  const time: HsmRecord['time'] = { text: info.text, usecs };
  // Integer division on the decimal text: exact, and no float rounding near 2^53.
  const msText = usecs.length > 3 ? usecs.slice(0, usecs.length - 3) : '0';
  if (msText.length <= 16) {
    const ms = Number(msText);
    if (isPlausibleMs(ms)) time.ms = ms;
  }
  return time;
}

/** Finds the last `usec`/`usecs` marker; the text before it (minus a trailing comma) is the clock. */
function parseTimeInfo(value: string): TimeInfo {
  const marker = value.lastIndexOf('usec');
  if (marker < 0) return { text: value };
  let i = marker + 4;
  if (value.charCodeAt(i) === 115 /* s */) i++;
  while (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9) i++;
  if (value.charCodeAt(i) !== 58 /* : */) return { text: value };
  const digits = value.slice(i + 1).trim();
  if (!isDigits(digits)) return { text: value };
  let text = value.slice(0, marker).trim();
  if (text.endsWith(',')) text = text.slice(0, -1).trimEnd();
  return { text, usec: digits };
}

/** `CN_LOGIN (0xd)` → { name: 'CN_LOGIN', code: '0xd' }; `GENERIC_LOG` → { name }. */
export function parseNameCode(value: string): NameCode {
  if (value.endsWith(')')) {
    const open = value.lastIndexOf('(');
    if (open >= 0) {
      const code = value.slice(open + 1, -1).trim();
      const name = value.slice(0, open).trim();
      if (code.length > 0 && name.length > 0) return { name, code };
    }
  }
  return { name: value };
}

function isHexCounter(s: string): boolean {
  if (s.length < 3 || s.charCodeAt(0) !== 48 || (s.charCodeAt(1) | 32) !== 120) return false;
  for (let i = 2; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const isHex = (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
    if (!isHex) return false;
  }
  return true;
}

/** `0x1f` → { text: '0x1f', value: 31n }; anything else keeps only the text. */
export function parseHex(text: string): HexCounter {
  return isHexCounter(text) ? { text, value: BigInt(text) } : { text };
}

/** `163:HSM Error: RET_USER_LOGIN_FAILURE`, `0: HSM Return: SUCCESS`, or free text. */
export function parseResponse(raw: string): HsmResponse {
  const response: HsmResponse = { raw, text: raw };
  let rest = raw;
  const colon = raw.indexOf(':');
  if (colon > 0) {
    const code = raw.slice(0, colon).trim();
    if (isDigits(code)) {
      response.code = code;
      rest = raw.slice(colon + 1).trim();
      response.text = rest;
    }
  }
  const lowerRest = rest.slice(0, 10).toLowerCase();
  let kind: 'Return' | 'Error' | undefined;
  if (lowerRest.startsWith('hsm return')) kind = 'Return';
  else if (lowerRest.startsWith('hsm error')) kind = 'Error';
  if (kind !== undefined) {
    const after = rest.indexOf(':');
    if (after >= 0) {
      response.kind = kind;
      response.text = rest.slice(after + 1).trim();
    }
  }
  if (response.code !== undefined) response.success = /^0+$/.test(response.code);
  else if (response.kind !== undefined) response.success = response.kind === 'Return';
  return response;
}

// ---------------------------------------------------------------------------------------------
// Certificate-storage JSON, parsed losslessly: JSON.parse would round 463180677312929947.

/** A JSON number kept as its source text. */
interface JsonNumber {
  type: 'number';
  text: string;
}
interface JsonObject {
  type: 'object';
  members: Array<{ key: string; value: JsonValue; raw: string }>;
}
type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[];

class JsonSyntaxError extends Error {}

const MAX_JSON_DEPTH = 64;

function parseCertStore(message: string, start: number): ParsedRecord {
  let root: JsonObject;
  try {
    const parser = new LosslessJsonParser(message, start);
    const value = parser.value(0);
    parser.end();
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new JsonSyntaxError('not a JSON object');
    }
    if (value.type !== 'object') throw new JsonSyntaxError('not a JSON object');
    root = value;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'unparseable', error: `invalid JSON record: ${detail}`, raw: message };
  }
  const record: CertStoreRecord = { kind: 'certstore', fields: [], extraFields: [], warnings: [] };
  const seen = new Set<string>();
  for (const { key, value, raw } of root.members) {
    record.fields.push([key, raw]);
    if (seen.has(key)) {
      record.extraFields.push({ key, value: raw });
      continue;
    }
    seen.add(key);
    switch (key) {
      case 'object_handle':
        if (value === null) record.objectHandle = null;
        else if (isJsonNumber(value) && isDigits(value.text)) record.objectHandle = value.text;
        else if (typeof value === 'string') record.objectHandle = value;
        else {
          record.objectHandle = raw;
          record.warnings.push(`unexpected object_handle: ${clip(raw)}`);
        }
        break;
      case 'op_code':
      case 'response':
        if (typeof value === 'string') {
          if (key === 'op_code') record.opCode = value;
          else record.response = value;
        } else {
          record.extraFields.push({ key, value: raw });
          record.warnings.push(`${key} is not a string`);
        }
        break;
      case 'attributes':
        if (value === null) record.attributes = null;
        else if (Array.isArray(value)) {
          record.attributes = value.map((item) =>
            typeof item === 'string' ? item : jsonText(item),
          );
        } else {
          record.extraFields.push({ key, value: raw });
          record.warnings.push('attributes is neither null nor an array');
        }
        break;
      case 'timestamp':
        if (isJsonNumber(value) && isDigits(value.text)) {
          record.timestamp = value.text;
          const ms = Number(value.text);
          if (isPlausibleMs(ms)) record.timestampMs = ms;
          else record.warnings.push(`timestamp out of range: ${clip(value.text)}`);
        } else {
          record.extraFields.push({ key, value: raw });
          record.warnings.push('timestamp is not an integer');
        }
        break;
      default:
        record.extraFields.push({ key, value: raw });
    }
  }
  if (record.opCode === undefined) record.warnings.push('missing "op_code"');
  if (record.response === undefined) record.warnings.push('missing "response"');
  if (record.timestamp === undefined) record.warnings.push('missing "timestamp"');
  return record;
}

function isJsonNumber(value: JsonValue): value is JsonNumber {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && value.type === 'number'
  );
}

function jsonText(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value.type === 'number') return value.text;
  return `{${value.members.map((m) => `${JSON.stringify(m.key)}:${jsonText(m.value)}`).join(',')}}`;
}

class LosslessJsonParser {
  private readonly s: string;
  private i: number;

  constructor(s: string, start: number) {
    this.s = s;
    this.i = start;
  }

  end(): void {
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected data after the JSON value');
  }

  value(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep');
    this.ws();
    const c = this.s.charCodeAt(this.i);
    if (c === 123) return this.object(depth);
    if (c === 91) return this.array(depth);
    if (c === 34) return this.string();
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.s.startsWith('true', this.i)) return this.literal(4, true);
    if (this.s.startsWith('false', this.i)) return this.literal(5, false);
    if (this.s.startsWith('null', this.i)) return this.literal(4, null);
    return this.fail('unexpected character');
  }

  private literal<T>(length: number, v: T): T {
    this.i += length;
    return v;
  }

  private object(depth: number): JsonObject {
    this.i++;
    const members: JsonObject['members'] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++;
      return { type: 'object', members };
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 34) this.fail('expected a member name');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 58) this.fail('expected ":"');
      this.i++;
      this.ws();
      const from = this.i;
      const value = this.value(depth + 1);
      members.push({ key, value, raw: this.s.slice(from, this.i) });
      this.ws();
      const c = this.s.charCodeAt(this.i);
      this.i++;
      if (c === 125) return { type: 'object', members };
      if (c !== 44) this.fail('expected "," or "}"');
    }
  }

  private array(depth: number): JsonValue[] {
    this.i++;
    const items: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 93) {
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.i);
      this.i++;
      if (c === 93) return items;
      if (c !== 44) this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const from = this.i;
    let i = from + 1;
    let escaped = false;
    for (; i < this.s.length; i++) {
      const c = this.s.charCodeAt(i);
      if (c === 92) {
        escaped = true;
        i++;
      } else if (c === 34) break;
    }
    if (i >= this.s.length) this.fail('unterminated string');
    this.i = i + 1;
    const body = this.s.slice(from + 1, i);
    if (!escaped) {
      for (let k = 0; k < body.length; k++) {
        if (body.charCodeAt(k) < 32) this.fail('control character in string');
      }
      return body;
    }
    // Escapes are rare here; JSON.parse on the string literal alone is exact.
    try {
      return JSON.parse(this.s.slice(from, i + 1)) as string;
    } catch (_error) {
      return this.fail('invalid string escape');
    }
  }

  private number(): JsonNumber {
    const s = this.s;
    const from = this.i;
    let i = from;
    if (s.charCodeAt(i) === 45) i++;
    const intStart = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === intStart) this.fail('invalid number');
    if (s.charCodeAt(intStart) === 48 && i - intStart > 1) this.fail('leading zero in number');
    if (s.charCodeAt(i) === 46) {
      const f = ++i;
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      if (i === f) this.fail('invalid fraction');
    }
    if ((s.charCodeAt(i) | 32) === 101) {
      i++;
      if (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45) i++;
      const e = i;
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      if (i === e) this.fail('invalid exponent');
    }
    this.i = i;
    return { type: 'number', text: s.slice(from, i) };
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
    this.i = i;
  }

  private fail(reason: string): never {
    throw new JsonSyntaxError(`${reason} at offset ${this.i}`);
  }
}
