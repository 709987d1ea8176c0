// Run by sequential-strings.test.ts as `node --allow-natives-syntax --import tsx <this file>`:
// normalizes the sample records and prints, as JSON, every string of an event that is a view
// into another string (sliced) or an unflattened concatenation (cons). One such string takes
// the whole event off V8's fast JSON.stringify path (src/util/flat-string.ts).
import { runInThisContext } from 'node:vm';

import { toOcsfEvent } from '../../../../src/transform/normalize.js';
import type { SourceRecord } from '../../../../src/transform/source-record.js';
import { CONTEXT, sampleNames, sampleRecord } from '../fixtures.js';

// Natives syntax is not TypeScript (tsx could not load it): compiled at run time instead, which
// the flag allows.
const sameMap = runInThisContext('(a, b) => %HaveSameMap(a, b)') as (
  a: string,
  b: string,
) => boolean;

/** 'sliced' / 'cons' for such a string, else undefined (sequential, internalized, thin). */
function badKind(s: string): string | undefined {
  // Fresh references for every call: a garbage collection may turn a kept cons string into its
  // flat content, and the reference would then match every sequential string.
  for (const unit of ['a', '\u1234']) {
    const whole = JSON.parse(`"${unit.repeat(40)}"`) as string;
    if (sameMap(s, whole.slice(1))) return 'sliced';
    if (sameMap(s, whole.slice(0, 20) + whole.slice(20))) return 'cons';
  }
  return undefined;
}

function walk(value: unknown, path: string, out: string[]): void {
  if (typeof value === 'string') {
    const kind = badKind(value);
    if (kind !== undefined) out.push(`${path}: ${kind}`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${path}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`, out);
  }
}

// The probe must be able to fail: a known slice and concatenation are caught, a copy is not.
const text = JSON.parse(JSON.stringify('x'.repeat(30))) as string;
if (badKind(text.slice(2)) !== 'sliced' || badKind(`${text}y`) !== 'cons') {
  throw new Error('string-kinds-probe: the detector does not recognise slices or cons strings');
}
if (badKind(text) !== undefined) throw new Error('string-kinds-probe: flags a sequential string');

// As the SDK hands records over: every string parsed from JSON. The samples, twice (the second
// time through the parser's shared terms), plus a user name outside Latin-1 (two-byte strings).
const samples = sampleNames().map(sampleRecord);
const twoByte = samples.map((r) => ({
  ...r,
  message: r.message.replace(/admin|crypto_user/g, 'ユーザー名前'),
}));
// And user names of 13 characters or more, the length from which V8 slices instead of copying.
const longNames = samples.map((r) => ({
  ...r,
  message: r.message.replace(/admin|crypto_user/g, 'security_officer_01'),
}));
const records = JSON.parse(
  JSON.stringify([...samples, ...samples, ...twoByte, ...longNames]),
) as SourceRecord[];
const found: string[] = [];
for (const record of records) {
  walk(toOcsfEvent(record, CONTEXT), `${record.message.slice(0, 30).replace(/\n/g, ' ')}…`, found);
}
process.stdout.write(JSON.stringify(found));
