/**
 * The dead-letter file on a real filesystem (issue 13, defect 5): an append cut short leaves a
 * partial last line; the next append must start on a clean line, so that every line of the file
 * stays one parseable JSON entry. The interruption is simulated by writing the first half of an
 * entry's line, as an append stopped by a crash or a full disk leaves it.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { DeadLetter, toDeadLetterEntries } from '../../../src/sink/dead-letter.js';
import type { RejectedEvent } from '../../../src/sink/sink.js';
import type { ComponentLogger } from '../../../src/util/logger.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dlq-file-'));
  dirs.push(dir);
  return join(dir, 'a', 'b', 'dead-letter.ndjson');
}

const NOW = new Date('2026-11-26T00:00:00.000Z');

function rejected(i: number): RejectedEvent {
  const doc = { time: 1_700_000_000_000 + i, metadata: { uid: `hsm-x:0x1:0x${i.toString(16)}` } };
  return {
    event: {
      uid: doc.metadata.uid,
      key: 'hsm-x',
      time: doc.time,
      classUid: 3002,
      json: JSON.stringify(doc),
    },
    kind: 'mapping_error',
    detail: 'mapper_parsing_exception',
  };
}

/** The first half of the line the writer would append for `i`: an interrupted append. */
function tornLine(i: number): string {
  const line = JSON.stringify(toDeadLetterEntries('opensearch', [rejected(i)], NOW)[0]);
  return line.slice(0, Math.floor(line.length / 2));
}

async function uids(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  return text
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { uid: string }).uid);
}

describe('dead-letter file', () => {
  it('starts the next append on a clean line after an interrupted one', async () => {
    const file = await tempFile();
    const warnings: Record<string, unknown>[] = [];
    const logger: ComponentLogger = {
      debug: () => {},
      info: () => {},
      warn: (fields) => void warnings.push(fields),
      error: () => {},
    };
    const writer = new DeadLetter({ file, now: () => NOW, logger });
    await writer.start();
    assert.equal(await writer.write('opensearch', [rejected(1)]), 'file');
    await appendFile(file, tornLine(2));
    // The dispatcher retries the failed write: entry 2 again, then the next one.
    await writer.write('opensearch', [rejected(2)]);
    await writer.write('opensearch', [rejected(3)]);
    assert.deepEqual(await uids(file), ['hsm-x:0x1:0x1', 'hsm-x:0x1:0x2', 'hsm-x:0x1:0x3']);
    assert.deepEqual(warnings, [{ file, removedBytes: tornLine(2).length }]);
  });

  it('repairs a file that holds nothing but a partial line', async () => {
    const file = await tempFile();
    const writer = new DeadLetter({ file, now: () => NOW });
    await writer.start();
    await appendFile(file, tornLine(7));
    await writer.write('kafka', [rejected(7), rejected(8)]);
    assert.deepEqual(await uids(file), ['hsm-x:0x1:0x7', 'hsm-x:0x1:0x8']);
  });
});
