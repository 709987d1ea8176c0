import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { termAt } from '../../../src/transform/parse-terms.js';

/** `value` inside a longer text, as the parser reads it: by indices into a record. */
function termOf(value: string): ReturnType<typeof termAt> {
  const text = `Opcode : ${value}\nResponse : 0`;
  const start = text.indexOf(value);
  return termAt(text, start, start + value.length);
}

describe('termAt', () => {
  it('hands every record with one value the same term', () => {
    const first = termOf('CN_LOGIN (0xd)');
    const again = termOf('CN_LOGIN (0xd)');
    assert.equal(again, first);
    assert.equal(first.text, 'CN_LOGIN (0xd)');
  });

  it('tells apart values that share a bucket, also beyond what one bucket keeps', () => {
    // Same length and the same characters where the bucket hash looks (first, middle, last two),
    // so all of these land in one bucket, which keeps only the first few.
    const values = Array.from({ length: 12 }, (_, i) => {
      const letter = String.fromCharCode(65 + i);
      return `CN_${letter}${letter}XXXXXXXX_${letter}${letter}YY (0x1)`;
    });
    for (const value of values) assert.equal(termOf(value).text, value);
    for (const value of values) assert.equal(termOf(value).text, value, 'on a second reading');
    assert.equal(termOf(values[0] as string), termOf(values[0] as string), 'the first is kept');
  });

  it('shares opcodes whose codes differ only in their first hex digit', () => {
    // `NAME (0xNN)` values of one name differ only in the code; a hash that ignored the code's
    // first digit put sixteen of them in one bucket, and all but four were copied per record.
    const values = Array.from({ length: 16 }, (_, i) => `CN_SHARE_KEY (0x${i.toString(16)}5)`);
    for (const value of values) termOf(value);
    for (const value of values) {
      const term = termOf(value);
      assert.equal(term.shared, true, value);
      assert.equal(termOf(value), term, value);
    }
  });

  it('stays correct past its bound: unusual values are copied, known ones still shared', () => {
    const known = termOf('CN_LOGOUT (0xe)');
    let copied = 0;
    for (let i = 0; i < 5000; i++) {
      const value = `CN_UNUSUAL_${i} (0x${i.toString(16)})`;
      const term = termOf(value);
      assert.equal(term.text, value);
      if (!term.shared) copied++;
    }
    assert.ok(copied >= 5000 - 2048, `${copied} of 5000 values copied, not kept`);
    assert.equal(termOf('CN_LOGOUT (0xe)'), known);
  });

  it('reads an empty value as an empty term', () => {
    const text = 'Opcode : \nResponse : 0';
    const start = text.indexOf(': ') + 2;
    assert.equal(termAt(text, start, start).text, '');
  });
});
