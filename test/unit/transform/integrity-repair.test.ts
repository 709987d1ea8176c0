import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { findingToEvent, IntegrityTracker, streamKeyOf } from '../../../src/transform/integrity.js';
import type { IntegrityFinding } from '../../../src/transform/integrity.js';
import { parseRecord } from '../../../src/transform/parse.js';
import type { SourceRecord } from '../../../src/transform/source-record.js';
import { CONTEXT, LOG_GROUP, HSM_STREAM, loginRecord } from './fixtures.js';

const KEY = streamKeyOf({ logGroup: LOG_GROUP, logStream: HSM_STREAM });
const WINDOW = 60_000;
const T = 1_800_000_000_000;

function rec(seq: number): SourceRecord {
  return loginRecord(seq, { overrides: { timestamp: T + seq * 1000 } });
}

function observe(tracker: IntegrityTracker, seqs: number[], now: number): IntegrityFinding[] {
  return seqs.flatMap((s) => {
    const r = rec(s);
    return tracker.observe(r, parseRecord(r.message), now);
  });
}

describe('IntegrityTracker gap repair', () => {
  it('holds a gap back, asks for a re-read around it, and closes it when the late record comes', () => {
    const tracker = new IntegrityTracker({ repairWindowMs: WINDOW });
    assert.deepEqual(observe(tracker, [1, 2, 3, 5, 6], T), [], 'no finding while repairable');
    assert.equal(tracker.pendingGaps(KEY), 1);
    const repairs = tracker.takeRepairs();
    assert.equal(repairs.length, 1);
    const repair = repairs[0];
    assert.ok(repair !== undefined);
    assert.equal(repair.streamKey, KEY);
    assert.equal(repair.deadline, T + WINDOW);
    // The range covers the timestamps between the records around the gap (3 and 5).
    assert.ok(repair.fromTime <= rec(3).timestamp && repair.toTime >= rec(5).timestamp);
    assert.deepEqual(tracker.takeRepairs(), [], 'taken once');

    const late = rec(4);
    assert.equal(tracker.fills(late, parseRecord(late.message)), true);
    assert.equal(tracker.fills(rec(3), parseRecord(rec(3).message)), false, 'delivered before');
    // The late record is neither a regression nor a duplicate.
    assert.deepEqual(observe(tracker, [4], T + 1000), []);
    assert.equal(tracker.pendingGaps(KEY), 0);
    assert.equal(tracker.takeRepaired(), 1);
    assert.deepEqual(tracker.expire(KEY, T + 10 * WINDOW), [], 'nothing left to report');
    // And the stream goes on as usual: a re-delivery of 4 is now a duplicate.
    assert.deepEqual(
      observe(tracker, [4, 7], T + 2000).map((f) => f.kind),
      ['duplicate'],
    );
  });

  it('reports what is still missing when the window ends, as the same finding as without repair', () => {
    const repairing = new IntegrityTracker({ repairWindowMs: WINDOW });
    observe(repairing, [10, 11, 15], T);
    // One of the three missing records turns up.
    observe(repairing, [13], T + 5000);
    assert.deepEqual(repairing.expire(KEY, T + WINDOW - 1), [], 'not before the deadline');
    const due = repairing.expire(KEY, T + WINDOW);
    assert.equal(due.length, 1);
    const { finding, record } = due[0] ?? assert.fail('a finding');
    assert.equal(finding.kind, 'gap');
    assert.ok(finding.kind === 'gap');
    assert.equal(finding.expected, '0xc');
    assert.equal(finding.missing, '2');
    assert.equal(finding.sequence, '0xf');

    const immediate = new IntegrityTracker();
    const [direct] = observe(immediate, [10, 11, 15], T);
    assert.ok(direct !== undefined);
    assert.equal(
      findingToEvent(finding, record, CONTEXT).metadata.uid,
      findingToEvent(direct, rec(15), CONTEXT).metadata.uid,
      'the same uid: a finding raised twice is one document',
    );
    assert.equal(repairing.pendingGaps(KEY), 0);
  });

  it('keeps pending gaps across a restart (snapshot and restore)', () => {
    const before = new IntegrityTracker({ repairWindowMs: WINDOW });
    observe(before, [1, 2, 6], T);
    const saved = JSON.parse(JSON.stringify(before.snapshot(KEY))) as ReturnType<
      IntegrityTracker['snapshot']
    >;
    assert.ok(saved !== undefined);
    const after = new IntegrityTracker({ repairWindowMs: WINDOW });
    after.restore(KEY, saved);
    assert.equal(after.pendingGaps(KEY), 1);
    assert.deepEqual(observe(after, [3, 4], T + 1000), []);
    const [due] = after.expire(KEY, T + WINDOW);
    assert.ok(due?.finding.kind === 'gap');
    assert.equal(due.finding.missing, '1', 'only 5 is still missing');
    assert.equal(due.record.message, rec(6).message);
  });

  it('without a repair window reports gaps at once, as before', () => {
    const tracker = new IntegrityTracker();
    assert.deepEqual(
      observe(tracker, [1, 3], T).map((f) => f.kind),
      ['gap'],
    );
    assert.deepEqual(tracker.takeRepairs(), []);
    assert.equal(tracker.pendingGaps(KEY), 0);
  });
});
