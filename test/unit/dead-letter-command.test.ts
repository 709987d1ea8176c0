import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { parseDeadLetterArgs } from '../../src/commands/dead-letter-command.js';
import {
  appendReplayLedger,
  readDeadLetterFile,
  readReplayLedger,
} from '../../src/sink/dead-letter-file.js';
import { UsageError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fwd-dlq-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (uid: string, time = '2026-11-20T09:00:00.000Z') =>
  JSON.stringify({
    time,
    sink: 'opensearch',
    kind: 'mapping_error',
    reason: 'x',
    uid,
    event: { time: 1, class_uid: 3002, metadata: { uid } },
  });

describe('parseDeadLetterArgs', () => {
  it('reads the subcommand and every option', () => {
    assert.deepEqual(
      parseDeadLetterArgs([
        'replay',
        '--from-file=/tmp/f',
        '--since',
        '2026-11-20T00:00:00Z',
        '--reason',
        'mapping_error',
        '--sink=both',
        '--dry-run',
      ]),
      {
        subcommand: 'replay',
        file: '/tmp/f',
        topic: false,
        since: Date.parse('2026-11-20T00:00:00Z'),
        reason: 'mapping_error',
        sink: 'both',
        dryRun: true,
      },
    );
    assert.deepEqual(parseDeadLetterArgs(['list']), {
      subcommand: 'list',
      topic: false,
      sink: 'own',
      dryRun: false,
    });
    assert.equal(parseDeadLetterArgs(['list', '--from-topic']).topic, true);
  });

  it('refuses what it cannot do, each a usage error', () => {
    for (const args of [
      [],
      ['purge'],
      ['replay', '--sink=elsewhere'],
      ['replay', '--since=yesterday'],
      ['list', '--dry-run'],
      ['replay', '--from-topic', '--from-file=/tmp/f'],
      ['replay', '--from-topic=x'],
    ]) {
      assert.throws(() => parseDeadLetterArgs(args), UsageError, args.join(' '));
    }
  });
});

describe('the dead-letter file and its replay ledger', () => {
  it('reads entries, counts other lines, and skips what the ledger holds', async () => {
    const file = join(dir, 'dlq.ndjson');
    writeFileSync(
      file,
      `${entry('a')}\nnot json\n{"half":\n${entry('b')}\n${entry('a', 'later')}\n`,
    );
    const read = await readDeadLetterFile(file);
    assert.equal(read.entries.length, 3, 'the same event dead-lettered twice is two entries');
    assert.equal(read.unreadable, 2);
    await appendReplayLedger(file, [read.entries[0]?.key ?? '']);
    const ledger = await readReplayLedger(file);
    assert.equal(ledger.size, 1);
    assert.ok(ledger.has(read.entries[0]?.key ?? ''));
    assert.ok(!ledger.has(read.entries[2]?.key ?? ''), 'keyed by time and sink too');
    assert.deepEqual((await readDeadLetterFile(join(dir, 'none.ndjson'))).entries, []);
  });
});
