/**
 * Parsers of single values of an audit record (times, `NAME (code)`, hex counters, responses)
 * and the character tests both record parsers share. Pure and total, like parseRecord.
 */
import { flat } from '../util/flat-string.js';
import type { HexCounter, HsmRecord, HsmResponse, NameCode, TimeInfo } from './parsed-record.js';

/** The characters String.prototype.trim removes (WhiteSpace and LineTerminator). */
export function isTrimmed(c: number): boolean {
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

export function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function isDigits(s: string): boolean {
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

/**
 * The `Time` value `text.slice(start, end)`, e.g. `01/24/18 17:44:25.013218, usecs:1516815865013218`
 * → text, usecs digits, ms; undefined without a `usecs:<digits>` part. The same reading as
 * {@link parseTimeInfo}, done on indices: text and digits are copied out once, as the sequential
 * strings the event carries (flat-string.ts), instead of slice, trim, slice again and copy.
 */
export function parseTimeLineAt(
  text: string,
  start: number,
  end: number,
): HsmRecord['time'] | undefined {
  const marker = text.lastIndexOf('usec', end - 4);
  if (marker < start) return undefined;
  let i = marker + 4;
  if (i < end && text.charCodeAt(i) === 115 /* s */) i++;
  while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  if (i >= end || text.charCodeAt(i) !== 58 /* : */) return undefined;
  let digitsStart = i + 1;
  let digitsEnd = end;
  while (digitsStart < digitsEnd && isTrimmed(text.charCodeAt(digitsStart))) digitsStart++;
  while (digitsEnd > digitsStart && isTrimmed(text.charCodeAt(digitsEnd - 1))) digitsEnd--;
  if (digitsStart === digitsEnd) return undefined;
  // Integer division on the decimal digits: the ms are all digits but the last three. Summed as
  // a number, exact below 2^53, which covers every plausible value (isPlausibleMs).
  const msEnd = digitsEnd - 3;
  let ms = 0;
  for (let d = digitsStart; d < digitsEnd; d++) {
    const c = text.charCodeAt(d);
    if (c < 48 || c > 57) return undefined;
    if (d < msEnd) ms = ms * 10 + (c - 48);
  }
  let textEnd = marker;
  while (textEnd > start && isTrimmed(text.charCodeAt(textEnd - 1))) textEnd--;
  let textStart = start;
  while (textStart < textEnd && isTrimmed(text.charCodeAt(textStart))) textStart++;
  if (textEnd > textStart && text.charCodeAt(textEnd - 1) === 44 /* , */) {
    textEnd--;
    while (textEnd > textStart && isTrimmed(text.charCodeAt(textEnd - 1))) textEnd--;
  }
  const time: HsmRecord['time'] = {
    text: flat(text.slice(textStart, textEnd)),
    // All digits (checked above), which toLowerCase copies unchanged: the cheapest sequential copy
    // (flat-string.ts), without flat's check that nothing changed.
    usecs: text.slice(digitsStart, digitsEnd).toLowerCase(),
  };
  // More than 16 ms digits is out of range whatever their value (as `Number` of the text was).
  if (msEnd - digitsStart <= 16 && isPlausibleMs(ms)) time.ms = ms;
  return time;
}

/** Finds the last `usec`/`usecs` marker; the text before it (minus a trailing comma) is the clock. */
export function parseTimeInfo(value: string): TimeInfo {
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

/**
 * `0x1f` → { text: '0x1f', value: 31n }; anything else keeps only the text. Up to 13 hex digits
 * (below 2^53) the value is summed as a number: BigInt of a number is several times cheaper
 * than BigInt of a string, and sequence numbers stay that small for years.
 */
export function parseHex(text: string): HexCounter {
  const length = text.length;
  if (length < 3 || text.charCodeAt(0) !== 48 || (text.charCodeAt(1) | 32) !== 120) {
    return { text };
  }
  let value = 0;
  for (let i = 2; i < length; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= 48 && c <= 57) digit = c - 48;
    else if ((c | 32) >= 97 && (c | 32) <= 102) digit = (c | 32) - 87;
    else return { text };
    value = value * 16 + digit;
  }
  return { text, value: length <= 15 ? BigInt(value) : BigInt(text) };
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
