// normalize's speed-ups: one deep-frozen `device`, `cloud` and product per stream/context instead
// of one per event, and a bulk copy of the source fields into `unmapped.cloudhsm`. These tests
// pin what the speed-ups must not change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { enrichEvent } from '../../../src/transform/enrich.js';
import { snapshot } from '../enrichment/support.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import { CONTEXT, HSM_STREAM, hsmRecord, readSample } from './fixtures.js';

const LOGIN = readSample('aws-doc-login-co-admin.txt');

describe('normalize: parts shared between events', () => {
  it('gives the events of one stream the same frozen device, cloud and product', () => {
    const a = toOcsfEvent(hsmRecord(LOGIN), CONTEXT);
    const b = toOcsfEvent(hsmRecord(LOGIN.replace('0x0', '0x1')), CONTEXT);
    assert.equal(a.device, b.device);
    assert.equal(a.cloud, b.cloud);
    assert.equal(a.metadata.product, b.metadata.product);
    for (const part of [
      a.device,
      a.device?.groups[0],
      a.cloud,
      a.cloud.account,
      a.metadata.product,
    ]) {
      assert.ok(Object.isFrozen(part));
    }
    assert.throws(() => {
      (a.device as { name: string }).name = 'changed';
    }, TypeError);
    assert.equal(b.device?.name, HSM_STREAM);
  });

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

  it('lets enrichment change its copy without touching the shared parts', () => {
    const event = toOcsfEvent(hsmRecord(LOGIN), CONTEXT);
    const before = JSON.stringify(event);
    const enriched = enrichEvent(event, snapshot(), { labels: { team: 'payments' } });
    assert.equal((enriched.device as { zone?: string } | undefined)?.zone, 'us-east-1a');
    assert.notEqual(enriched.device, event.device);
    assert.equal(JSON.stringify(event), before);
    assert.equal(JSON.stringify(toOcsfEvent(hsmRecord(LOGIN), CONTEXT)), before);
  });
});

describe('normalize: unmapped.cloudhsm', () => {
  it('lists the source fields in the order the record printed them, after the fixed four', () => {
    const message = [
      'Time: 01/24/18 17:44:25.013218, usecs:1516815865013218',
      'Opcode : CN_LOGIN (0xd)',
      'Sequence No : 0x1a',
      'User Name : crypto_user',
      'Reboot counter : 0x107',
      'Response : 0:HSM Return: SUCCESS',
    ].join('\n');
    const event = toOcsfEvent(hsmRecord(message), CONTEXT);
    assert.deepEqual(Object.keys(event.unmapped.cloudhsm).slice(0, 9), [
      'cluster_id',
      'hsm_id',
      'time',
      'time_usecs',
      'opcode',
      'sequence_no',
      'user_name',
      'reboot_counter',
      'response',
    ]);
  });
});
