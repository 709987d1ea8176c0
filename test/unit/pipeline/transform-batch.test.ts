// transformBatch is the pipeline's pure chain (parse → normalize → enrich → actor inference,
// plus integrity findings). Actor inference reads the sequence, reboot counter and session from
// the parsed record the batch hands it, not from the event's `unmapped` (which no longer copies
// them); this pins that wiring on serialized output, as the sinks see it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Batch } from '../../../src/source/batch.js';
import { transformBatch } from '../../../src/pipeline/transform-batch.js';
import { ACTOR_INFERRED, ActorInference } from '../../../src/transform/actor-inference.js';
import { labelsOf } from '../../../src/transform/enrich.js';
import { IntegrityTracker } from '../../../src/transform/integrity.js';
import type { OcsfEvent } from '../../../src/transform/ocsf-event.js';
import { RecentRecords } from '../../../src/transform/recent-records.js';
import { auditText, CLUSTER_ID, HSM_ID, LOG_GROUP, T0 } from '../enrichment/support.js';

function batch(specs: Array<Parameters<typeof auditText>[0]>): Batch {
  return {
    id: `${LOG_GROUP}|${HSM_ID}#1`,
    stream: { logGroup: LOG_GROUP, logStream: HSM_ID },
    seq: 1,
    events: specs.map((spec) => ({
      timestamp: T0 + spec.seq,
      ingestionTime: T0 + spec.seq + 1,
      message: auditText(spec),
    })),
    fromToken: undefined,
    toToken: 'f/1',
    readAt: T0,
    // Where the source would resume; transformBatch does not read it.
    resume: {
      nextForwardToken: 'f/1',
      tokenStartTime: null,
      lastEventTimestamp: null,
      lastIngestionTime: null,
      hashesAtLastTimestamp: [],
      rebootCounter: null,
      lastSequence: null,
    },
  };
}

describe('transformBatch', () => {
  it('infers the actor from the parsed records and reports a gap as its own event', () => {
    const out = transformBatch(
      batch([
        { seq: 0, opcode: 'CN_LOGIN', opcodeHex: '0xd', user: 'admin' },
        { seq: 1, opcode: 'CN_CREATE_USER', opcodeHex: '0x3', user: 'bob' },
        { seq: 3, opcode: 'CN_GENERATE_KEY', opcodeHex: '0x17', keyHandle: '7' },
      ]),
      { integrity: new IntegrityTracker(), actors: new ActorInference() },
      { region: 'us-east-1' },
    );
    const events = out.events.map((e) => JSON.parse(e.json) as OcsfEvent);
    assert.deepEqual(
      events.map((e) => e.metadata.event_code),
      ['CN_LOGIN', 'CN_CREATE_USER', 'CN_GENERATE_KEY', 'integrity_gap'],
    );
    const created = events[1];
    assert.equal(created?.actor?.user?.name, 'admin');
    assert.ok(labelsOf(created).includes(ACTOR_INFERRED));
    assert.equal(created.unmapped.cloudhsm.actor_login_session_handle, '0x7014006');
    assert.equal(created.unmapped.cloudhsm.sequence_no, undefined, 'in metadata.sequence');
    // The gap makes the history incomplete: no inference for the key after it.
    assert.equal(events[2]?.actor?.user, undefined);
    assert.equal(events[3]?.device?.groups[0]?.uid, CLUSTER_ID);
    assert.deepEqual(out.findings, { gap: 1 });
  });

  it('delivers from a re-read only what the forward reader missed, and reports an expired gap', () => {
    const CONTEXT = {};
    const integrity = new IntegrityTracker({ repairWindowMs: 10_000 });
    const login = (seq: number) => ({ seq, opcode: 'CN_LOGIN', opcodeHex: '0xd', user: 'admin' });
    const forward = transformBatch(
      batch([1, 2, 4, 6].map(login)),
      { integrity },
      CONTEXT,
      undefined,
      T0,
    );
    assert.deepEqual(forward.findings, {}, 'gaps pending, not reported');
    assert.equal(forward.repairs.length, 2);
    // The re-read finds 1..5: only 3 was missing (and 5 is still missing).
    const replay: Batch = { ...batch([1, 2, 3, 4].map(login)), replay: true };
    const repaired = transformBatch(replay, { integrity }, CONTEXT, undefined, T0 + 1000);
    assert.deepEqual(
      repaired.events.map((e) => e.uid),
      [`${HSM_ID}:0x107:0x3`],
      'the delivered records are dropped, the missing one delivered',
    );
    assert.equal(repaired.replayDuplicates, 3);
    assert.equal(repaired.repaired, 1);
    // An empty re-read page after the window: the gap of 5 is reported then.
    const late = transformBatch(
      { ...batch([]), replay: true },
      { integrity },
      CONTEXT,
      undefined,
      T0 + 10_000,
    );
    assert.deepEqual(late.findings, { gap: 1 });
    assert.equal(late.events.length, 1);
    assert.deepEqual(late.unrepaired, { gaps: 1, missing: 1 }, 'for the pipeline to log');
    assert.deepEqual(repaired.unrepaired, { gaps: 0, missing: 0 });
  });

  it('delivers from a look-back only the records of a stream without sequence numbers it has not delivered', () => {
    const recent = new RecentRecords(60_000);
    const integrity = new IntegrityTracker();
    const cert = (t: number) => ({
      timestamp: t,
      ingestionTime: t,
      message: `{"object_handle": 1, "op_code": "CreateObject", "response": "Success", "attributes": null, "timestamp": ${t}}`,
    });
    const stream = { logGroup: LOG_GROUP, logStream: CLUSTER_ID };
    const base = { ...batch([]), stream };
    transformBatch(
      { ...base, events: [cert(T0), cert(T0 + 2)] },
      { integrity, recent },
      {},
      undefined,
      T0 + 5,
    );
    const look = transformBatch(
      { ...base, events: [cert(T0), cert(T0 + 1), cert(T0 + 2)], replay: true },
      { integrity, recent },
      {},
      undefined,
      T0 + 10,
    );
    assert.equal(look.events.length, 1, 'only the late record');
    assert.equal(look.replayDuplicates, 2);
  });
});
