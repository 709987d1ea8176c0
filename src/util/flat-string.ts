/**
 * Strings an event carries, built sequential. V8's JSON.stringify keeps an event on its fast path
 * only while every string in it is sequential (or internalized); one cons string (what `+` and
 * template literals make from 13 characters on) or one sliced string (what `slice`, `substring`
 * and regexp matches make from 13 characters on: a view into the record's text) sends the whole
 * event down the slow path, ~2.7x slower to serialize. Shorter strings are always copied by V8.
 *
 * A copy costs ~50-90 ns; it only pays off once the event holds no other slice or cons string,
 * which is why the parse benchmark prints serialization beside that of plain copies.
 */

/** Below this length V8 copies substrings and concatenations instead of making views. */
const MIN_VIEW_LENGTH = 13;

/** Concatenation into one sequential string: `Array.prototype.join` of two or more parts. */
export function join(...parts: string[]): string {
  return parts.join('');
}

/**
 * A sequential copy of `s` (a substring of a record, typically). `toLowerCase` copies into a
 * fresh sequential string in one pass, at about half the cost of a join, and serves every string
 * it leaves unchanged (digits, times, lower-case names); the rest goes through a two-part join
 * (a join of a single part, or of a part and an empty string, hands back the same view).
 */
export function flat(s: string): string {
  if (s.length < MIN_VIEW_LENGTH) return s;
  const lower = s.toLowerCase();
  return lower === s ? lower : [s.slice(0, 1), s.slice(1)].join('');
}

/**
 * V8's internalized copy of `s`: the one copy of that text that property names use. It is
 * sequential, and a property lookup with it compares pointers instead of probing V8's string
 * table with a hash of the text (as a lookup with any other copy does, each time). For names of a
 * bounded vocabulary only: internalized strings live as long as something refers to them.
 */
export function interned(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

// Values from a small vocabulary (certificate-storage responses here; the text parser keeps its
// own, with the values' parsed parts, in transform/parse-terms.ts) are copied once and then
// shared: a lookup costs less than a copy. Bounded, so a stream of unusual values cannot grow it;
// past the bound every value is simply copied.
const TERMS = new Map<string, string>();
const MAX_TERMS = 2048;

/** {@link flat} for values of a small vocabulary: one shared sequential copy per distinct value. */
export function term(s: string): string {
  if (s.length < MIN_VIEW_LENGTH) return s;
  const known = TERMS.get(s);
  if (known !== undefined) return known;
  const copy = flat(s);
  if (TERMS.size < MAX_TERMS) TERMS.set(copy, copy);
  return copy;
}
