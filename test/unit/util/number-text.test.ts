import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { numberText } from '../../../src/util/number-text.js';

describe('numberText', () => {
  it('prints exactly what String prints, for any double', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.maxSafeInteger(), fc.integer({ min: 1e9, max: 2e15 })),
        (n) => {
          assert.equal(numberText(n), String(n));
        },
      ),
      { seed: 20261124, numRuns: 2000 },
    );
  });

  it('handles the edges of its fast path', () => {
    const edges = [
      999_999_999,
      1e9,
      1e9 + 1,
      1_000_000_000_000,
      10_000_001,
      1_516_754_370_328,
      1_516_750_000_000,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 1,
      1e16,
      -1e12,
      0,
      -0,
      1e9 + 0.5,
    ];
    for (const n of edges) assert.equal(numberText(n), String(n), String(n));
  });
});
