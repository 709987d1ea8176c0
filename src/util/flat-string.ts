/**
 * Strings an event carries, built flat. V8's JSON.stringify keeps an object on its fast path only
 * while every string in it is a sequential (or internalized) one: a single cons string (made by
 * `+` or a template literal) or sliced string (a substring of 13 or more characters, which points
 * into its parent) sends the whole event to the slow path, which measured 2.4 times slower here.
 * `Array.prototype.join` of two or more parts always allocates a fresh sequential string, and
 * V8 copies (rather than slices or conses) anything shorter than 13 characters.
 */
const MIN_SHARED_LENGTH = 13; // V8's SlicedString/ConsString minimum length
const CHUNK = MIN_SHARED_LENGTH - 1;

/** A sequential copy of `text` (a no-op below 13 characters, which V8 never shares). */
export function flat(text: string): string {
  if (text.length < MIN_SHARED_LENGTH) return text;
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) parts.push(text.slice(i, i + CHUNK));
  return parts.join('');
}

/** The concatenation of `parts` as one sequential string (a template literal would make a cons). */
export function join(...parts: string[]): string {
  return parts.join('');
}

const INTERNED_LIMIT = 4096;
const interned = new Map<string, string>();

/**
 * {@link flat} for values drawn from a small set (opcode and user-type texts, cluster ids): each
 * distinct value is copied once and then shared, which is safe because strings are immutable.
 */
export function internFlat(text: string): string {
  let value = interned.get(text);
  if (value === undefined) {
    if (interned.size >= INTERNED_LIMIT) interned.clear();
    value = flat(text);
    interned.set(value, value);
  }
  return value;
}
