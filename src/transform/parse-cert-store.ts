/**
 * Certificate-storage records: JSON, parsed losslessly (JSON.parse would round
 * 463180677312929947). Split from parse.ts, which dispatches here on a leading `{`.
 */
import type { CertStoreRecord, ParsedRecord } from './parsed-record.js';
import { clip, isDigits, isPlausibleMs } from './parse-values.js';

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

export function parseCertStore(message: string, start: number): ParsedRecord {
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
