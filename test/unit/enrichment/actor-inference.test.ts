import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ACTOR_INFERRED, ActorInference } from '../../../src/transform/actor-inference.js';
import { enrichEvent, labelsOf } from '../../../src/transform/enrich.js';
import type { OcsfEvent } from '../../../src/transform/ocsf-event.js';
import { parseRecord } from '../../../src/transform/parse.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import type { RecordSpec } from './support.js';
import { deepFreeze, event, snapshot } from './support.js';

const login = (seq: number, user: string, session = '0x7014006', extra: Partial<RecordSpec> = {}) =>
  event({ seq, opcode: 'CN_LOGIN', opcodeHex: '0xd', user, session, ...extra });
const logout = (seq: number, user: string, session = '0x7014000') =>
  event({ seq, opcode: 'CN_LOGOUT', opcodeHex: '0xe', user, session });
const createUser = (seq: number, target = 'bob', extra: Partial<RecordSpec> = {}) =>
  event({
    seq,
    opcode: 'CN_CREATE_USER',
    opcodeHex: '0x3',
    user: target,
    userType: 'CN_CRYPTO_USER (1)',
    ...extra,
  });
const generateKey = (seq: number, session = '0x7014006') =>
  event({ seq, opcode: 'CN_GENERATE_KEY', opcodeHex: '0x17', keyHandle: '131079', session });

/** Observes `event` with the record parsed from its own `raw_data`, as the pipeline does. */
function observe(inference: ActorInference, event: OcsfEvent): OcsfEvent {
  return inference.observe(event, parseRecord(event.raw_data ?? ''));
}

function run(inference: ActorInference, events: OcsfEvent[]): OcsfEvent[] {
  return events.map((e) => observe(inference, e));
}

describe('ActorInference', () => {
  it('infers the single logged-in user for account changes and key events, and marks it', () => {
    const out = run(new ActorInference(), [login(0, 'admin'), createUser(1), generateKey(2)]);
    const [, created, key] = out;
    assert.ok(created && key);
    assert.deepEqual(created.actor?.user, { name: 'admin', type_id: 2, type: 'Admin' });
    assert.equal(created.actor?.session?.uid, '0x7014006');
    assert.equal(created.user?.name, 'bob', 'the target stays the target');
    assert.ok(labelsOf(created).includes(ACTOR_INFERRED));
    assert.equal(created.unmapped.cloudhsm.actor_inference, 'single_active_login');
    assert.equal(created.unmapped.cloudhsm.actor_login_sequence_no, '0x0');
    assert.ok(
      created.observables?.some((o) => o.name === 'actor.user.name' && o.value === 'admin'),
    );
    assert.equal(key.actor?.user?.name, 'admin');
    assertValidOcsf(created);
    assertValidOcsf(key);
    // Labels from enrichment and the inference marker live side by side.
    const enriched = enrichEvent(created, snapshot());
    assert.deepEqual(labelsOf(enriched), [ACTOR_INFERRED, 'environment=prod', 'team=payments']);
    assertValidOcsf(enriched);
  });

  it('does not infer with overlapping sessions of two users', () => {
    const out = run(new ActorInference(), [
      login(0, 'admin'),
      login(1, 'alice', '0x8014001'),
      createUser(2),
      generateKey(3, '0x8014001'),
    ]);
    assert.equal(out[2]?.actor?.user, undefined);
    assert.equal(out[3]?.actor?.user, undefined);
    assert.ok(!labelsOf(out[2] as OcsfEvent).includes(ACTOR_INFERRED));
  });

  it('infers again once the other user logged out; a logout or session end clears', () => {
    const inference = new ActorInference();
    const out = run(inference, [
      login(0, 'admin'),
      login(1, 'alice', '0x8014001'),
      logout(2, 'alice'),
      createUser(3),
      logout(4, 'admin'),
      createUser(5, 'carol'),
      login(6, 'dave', '0x9000001'),
      event({ seq: 7, opcode: 'CN_APP_FINALIZE', session: '0x9000001' }),
      createUser(8, 'erin'),
      login(9, 'frank', '0xa000001'),
      event({ seq: 10, opcode: 'CN_CLOSE_SESSION', session: '0xffff' }),
      createUser(11, 'gina'),
    ]);
    assert.equal(out[3]?.actor?.user?.name, 'admin');
    assert.equal(out[5]?.actor?.user, undefined, 'nobody logged in');
    assert.equal(out[8]?.actor?.user, undefined, 'app finalize of the session ended it');
    assert.equal(out[11]?.actor?.user, undefined, 'an unmatched session end forgets everyone');
  });

  it('ignores failed logins and keeps a user after a failed logout', () => {
    const out = run(new ActorInference(), [
      login(0, 'admin'),
      login(1, 'mallory', '0x1', { response: '163:HSM Error: RET_USER_LOGIN_FAILURE' }),
      event({
        seq: 2,
        opcode: 'CN_LOGOUT',
        user: 'admin',
        response: '157:HSM Error: something',
      }),
      createUser(3),
    ]);
    assert.equal(out[3]?.actor?.user?.name, 'admin');
  });

  it('does not infer without complete history, after a gap, or across reboots', () => {
    const midStream = run(new ActorInference(), [login(5, 'admin'), createUser(6)]);
    assert.equal(midStream[1]?.actor?.user, undefined, 'epoch not seen from 0x0');
    const trusting = run(new ActorInference({ trustPartialHistory: true }), [
      login(5, 'admin'),
      createUser(6),
    ]);
    assert.equal(trusting[1]?.actor?.user?.name, 'admin');
    assert.equal(trusting[1]?.unmapped.cloudhsm.actor_inference, 'single_active_login_partial');

    const gap = run(new ActorInference(), [login(0, 'admin'), createUser(3)]);
    assert.equal(gap[1]?.actor?.user, undefined, 'records 1-2 missing');

    const reboot = run(new ActorInference(), [
      login(0, 'admin'),
      createUser(0, 'bob', { reboot: '0x108' }),
    ]);
    assert.equal(reboot[1]?.actor?.user, undefined, 'logins do not survive a reboot');
  });

  it('neither infers nor changes state for duplicates, and keeps streams apart', () => {
    const inference = new ActorInference();
    const out = run(inference, [
      login(0, 'admin'),
      createUser(1),
      createUser(1),
      login(0, 'zed', '0x1', { hsmId: 'hsm-other000000' }),
      login(1, 'yan', '0x2', { hsmId: 'hsm-other000000' }),
      createUser(2),
    ]);
    assert.equal(out[1]?.actor?.user?.name, 'admin');
    assert.equal(out[2]?.actor?.user, undefined, 'duplicate record');
    assert.equal(out[5]?.actor?.user?.name, 'admin', 'other HSM logins do not count');
  });

  it('never overrides an actor the record names and does not mutate its input', () => {
    const inference = new ActorInference();
    observe(inference, login(0, 'admin'));
    const input = deepFreeze(createUser(1));
    const copy = structuredClone(input);
    const out = observe(inference, input);
    assert.deepEqual(input, copy);
    assert.notEqual(out, input);
    const withActor: OcsfEvent = { ...createUser(2), actor: { user: { uid: '7' } } };
    assert.deepEqual(observe(inference, withActor).actor, { user: { uid: '7' } });
  });

  it('snapshots and restores its state as JSON', () => {
    const first = new ActorInference();
    run(first, [login(0, 'admin'), generateKey(1)]);
    const [key] = first.streamKeys();
    assert.ok(key);
    const state = first.snapshot(key);
    assert.ok(state);
    const json = JSON.parse(JSON.stringify(state)) as typeof state;
    assert.deepEqual(json, {
      rebootCounter: '0x107',
      lastSequence: '0x1',
      complete: true,
      logins: [{ name: 'admin', typeId: 2, type: 'Admin', session: '0x7014006', sequence: '0x0' }],
    });
    const second = new ActorInference();
    second.restore(key, json);
    assert.equal(observe(second, createUser(2)).actor?.user?.name, 'admin');
    assert.throws(() => second.restore(key, { ...json, lastSequence: 'zz' }), TypeError);
  });
});
