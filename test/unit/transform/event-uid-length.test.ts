import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';

const message = formatAuditRecord({
  usecs: 1_764_583_200_000_000n,
  sequence: 0x1fn,
  rebootCounter: 0x107,
  opcode: 'CN_FIND_OBJECTS_USING_COUNT',
  sessionHandle: 7,
});

function uid(logStream: string, text = message): string {
  const event = toOcsfEvent({
    logGroup: '/aws/cloudhsm/cluster-abc',
    logStream,
    timestamp: 1_764_583_200_000,
    message: text,
  });
  return event.metadata.uid;
}

describe('metadata.uid length', () => {
  it('leaves every uid that fits OpenSearch _id (512 bytes) as it was', () => {
    assert.equal(uid('hsm-abcdefghijk'), 'hsm-abcdefghijk:0x107:0x1f');
    const long = `stream-${'x'.repeat(450)}`; // 457 characters: its uid still fits
    assert.equal(uid(long), `${long}:0x107:0x1f`);
  });

  it('bounds a uid that would not fit, keeping it unique and stable', () => {
    // AWS allows 512-character stream names; these share their first 64 characters.
    const a = `${'s'.repeat(100)}-a-${'x'.repeat(400)}`;
    const b = `${'s'.repeat(100)}-b-${'x'.repeat(400)}`;
    for (const text of [message, '{"not":"an HSM record"}']) {
      const ua = uid(a, text);
      assert.ok(Buffer.byteLength(ua, 'utf8') <= 512, `${Buffer.byteLength(ua)} bytes`);
      assert.ok(ua.startsWith('s'.repeat(64) + '~'), ua);
      assert.notEqual(ua, uid(b, text), 'two names with the same head');
      assert.equal(ua, uid(a, text), 'the same record, the same uid');
    }
    const multibyte = 'é'.repeat(300); // 300 characters, 600 bytes
    assert.ok(Buffer.byteLength(uid(multibyte), 'utf8') <= 512);
  });
});
