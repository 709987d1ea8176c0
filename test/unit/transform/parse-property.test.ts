// Property tests: whatever the message, toOcsfEvent returns a valid OCSF event carrying it verbatim.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { toOcsfEvent } from '../../../src/transform/normalize.js';
import { parseRecord } from '../../../src/transform/parse.js';
import { parseTimeLineAt } from '../../../src/transform/parse-values.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { CLUSTER_STREAM, CONTEXT, hsmRecord, readSample, sampleNames } from './fixtures.js';

const RUNS = { seed: 20260124, numRuns: 400 };

function check(message: string, logStream?: string): void {
  const record = hsmRecord(message, logStream === undefined ? {} : { logStream });
  const event = toOcsfEvent(record, CONTEXT);
  assertValidOcsf(event);
  assert.equal(event.raw_data, message);
  // The serialized form must round-trip too (no BigInt, no undefined surprises).
  assert.deepEqual(JSON.parse(JSON.stringify(event)), event);
}

const samples = sampleNames().map(readSample);
const textSamples = samples.filter((s) => !s.startsWith('{'));

const lineGarbage = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    'Sequence No : 0xFFFFFFFFFFFFFFFFFFFFFFFF',
    'Reboot counter : -1',
    'Opcode : (0x)',
    'Opcode : constructor',
    'User Type : __proto__ (1)',
    'Response : 99999999999999999999:HSM Error:',
    'Time: 01/01/70 00:00:00.000000, usecs:0',
    'Time: x, usecs:99999999999999999999999',
    'local time : usec:',
    ':',
    '\u0000\u2028\uffff',
    '{',
  ),
);

/** A sample with one of several mutations applied. */
const mutated = fc
  .tuple(
    fc.constantFrom(...textSamples),
    fc.integer({ min: 0, max: 6 }),
    fc.array(lineGarbage, { maxLength: 4 }),
    fc.nat(),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
  )
  .map(([sample, mode, garbage, n, huge]) => {
    const lines = sample.split('\n');
    switch (mode) {
      case 0: // truncated anywhere
        return sample.slice(0, n % (sample.length + 1));
      case 1: {
        // shuffled lines
        const out = [...lines];
        for (let i = out.length - 1; i > 0; i--) {
          const j = (n + i * 7) % (i + 1);
          [out[i], out[j]] = [out[j] as string, out[i] as string];
        }
        return out.join('\n');
      }
      case 2: {
        // garbage lines injected
        const out = [...lines];
        garbage.forEach((g, i) => out.splice((n + i) % (out.length + 1), 0, g));
        return out.join('\n');
      }
      case 3: // huge / unicode value appended to a random line
        return lines
          .map((l, i) => (i === n % lines.length ? `${l}${huge.repeat(1 + (n % 20))}` : l))
          .join('\n');
      case 4: // CRLF and stray whitespace
        return `\r\n ${lines.join(' \r\n\t')}\r\n\r\n`;
      case 5: // a line dropped
        return lines.filter((_, i) => i !== n % lines.length).join('\n');
      default: // empty-ish
        return n % 2 === 0 ? '' : ' \n\r\n\t';
    }
  });

describe('toOcsfEvent properties', () => {
  it('never throws on random strings and always yields a valid event', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (message) => {
        check(message);
        check(message, CLUSTER_STREAM);
      }),
      RUNS,
    );
  });

  it('never throws on mutated real records', () => {
    fc.assert(
      fc.property(mutated, (message) => {
        assert.doesNotThrow(() => parseRecord(message));
        check(message);
      }),
      RUNS,
    );
  });

  it('never throws on mutated certificate-storage JSON', () => {
    const json = samples.filter((s) => s.startsWith('{'));
    fc.assert(
      fc.property(
        fc.constantFrom(...json),
        fc.nat(),
        fc.oneof(fc.json(), fc.string({ maxLength: 20 })),
        (sample, n, inject) => {
          check(sample.slice(0, n % (sample.length + 1)), CLUSTER_STREAM);
          const at = n % sample.length;
          check(`${sample.slice(0, at)}${inject}${sample.slice(at)}`, CLUSTER_STREAM);
        },
      ),
      RUNS,
    );
  });

  it('accepts arbitrary JSON objects as certificate-storage records', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        check(text, CLUSTER_STREAM);
      }),
      RUNS,
    );
  });
});

// The parser splits lines by index arithmetic and looks printed keys up by exact spelling first
// (both for speed). This model is the plain definition it must agree with: split on \n, trim
// each line, split it on its first colon, trim key and value.
function modelLines(message: string): { fields: Array<[string, string]>; stray: string[] } {
  const fields: Array<[string, string]> = [];
  const stray: string[] = [];
  for (const raw of message.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) stray.push(line);
    else fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { fields, stray };
}

// Every character String.prototype.trim removes, plus look-alikes it keeps (NEL, ZWSP).
const spaces = fc.constantFrom(
  ' ',
  '\t',
  '\r',
  '\v',
  '\f',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
  '\u0085',
  '\u200b',
);
const keyText = fc.oneof(
  fc.constantFrom(
    'Time',
    'Sequence No',
    'SEQUENCE NO',
    'Command Type (hex)',
    'User  Name',
    'UserIDs',
  ),
  fc.string({ maxLength: 12 }),
);
const line = fc
  .tuple(
    fc.array(spaces, { maxLength: 3 }),
    keyText,
    fc.array(spaces, { maxLength: 2 }),
    fc.constantFrom(':', '', '::'),
    fc.array(spaces, { maxLength: 2 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.array(spaces, { maxLength: 3 }),
  )
  .map(
    ([a, key, b, colon, c, value, d]) =>
      `${a.join('')}${key}${b.join('')}${colon}${c.join('')}${value}${d.join('')}`,
  );

describe('parseRecord line splitting', () => {
  it('agrees with the split-and-trim model on random lines and whitespace', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), (lines, timeFirst) => {
        const body = lines.join('\n');
        const message = timeFirst
          ? `Time: 01/24/18 17:44:25.013218, usecs:1516815865013218\n${body}`
          : body;
        const model = modelLines(message);
        const parsed = parseRecord(message);
        if (parsed.kind !== 'hsm') return; // no usable Time line: nothing to compare
        assert.deepEqual(parsed.strayLines, model.stray);
        // The first occurrence of each known key wins, whatever its spelling.
        const spelled = (k: string): string => k.toLowerCase().replace(/\s+/g, ' ');
        const reference = parseRecord(
          model.fields.map(([k, v]) => `${spelled(k)}: ${v}`).join('\n'),
        );
        if (reference.kind === 'hsm') {
          assert.deepEqual(parsed.values, reference.values);
          // Everything else is kept verbatim, in order: unknown keys and repeats (a `Time`
          // repeat too), so that with the first `Time` and the known values every line is there.
          const extra = parsed.extraFields.map(({ key, value }) => [spelled(key), value]);
          const referenceExtra = reference.extraFields.map(({ key, value }) => [key, value]);
          assert.deepEqual(extra, referenceExtra);
          const verbatim = new Set(model.fields.map(([k, v]) => `${k}\u0000${v}`));
          for (const { key, value } of parsed.extraFields) {
            assert.ok(verbatim.has(`${key}\u0000${value}`), `extra field ${key} not verbatim`);
          }
          const known = Object.values(parsed.values).filter((v) => v !== undefined);
          const kept = 1 + known.length + parsed.extraFields.length;
          assert.equal(kept, model.fields.length);
        }
      }),
      RUNS,
    );
  });

  it('keeps lines without a colon, before and after colon lines, in order', () => {
    const stray = Array.from({ length: 2000 }, (_, i) => `no colon here ${i}`);
    const message = [
      'Time: 01/24/18 17:44:25.013218, usecs:1516815865013218',
      ...stray,
      'Opcode: CN_LOGIN (0xd)',
      'tail',
    ].join('\n');
    const parsed = parseRecord(message);
    assert.equal(parsed.kind, 'hsm');
    if (parsed.kind !== 'hsm') return;
    assert.deepEqual(parsed.strayLines, [...stray, 'tail']);
    assert.equal(parsed.values.opcode, 'CN_LOGIN (0xd)');
  });
});

// The plain definition of the `Time` value that parseTimeLineAt reads on indices: the text
// before the last `usec`/`usecs` marker (trimmed, one trailing comma dropped), the digits after
// its colon, and ms = all digits but the last three when that is a plausible epoch time.
function modelTime(value: string): { text: string; usecs: string; ms?: number } | undefined {
  const marker = value.lastIndexOf('usec');
  if (marker < 0) return undefined;
  const after = value.slice(marker + 4).replace(/^s/, '');
  const colon = /^[ \t]*:/.exec(after);
  if (colon === null) return undefined;
  const usecs = after.slice(colon[0].length).trim();
  if (!/^[0-9]+$/.test(usecs)) return undefined;
  let text = value.slice(0, marker).trim();
  if (text.endsWith(',')) text = text.slice(0, -1).trimEnd();
  const time: { text: string; usecs: string; ms?: number } = { text, usecs };
  const msText = usecs.length > 3 ? usecs.slice(0, -3) : '0';
  const ms = Number(msText);
  if (msText.length <= 16 && Number.isSafeInteger(ms) && ms >= 1e11 && ms < 1e14) time.ms = ms;
  return time;
}

// A `Time` value from parts near the edges: earlier markers in the text, commas and spaces
// around the marker, digit runs around 16 ms digits and the plausible range, junk after them.
const timeValue = fc
  .tuple(
    fc.constantFrom(
      '',
      '01/24/18 17:44:25.013218',
      'Wed Jan 24 17:44:25 2018 UTC',
      ' x ',
      'usec',
      'usecs:12 ',
      '\u00a0',
    ),
    fc.constantFrom('', ',', ' ,', ', ', ',,', ',\u00a0', '\t'),
    fc.constantFrom('usecs', 'usec', 'usecss', 'Usecs', ''),
    fc.constantFrom(':', ' :', '\t:', ' \t :', ' ', ''),
    fc.constantFrom('', ' ', '\u00a0', '\t'),
    fc.constantFrom(
      '1516815865013218',
      // Around 2^53: the usecs text is written back from its value only below it.
      '9007199254740991',
      '9007199254740993',
      '0001516815865013218',
      '00001516815865013218',
      '99999999999999999999',
      '100000000000000',
      '99999999999999999',
      '1516815',
      '12',
      '',
      '15168x',
    ),
    fc.constantFrom('', ' ', 'x', ' usecs', ' use', '\u2028'),
    fc.string({ maxLength: 3 }),
  )
  .map((parts) => parts.join(''));

describe('parseTimeLineAt', () => {
  it('agrees with the slice-and-trim model, anywhere in a longer text', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 6 }),
        timeValue,
        // The text around the value must not count, even where it completes a marker.
        fc.oneof(fc.string({ maxLength: 6 }), fc.constant('c: 1516815865013218')),
        (before, value, after) => {
          const text = `${before}${value}${after}`;
          const start = before.length;
          assert.deepEqual(parseTimeLineAt(text, start, start + value.length), modelTime(value));
        },
      ),
      { ...RUNS, numRuns: 3000 },
    );
  });
});
