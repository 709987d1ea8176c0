import { join } from './flat-string.js';

/**
 * `String(n)` for numbers, faster for the large integers events are full of (epoch
 * milliseconds): V8 prints any number above 2^31 through its double-to-text path, ~5x slower
 * than printing two small integers and joining them.
 */
export function numberText(n: number): string {
  if (n >= 1e9 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
    const high = Math.floor(n / 1e7); // < 2^30 for any safe integer: printed as a small integer
    const low = String(n - high * 1e7);
    return join(String(high), ZEROS.slice(low.length), low);
  }
  return String(n);
}

const ZEROS = '0000000';
