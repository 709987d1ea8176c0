// Every event is a tree of its own: no object is shared with another event and none is frozen.
// Shared or frozen parts take JSON.stringify off V8's fast path (README "Performance"), and a consumer that
// changes one event must never change another. The chain is the pipeline's own: parse →
// normalize → enrich → actor inference, plus integrity findings (src/pipeline/transform-batch.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ActorInference } from '../../../src/transform/actor-inference.js';
import { enrichEvent } from '../../../src/transform/enrich.js';
import { IntegrityTracker, findingToEvent } from '../../../src/transform/integrity.js';
import { normalize, toOcsfEvent } from '../../../src/transform/normalize.js';
import type { OcsfEvent } from '../../../src/transform/normalize.js';
import { parseRecord } from '../../../src/transform/parse.js';
import type { SourceRecord } from '../../../src/transform/source-record.js';
import { record as auditRecord, snapshot } from '../enrichment/support.js';
import {
  CONTEXT,
  HSM_STREAM,
  hsmRecord,
  readSample,
  sampleNames,
  sampleRecord,
} from './fixtures.js';

const LOGIN = readSample('aws-doc-login-co-admin.txt');

/** The events of `records` as the pipeline builds them, findings included. */
function pipelineEvents(records: SourceRecord[]): OcsfEvent[] {
  const tracker = new IntegrityTracker();
  const actors = new ActorInference();
  const snap = snapshot();
  const enrich = (event: OcsfEvent): OcsfEvent => enrichEvent(event, snap, { labels: { a: 'b' } });
  const out: OcsfEvent[] = [];
  for (const record of records) {
    const parsed = parseRecord(record.message);
    out.push(actors.observe(enrich(normalize(record, parsed, CONTEXT)), parsed));
    for (const finding of tracker.observe(record, parsed)) {
      out.push(enrich(findingToEvent(finding, record, CONTEXT, parsed)));
    }
  }
  return out;
}

function corpus(): SourceRecord[] {
  const records = sampleNames().map(sampleRecord);
  // One stream with a login, an inferred actor, a gap finding, and an unparseable record.
  for (const spec of [
    { seq: 0, opcode: 'CN_LOGIN', opcodeHex: '0xd', user: 'admin' },
    { seq: 1, opcode: 'CN_CREATE_USER', opcodeHex: '0x3', user: 'bob' },
    { seq: 4, opcode: 'CN_GENERATE_KEY', opcodeHex: '0x17', keyHandle: '7' },
  ]) {
    records.push(auditRecord({ ...spec, hsmId: 'hsm-chain0000001' }));
  }
  records.push(hsmRecord('garbage'), hsmRecord('{"broken":'));
  return records;
}

/** Every object and array reachable from `value`. */
function objectsOf(value: unknown, into: object[] = []): object[] {
  if (typeof value === 'object' && value !== null) {
    into.push(value);
    for (const child of Object.values(value)) objectsOf(child, into);
  }
  return into;
}

describe('events are independent of each other', () => {
  it('shares no object between two events and freezes none', () => {
    const events = pipelineEvents(corpus());
    assert.ok(
      events.some((e) => e.class_uid === 2004),
      'the corpus yields a finding',
    );
    assert.ok(
      events.some((e) => e.actor?.user?.name === 'admin'),
      'and an inferred actor',
    );
    const owner = new Map<object, number>();
    events.forEach((event, i) => {
      for (const part of objectsOf(event)) {
        assert.ok(!Object.isFrozen(part), `event ${i} holds a frozen part`);
        const first = owner.get(part);
        assert.ok(
          first === undefined || first === i,
          `events ${first} and ${i} share ${JSON.stringify(part).slice(0, 80)}`,
        );
        owner.set(part, i);
      }
    });
  });

  it('leaves every other event unchanged when one event is mutated throughout', () => {
    const events = pipelineEvents(corpus());
    const before = events.map((e) => JSON.stringify(e));
    const victim = events[events.length - 3] as OcsfEvent;
    for (const part of objectsOf(victim)) {
      if (Array.isArray(part)) part.push('mutated');
      else (part as Record<string, unknown>).mutated = true;
      for (const key of Object.keys(part)) {
        const value = (part as Record<string, unknown>)[key];
        if (typeof value === 'string') (part as Record<string, unknown>)[key] = `${value}!`;
      }
    }
    events.forEach((event, i) => {
      if (event !== victim) assert.equal(JSON.stringify(event), before[i], `event ${i} changed`);
    });
    assert.notEqual(JSON.stringify(victim), before[events.length - 3]);
  });
});

describe('normalize: per-event parts', () => {
  it('keeps streams, regions and accounts apart', () => {
    const base = toOcsfEvent(hsmRecord(LOGIN), CONTEXT);
    const other = toOcsfEvent(hsmRecord(LOGIN, { logStream: 'hsm-other1234567' }), CONTEXT);
    assert.equal(other.device?.uid, 'hsm-other1234567');
    const otherGroup = toOcsfEvent(
      hsmRecord(LOGIN, { logGroup: '/aws/cloudhsm/cluster-other' }),
      CONTEXT,
    );
    assert.equal(otherGroup.device?.groups[0]?.uid, 'cluster-other');
    assert.equal(base.device?.groups[0]?.uid, 'cluster-likphkxygsn');
    assert.equal(base.device?.uid, HSM_STREAM);

    const west = toOcsfEvent(hsmRecord(LOGIN), { region: 'eu-west-1', accountId: '444455556666' });
    assert.equal(west.device?.region, 'eu-west-1');
    assert.equal(west.cloud.region, 'eu-west-1');
    assert.equal(west.cloud.account?.uid, '444455556666');
    const none = toOcsfEvent(hsmRecord(LOGIN), {});
    assert.equal(none.device?.region, undefined);
    assert.deepEqual(none.cloud, { provider: 'AWS' });
    assert.equal(base.device?.region, 'us-east-1');
  });

  it('follows a context object that changes after its first use', () => {
    const context = { region: 'us-east-1', accountId: '111122223333' };
    assert.equal(toOcsfEvent(hsmRecord(LOGIN), context).cloud.account?.uid, '111122223333');
    context.accountId = '999988887777';
    context.region = 'ap-south-1';
    const event = toOcsfEvent(hsmRecord(LOGIN), context);
    assert.equal(event.cloud.account?.uid, '999988887777');
    assert.equal(event.cloud.region, 'ap-south-1');
    assert.equal(event.device?.region, 'ap-south-1');
  });
});
