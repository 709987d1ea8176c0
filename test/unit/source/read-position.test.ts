import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { RawEvent } from '../../../src/source/batch.js';
import {
  MAX_HASHES_AT_LAST_TIMESTAMP,
  filterAndAdvance,
  initialPollerState,
} from '../../../src/source/read-position.js';

const AT = Date.parse('2026-12-01T10:00:00.000Z');

function hsmRecord(sequence: number): RawEvent {
  return {
    timestamp: AT,
    ingestionTime: AT + 1_000,
    message: `Time: 12/01/26 10:00:00.000000, usecs:1\nSequence No : 0x${sequence.toString(16)}\nReboot counter : 0x1\nCommand Type(hex) : CN_MGMT_CMD (0x0)\n`,
  };
}

function certRecord(n: number): RawEvent {
  return { timestamp: AT, ingestionTime: AT + 1_000, message: `{"record":${n}}` };
}

describe('filterAndAdvance: records of one millisecond', () => {
  it('keeps a bounded number of hashes for a burst in one millisecond', () => {
    const burst = Array.from({ length: 5_000 }, (_, i) => hsmRecord(i + 1));
    const { kept, resume } = filterAndAdvance(initialPollerState(undefined), burst);
    assert.equal(kept.length, 5_000);
    assert.equal(resume.hashesAtLastTimestamp.length, MAX_HASHES_AT_LAST_TIMESTAMP);
    assert.ok(JSON.stringify(resume).length < 16_000, `${JSON.stringify(resume).length} bytes`);
  });

  it('after a re-seek into that millisecond, skips every HSM record already delivered', () => {
    const burst = Array.from({ length: 5_000 }, (_, i) => hsmRecord(i + 1));
    const first = filterAndAdvance(initialPollerState(undefined), burst);
    const next = [...burst, hsmRecord(5_001)];
    const again = filterAndAdvance({ resume: first.resume, dedupe: true }, next);
    assert.deepEqual(again.kept, [hsmRecord(5_001)]);
    assert.equal(again.skipped, 5_000);
  });

  it('past the bound, re-delivers rather than loses records without a sequence number', () => {
    const burst = Array.from({ length: 1_000 }, (_, i) => certRecord(i));
    const first = filterAndAdvance(initialPollerState(undefined), burst);
    const again = filterAndAdvance({ resume: first.resume, dedupe: true }, burst);
    // The newest hashes are kept: those records are recognised, the older ones come again.
    assert.equal(again.skipped, MAX_HASHES_AT_LAST_TIMESTAMP);
    assert.equal(again.kept.length + again.skipped, burst.length, 'nothing dropped unseen');
  });
});
