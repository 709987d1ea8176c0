/**
 * Values of a small vocabulary (command types, opcodes, log and user types, operations,
 * responses), read straight out of a record's text. A hit hands back a sequential string shared
 * by every record with that value, and the value already split into its parts: no slice, no copy,
 * no re-parse. The normalizer puts these strings into events as they are (flat-string.ts says why
 * they must be sequential), so they must never be views into a record.
 */
import { flat } from '../util/flat-string.js';
import type { HsmResponse, NameCode } from './parsed-record.js';
import { parseNameCode, parseResponse, sameAt } from './parse-values.js';

/** One known value: its sequential text, and its parts once some record asked for them. */
export interface Term {
  readonly text: string;
  nameCode?: NameCode;
  response?: HsmResponse;
}

// Open addressing with linear probing, at most half full so probes stay short. Bounded like the
// vocabulary it serves: past MAX_TERMS distinct values a new value is simply copied, so a stream
// of unusual values costs copies but never memory.
const SLOTS = 4096;
const MAX_TERMS = SLOTS / 2;
const TABLE: Array<Term | undefined> = new Array<Term | undefined>(SLOTS).fill(undefined);
let count = 0;

/** The term for `text.slice(start, end)`, found without slicing when it is known. */
export function termAt(text: string, start: number, end: number): Term {
  const length = end - start;
  let hash = length;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  let slot = hash & (SLOTS - 1);
  for (;;) {
    const known = TABLE[slot];
    if (known === undefined) break;
    if (known.text.length === length && sameAt(text, start, known.text)) return known;
    slot = (slot + 1) & (SLOTS - 1);
  }
  const term: Term = { text: flat(text.slice(start, end)) };
  if (count < MAX_TERMS) {
    TABLE[slot] = term;
    count++;
  }
  return term;
}

/** A fresh {@link NameCode} (the parsed record is the caller's to keep) from shared parts. */
export function nameCodeOf(term: Term): NameCode {
  let parts = term.nameCode;
  if (parts === undefined) {
    const split = parseNameCode(term.text);
    parts =
      split.code === undefined
        ? { name: term.text }
        : { name: flat(split.name), code: flat(split.code) };
    term.nameCode = parts;
  }
  return parts.code === undefined ? { name: parts.name } : { name: parts.name, code: parts.code };
}

/** A fresh {@link HsmResponse} from shared parts; same key order as `parseResponse` builds. */
export function responseOf(term: Term): HsmResponse {
  let parts = term.response;
  if (parts === undefined) {
    parts = parseResponse(term.text);
    parts.text = flat(parts.text);
    if (parts.code !== undefined) parts.code = flat(parts.code);
    term.response = parts;
  }
  const response: HsmResponse = { raw: parts.raw, text: parts.text };
  if (parts.code !== undefined) response.code = parts.code;
  if (parts.kind !== undefined) response.kind = parts.kind;
  if (parts.success !== undefined) response.success = parts.success;
  return response;
}
