// Spawns the real CLI (through tsx) for the `parse` command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { OcsfEvent } from '../../../src/transform/normalize.js';
import { ACTOR_INFERRED } from '../../../src/transform/actor-inference.js';
import { labelsOf } from '../../../src/transform/enrich.js';
import { assertValidOcsf } from '../../helpers/ocsf-validator.js';
import { event as auditEvent } from '../enrichment/support.js';
import { readSample, SAMPLES_DIR, sampleNames } from './fixtures.js';

const ROOT = join(SAMPLES_DIR, '..', '..', '..');

function cli(args: string[], input?: string): { status: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'parse', ...args], {
    cwd: ROOT,
    input: input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

function events(out: string): OcsfEvent[] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OcsfEvent);
}

describe('parse command', () => {
  it('runs the transform chain of `run`: actor inference included', () => {
    // A login at sequence 0x0, then a key generated in that session: `run` names the actor.
    const login = auditEvent({ seq: 0, opcode: 'CN_LOGIN', opcodeHex: '0xd', user: 'admin' });
    const key = auditEvent({
      seq: 1,
      opcode: 'CN_GENERATE_KEY',
      opcodeHex: '0x17',
      keyHandle: '7',
    });
    const input = [login, key]
      .map((e, i) =>
        JSON.stringify({
          logGroupName: '/aws/cloudhsm/cluster-abc',
          logStreamName: 'hsm-abc',
          timestamp: 1_700_000_000_000 + i,
          message: e.raw_data,
        }),
      )
      .join('\n');
    const { status, out, err } = cli([], input);
    assert.equal(status, 0, err);
    const [, generated] = events(out);
    assert.equal(generated?.actor?.user?.name, 'admin');
    assert.ok(generated && labelsOf(generated).includes(ACTOR_INFERRED));
    assertValidOcsf(generated);
  });

  it('prints one valid event per FILE (plus integrity findings)', () => {
    const files = sampleNames().map((n) => join(SAMPLES_DIR, n));
    const { status, out, err } = cli(['--log-group', '/aws/cloudhsm/cluster-abc', ...files]);
    assert.equal(status, 0, err);
    const all = events(out);
    all.forEach(assertValidOcsf);
    const records = all.filter((e) => e.class_uid !== 2004);
    assert.equal(records.length, files.length);
    assert.deepEqual(
      records.map((e) => e.raw_data),
      sampleNames().map(readSample),
    );
    // The doc samples are not one coherent stream (docs/cloudhsm-audit-records.md), so findings appear.
    assert.ok(all.length > records.length);
    assert.ok(records.every((e) => e.metadata.log_name === '/aws/cloudhsm/cluster-abc'));
    const cert = records.find((e) => e.entity?.uid === '463180677312929947');
    assert.equal(cert?.metadata.log_name, '/aws/cloudhsm/cluster-abc');
    assert.equal(cert.unmapped.cloudhsm.log_stream, 'cluster-abc');
  });

  it('reads NDJSON CloudWatch events from stdin and flags bad lines', () => {
    const message = readSample('aws-doc-login-co-admin.txt');
    const lines = [
      JSON.stringify({
        logGroupName: '/aws/cloudhsm/cluster-abc',
        logStreamName: 'hsm-abcdefghijk',
        timestamp: 1516067330000,
        ingestionTime: 1516067331000,
        message,
        eventId: 'e-1',
      }),
      JSON.stringify({ timestamp: 1516067330001, ingestionTime: 1, message: '{"op_code":"X"}' }),
      'this is not json',
      '',
    ];
    const { status, out, err } = cli(['--log-stream', 'hsm-default12345'], lines.join('\n'));
    assert.equal(status, 0, err);
    const all = events(out);
    assert.equal(all.length, 3);
    all.forEach(assertValidOcsf);
    assert.equal(all[0]?.metadata.uid, 'hsm-abcdefghijk:0x107:0x0');
    assert.equal(all[0].unmapped.cloudhsm.cloudwatch_event_id, 'e-1');
    assert.equal(all[1]?.unmapped.cloudhsm.log_stream, 'hsm-default12345');
    assert.equal(all[2]?.raw_data, 'this is not json');
    assert.match(all[2].unmapped.cloudhsm.parse_error as string, /stdin line 3: invalid JSON/);
    assert.match(err, /stdin line 3/);
  });

  it('rejects unknown flags with exit status 2 and names the flag', () => {
    const { status, out, err } = cli(['--frobnicate', 'x']);
    assert.equal(status, 2);
    assert.equal(out, '');
    assert.match(err, /--frobnicate/);
  });

  it('exits 1 for an unreadable FILE but still prints the others', () => {
    const { status, out, err } = cli([
      join(SAMPLES_DIR, 'does-not-exist.txt'),
      join(SAMPLES_DIR, 'aws-doc-generate-key.txt'),
    ]);
    assert.equal(status, 1);
    assert.equal(events(out).length, 1);
    assert.match(err, /does-not-exist/);
  });
  it('reads several raw records from stdin, as CloudHSM writes them', () => {
    const login = readSample('aws-doc-login-co-admin.txt');
    const key = readSample('aws-doc-generate-key.txt');
    const { status, out, err } = cli([], `${login.trim()}\n${key.trim()}\n`);
    assert.equal(status, 0, err);
    const records = events(out).filter((e) => e.class_uid !== 2004);
    assert.deepEqual(
      records.map((e) => e.metadata.event_code),
      ['CN_LOGIN', 'CN_GENERATE_KEY'],
    );
    assert.ok(records.every((e) => e.unmapped.cloudhsm.parse_error === undefined));
  });

  for (const command of ['get-log-events', 'filter-log-events'] as const) {
    it(`reads the JSON that aws logs ${command} prints`, () => {
      const message = readSample('aws-doc-login-co-admin.txt');
      const event = {
        timestamp: 1516067330000,
        message,
        ingestionTime: 1516067331000,
        ...(command === 'filter-log-events'
          ? { logStreamName: 'hsm-abcdefghijk', eventId: 'e-7' }
          : {}),
      };
      const printed =
        command === 'get-log-events'
          ? { events: [event], nextForwardToken: 'f/1', nextBackwardToken: 'b/1' }
          : { events: [event], searchedLogStreams: [] };
      const { status, out, err } = cli(
        ['--log-group', '/aws/cloudhsm/cluster-abc'],
        JSON.stringify(printed, null, 4),
      );
      assert.equal(status, 0, err);
      const [first] = events(out);
      assert.equal(first?.metadata.event_code, 'CN_LOGIN');
      assert.equal(
        first.metadata.uid,
        `${command === 'filter-log-events' ? 'hsm-abcdefghijk' : 'hsm-unknown'}:0x107:0x0`,
      );
    });
  }

  it('exits 1 when nothing could be parsed, saying what it expects', () => {
    for (const input of ['', 'hello world\nnot an audit record\n', '{"events":[{"nope":1}]}']) {
      const { status, err } = cli([], input);
      assert.equal(status, 1, `input ${JSON.stringify(input)}`);
      assert.match(err, /nothing could be parsed.*get-log-events/);
    }
  });
});
