/**
 * Values of a small vocabulary (command types, opcodes, log and user types, operations,
 * responses), read out of a record's text. A hit hands back a sequential string shared by every
 * record with that value, and the value already split into its parts: no copy, no re-parse. The
 * normalizer puts these strings into events as they are (flat-string.ts says why they must be
 * sequential), so they must never be views into a record.
 */
import { flat, interned } from '../util/flat-string.js';
import type { HsmResponse, NameCode } from './parsed-record.js';
import { parseNameCode, parseResponse } from './parse-values.js';

/** One known value: its sequential text, and its parts once some record asked for them. */
export interface Term {
  readonly text: string;
  /** Kept in the table, so every record with this value gets this term (and its parts). */
  readonly shared: boolean;
  nameCode?: NameCode;
  response?: HsmResponse;
}

// The dictionary is a table of small buckets under a hash of five characters and the length,
// read with charCodeAt: a hit costs one slice and one comparison. Looking the slice up as a
// property key (the former dictionary) made V8 hash it and probe its global string table, about
// 85 ns a lookup and 4 % of the parse benchmark. Bounded like the vocabulary it serves: past
// MAX_TERMS distinct values, or BUCKET_SIZE values in one bucket, a new value is simply copied,
// so a stream of unusual (or hostile) values costs copies but never memory.
const MAX_TERMS = 2048;
const BUCKETS = 1024; // a power of two: the hash is masked
const BUCKET_SIZE = 4;
const TABLE: Array<Term[] | undefined> = new Array<Term[] | undefined>(BUCKETS).fill(undefined);
let count = 0;

/** The shared term for `text.slice(start, end)`. */
export function termAt(text: string, start: number, end: number): Term {
  const length = end - start;
  if (length <= 0) return { text: '', shared: false };
  // The bucket: length, first, middle and last three characters (the code of `NAME (0xNN)`),
  // all inside the value. Written out here: as a helper function it measurably slowed the parser.
  const index =
    (length * 1009 +
      text.charCodeAt(start) * 31 +
      text.charCodeAt(start + (length >> 1)) * 131 +
      (length > 2 ? text.charCodeAt(end - 3) * 7 + text.charCodeAt(end - 2) * 17 : 0) +
      text.charCodeAt(end - 1)) &
    (BUCKETS - 1);
  const value = text.slice(start, end);
  let bucket = TABLE[index];
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      const term = bucket[i] as Term;
      if (term.text === value) return term;
    }
  }
  const shared = count < MAX_TERMS && (bucket === undefined || bucket.length < BUCKET_SIZE);
  const term: Term = { text: flat(value), shared };
  if (shared) {
    if (bucket === undefined) TABLE[index] = bucket = [];
    bucket.push(term);
    count++;
  }
  return term;
}

/**
 * The parts of a `NAME (code)` term. Shared by every record with that value, hence frozen: parsed
 * records are read, never changed, and none of their objects goes into an event (only strings).
 */
export function nameCodeOf(term: Term): NameCode {
  let parts = term.nameCode;
  if (parts === undefined) {
    const split = parseNameCode(term.text);
    // The name of a shared term is internalized: the normalizer looks it up in the mapping tables
    // for every record. Values past the table's bound are copied instead, so that unusual (or
    // hostile) values cost a copy each but never grow V8's string table.
    const copy = split.code === undefined ? term.text : flat(split.name);
    const name = term.shared ? interned(copy) : copy;
    parts = Object.freeze(split.code === undefined ? { name } : { name, code: flat(split.code) });
    term.nameCode = parts;
  }
  return parts;
}

/** The parts of a `Response` term; shared and frozen like {@link nameCodeOf}'s. */
export function responseOf(term: Term): HsmResponse {
  let parts = term.response;
  if (parts === undefined) {
    parts = parseResponse(term.text);
    parts.text = flat(parts.text);
    if (parts.code !== undefined) parts.code = flat(parts.code);
    term.response = Object.freeze(parts);
  }
  return parts;
}
