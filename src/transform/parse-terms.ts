/**
 * Values of a small vocabulary (command types, opcodes, log and user types, operations,
 * responses), read out of a record's text. A hit hands back a sequential string shared by every
 * record with that value, and the value already split into its parts: no copy, no re-parse. The
 * normalizer puts these strings into events as they are (flat-string.ts says why they must be
 * sequential), so they must never be views into a record.
 */
import { flat } from '../util/flat-string.js';
import type { HsmResponse, NameCode } from './parsed-record.js';
import { parseNameCode, parseResponse } from './parse-values.js';

/** One known value: its sequential text, and its parts once some record asked for them. */
export interface Term {
  readonly text: string;
  nameCode?: NameCode;
  response?: HsmResponse;
}

// A null-prototype object as the dictionary: looking a fresh slice up as a property key costs
// about half of Map.get or of hashing the characters in JS (Node 26, ~40 vs ~80 ns). Bounded
// like the vocabulary it serves: past MAX_TERMS distinct values a new value is simply copied, so
// a stream of unusual values costs copies but never memory.
const MAX_TERMS = 2048;
const TERMS = Object.create(null) as Record<string, Term | undefined>;
let count = 0;

/** The shared term for `text.slice(start, end)`. */
export function termAt(text: string, start: number, end: number): Term {
  const value = text.slice(start, end);
  const known = TERMS[value];
  if (known !== undefined) return known;
  const term: Term = { text: flat(value) };
  if (count < MAX_TERMS) {
    TERMS[term.text] = term;
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
    parts = Object.freeze(
      split.code === undefined
        ? { name: term.text }
        : { name: flat(split.name), code: flat(split.code) },
    );
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
