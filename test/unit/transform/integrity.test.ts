import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { findingToEvent, IntegrityTracker, streamKeyOf } from '../../../src/transform/integrity.js';
import type { IntegrityFinding } from '../../../src/transform/integrity.js';
import { parseRecord } from '../../../src/transform/parse.js';
import type { SourceRecord } from '../../../src/transform/source-record.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { CONTEXT, hsmRecord, LOG_GROUP, HSM_STREAM, loginRecord } from './fixtures.js';

const KEY = streamKeyOf({ logGroup: LOG_GROUP, logStream: HSM_STREAM });

function rec(seq: number, reboot = 0x107, user = 'alice'): SourceRecord {
  return loginRecord(seq, { reboot, user });
}

function run(tracker: IntegrityTracker, records: SourceRecord[]): IntegrityFinding[] {
  return records.flatMap((r) => tracker.observe(r, parseRecord(r.message)));
}

describe('IntegrityTracker', () => {
  it('reports nothing for a clean stream, whatever its first sequence', () => {
    const tracker = new IntegrityTracker();
    assert.deepEqual(
      run(
        tracker,
        [5, 6, 7, 8, 9, 10].map((s) => rec(s)),
      ),
      [],
    );
    assert.deepEqual(tracker.snapshot(KEY)?.lastSequence, '0xa');
  });

  it('ignores certificate-storage and unparseable records', () => {
    const tracker = new IntegrityTracker();
    const json = hsmRecord('{"op_code":"CreateObject","timestamp":1725482483671}');
    assert.deepEqual(run(tracker, [json, hsmRecord('garbage'), json]), []);
    assert.deepEqual(tracker.streamKeys(), []);
  });

  it('reports exactly a gap, a reboot, a duplicate and a conflicting duplicate', () => {
    const tracker = new IntegrityTracker();
    const findings = run(tracker, [
      rec(0),
      rec(1),
      rec(2),
      rec(6), // gap: 3, 4, 5 missing
      rec(7),
      rec(7), // duplicate
      rec(6, 0x107, 'mallory'), // conflicting duplicate
      rec(0, 0x108), // reboot, sequence restarts
      rec(1, 0x108),
      rec(0, 0x107), // regression: reboot counter went back (becomes the baseline)
      rec(5, 0x108), // counter up again: a reboot, from the new baseline
      rec(3, 0x108), // regression: lower sequence not in the window
    ]);
    const base = { streamKey: KEY };
    assert.deepEqual(findings, [
      {
        ...base,
        rebootCounter: '0x107',
        sequence: '0x6',
        kind: 'gap',
        expected: '0x3',
        missing: '3',
      },
      { ...base, rebootCounter: '0x107', sequence: '0x7', kind: 'duplicate' },
      {
        ...base,
        rebootCounter: '0x107',
        sequence: '0x6',
        kind: 'conflicting_duplicate',
        previousHash: findings[2]?.kind === 'conflicting_duplicate' ? findings[2].previousHash : '',
        hash: findings[2]?.kind === 'conflicting_duplicate' ? findings[2].hash : '',
      },
      {
        ...base,
        rebootCounter: '0x108',
        sequence: '0x0',
        kind: 'reboot',
        previousRebootCounter: '0x107',
        previousSequence: '0x7',
        sequenceRestarted: true,
      },
      {
        ...base,
        rebootCounter: '0x107',
        sequence: '0x0',
        kind: 'regression',
        reason: 'reboot_counter_decreased',
        previousRebootCounter: '0x108',
        previousSequence: '0x1',
      },
      {
        ...base,
        rebootCounter: '0x108',
        sequence: '0x5',
        kind: 'reboot',
        previousRebootCounter: '0x107',
        previousSequence: '0x0',
        sequenceRestarted: false,
      },
      {
        ...base,
        rebootCounter: '0x108',
        sequence: '0x3',
        kind: 'regression',
        reason: 'sequence_decreased',
        previousRebootCounter: '0x108',
        previousSequence: '0x5',
      },
    ]);
    const conflict = findings[2];
    assert.ok(conflict?.kind === 'conflicting_duplicate');
    assert.match(conflict.hash, /^[0-9a-f]{16}$/);
    assert.notEqual(conflict.hash, conflict.previousHash);
  });

  it('reports a reboot counter that went back once, not once per later record', () => {
    const tracker = new IntegrityTracker();
    const findings = run(tracker, [rec(7, 0x108), rec(0, 0x107), rec(1, 0x107), rec(2, 0x107)]);
    assert.deepEqual(
      findings.map((f) => f.kind),
      ['regression'],
    );
  });

  it('keeps streams independent', () => {
    const tracker = new IntegrityTracker();
    const other = (seq: number): SourceRecord => ({ ...rec(seq), logStream: 'hsm-otherhsm2345' });
    assert.deepEqual(run(tracker, [rec(0), other(40), rec(1), other(41), rec(2)]), []);
    assert.equal(tracker.streamKeys().length, 2);
  });

  it('handles 64-bit sequence numbers exactly', () => {
    const tracker = new IntegrityTracker();
    const big = (seq: bigint): SourceRecord =>
      hsmRecord(rec(0).message.replace('Sequence No : 0x0', `Sequence No : 0x${seq.toString(16)}`));
    const findings = run(tracker, [
      big(0xfffffffffffffff0n),
      big(0xfffffffffffffff1n),
      big(0xfffffffffffffff5n),
    ]);
    assert.equal(findings.length, 1);
    assert.ok(findings[0]?.kind === 'gap');
    assert.equal(findings[0].expected, '0xfffffffffffffff2');
    assert.equal(findings[0].missing, '3');
  });

  it('forgets a retired stream: no state kept, and its return is a first record again', () => {
    const tracker = new IntegrityTracker();
    assert.deepEqual(run(tracker, [rec(0), rec(1)]), []);
    tracker.forget(KEY);
    assert.equal(tracker.snapshot(KEY), undefined);
    assert.deepEqual(run(tracker, [rec(7)]), [], 'no gap against forgotten state');
  });

  it('round-trips snapshot/restore through JSON and keeps detecting after a restart', () => {
    const first = new IntegrityTracker();
    assert.deepEqual(run(first, [rec(0), rec(1), rec(2)]), []);
    const state = first.snapshot(KEY);
    assert.ok(state);
    const persisted = JSON.parse(JSON.stringify(state)) as typeof state;
    assert.deepEqual(persisted, state);

    const second = new IntegrityTracker();
    second.restore(KEY, persisted);
    assert.deepEqual(second.snapshot(KEY), state);
    const findings = run(second, [rec(2), rec(2, 0x107, 'eve'), rec(3), rec(9)]);
    assert.deepEqual(
      findings.map((f) => f.kind),
      ['duplicate', 'conflicting_duplicate', 'gap'],
    );
    assert.equal(second.snapshot('nope'), undefined);
    assert.throws(() => {
      second.restore(KEY, { rebootCounter: 'x', lastSequence: '0x1', recent: [] });
    }, TypeError);
  });

  it('bounds the duplicate window', () => {
    const tracker = new IntegrityTracker({ windowSize: 2 });
    const findings = run(tracker, [rec(0), rec(1), rec(2), rec(3), rec(1)]);
    assert.deepEqual(
      findings.map((f) => f.kind === 'regression' && f.reason),
      ['sequence_decreased'],
    );
    assert.equal(tracker.snapshot(KEY)?.recent.length, 2);
  });
});

describe('findingToEvent', () => {
  it('turns every finding kind into a valid, deterministic Detection Finding', () => {
    const tracker = new IntegrityTracker();
    const records = [rec(0), rec(4), rec(4), rec(4, 0x107, 'x'), rec(0, 0x109), rec(0, 0x100)];
    const events = records.flatMap((r) =>
      tracker.observe(r, parseRecord(r.message)).map((f) => findingToEvent(f, r, CONTEXT)),
    );
    assert.deepEqual(
      events.map((e) => e.metadata.event_code),
      [
        'integrity_gap',
        'integrity_duplicate',
        'integrity_conflicting_duplicate',
        'integrity_reboot',
        'integrity_regression',
      ],
    );
    for (const event of events) {
      assertValidOcsf(event);
      assert.equal(event.class_uid, 2004);
      assert.equal(event.type_uid, 200401);
      assert.equal(event.finding_info?.uid, event.metadata.uid);
      assert.match(event.metadata.uid, /^hsm-abcde123456:0x[0-9a-f]+:0x[0-9a-f]+:integrity:/);
      assert.equal(event.device?.uid, HSM_STREAM);
    }
    const gap = events[0];
    assert.equal(gap?.metadata.uid, 'hsm-abcde123456:0x107:0x4:integrity:gap');
    assert.equal(gap.severity_id, 4);
    assert.equal(gap.unmapped.cloudhsm.missing_count, '3');
    assert.equal(
      gap.message,
      'Sequence gap on hsm-abcde123456 (reboot counter 0x107): expected 0x1, got 0x4 (3 record(s) missing)',
    );
    assert.equal(events[1]?.severity_id, 1);
    // Same input → same event.
    const again = new IntegrityTracker();
    again.observe(records[0] as SourceRecord, parseRecord((records[0] as SourceRecord).message));
    const r1 = records[1] as SourceRecord;
    const [finding] = again.observe(r1, parseRecord(r1.message));
    assert.ok(finding);
    assert.deepEqual(findingToEvent(finding, r1, CONTEXT), gap);
  });
});
