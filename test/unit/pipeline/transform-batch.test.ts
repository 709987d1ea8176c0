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
});
