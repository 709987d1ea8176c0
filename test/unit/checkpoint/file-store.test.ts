import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  CHECKPOINT_VERSION,
  type CheckpointRecord,
} from '../../../src/checkpoint/checkpoint-store.js';
import {
  checkpointFileName,
  FileCheckpointStore,
  resetCheckpoints,
} from '../../../src/checkpoint/file-store.js';
import type { StreamRef } from '../../../src/util/identity.js';
import { ForwarderError } from '../../../src/util/errors.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-test-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function record(stream: StreamRef, ts: number): CheckpointRecord {
  return {
    version: CHECKPOINT_VERSION,
    ...TEST_SCOPE,
    ...stream,
    nextForwardToken: `f/${ts}`,
    tokenStartTime: null,
    lastEventTimestamp: ts,
    lastIngestionTime: ts + 5,
    hashesAtLastTimestamp: ['abc'],
    rebootCounter: '0x107',
    lastSequence: '0x1f',
    transformState: {
      integrity: { rebootCounter: '0x107', lastSequence: '0x1f', recent: [['0x1f', 'abc']] },
    },
    updatedAt: new Date(ts).toISOString(),
    streamCreationTime: null,
  };
}

const S1: StreamRef = { logGroup: '/aws/cloudhsm/cluster-abc', logStream: 'hsm-111' };
const S2: StreamRef = { logGroup: '/aws/cloudhsm/cluster-abc', logStream: 'cluster-abc' };

describe('FileCheckpointStore', () => {
  it('round-trips records, one file per stream', async () => {
    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir: await tempDir() });
    await store.open();
    assert.equal(await store.load(S1), undefined);
    await store.save(record(S1, 1000));
    await store.save(record(S1, 2000));
    await store.save(record(S2, 3000));
    assert.deepEqual(await store.load(S1), record(S1, 2000));
    const all = await store.loadAll();
    assert.equal(all.length, 2);
    assert.equal((await readdir(store.dir)).length, 2);
  });

  it('reads a version 1 checkpoint written by 5fc4ace and writes it back as version 2', async () => {
    const dir = await tempDir();
    // Byte for byte what 5fc4ace's FileCheckpointStore wrote (JSON.stringify(record, null, 2)),
    // under the file name it used; `integrity` held the pipeline's transform state.
    const v1 = `{
  "version": 1,
  "logGroup": "/aws/cloudhsm/cluster-abc",
  "logStream": "hsm-111",
  "nextForwardToken": "f/00000000000000000000000000000000000000000000000000000042",
  "tokenStartTime": 1700000000000,
  "lastEventTimestamp": 1700000005000,
  "lastIngestionTime": 1700000005300,
  "hashesAtLastTimestamp": [
    "3f1c0e6d2b9a8e7f6a5b4c3d2e1f0a9b"
  ],
  "rebootCounter": "0x107",
  "lastSequence": "0x2a",
  "integrity": {
    "integrity": {
      "rebootCounter": "0x107",
      "lastSequence": "0x2a",
      "recent": [
        [
          "0x29",
          "9b8a7c6d5e4f3a2b"
        ],
        [
          "0x2a",
          "1a2b3c4d5e6f7a8b"
        ]
      ]
    },
    "actor": {
      "rebootCounter": "0x107",
      "lastSequence": "0x2a",
      "complete": true,
      "logins": [
        {
          "name": "admin",
          "typeId": 2,
          "type": "Admin",
          "session": "0x3",
          "sequence": "0x21"
        }
      ]
    }
  },
  "updatedAt": "2026-11-20T10:00:05.400Z"
}
`;
    await writeFile(join(dir, checkpointFileName(S1)), v1);
    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
    await store.open();
    const expected: CheckpointRecord = {
      version: CHECKPOINT_VERSION,
      ...TEST_SCOPE,
      ...S1,
      nextForwardToken: 'f/00000000000000000000000000000000000000000000000000000042',
      tokenStartTime: 1700000000000,
      lastEventTimestamp: 1700000005000,
      lastIngestionTime: 1700000005300,
      hashesAtLastTimestamp: ['3f1c0e6d2b9a8e7f6a5b4c3d2e1f0a9b'],
      rebootCounter: '0x107',
      lastSequence: '0x2a',
      transformState: {
        integrity: {
          rebootCounter: '0x107',
          lastSequence: '0x2a',
          recent: [
            ['0x29', '9b8a7c6d5e4f3a2b'],
            ['0x2a', '1a2b3c4d5e6f7a8b'],
          ],
        },
        actor: {
          rebootCounter: '0x107',
          lastSequence: '0x2a',
          complete: true,
          logins: [{ name: 'admin', typeId: 2, type: 'Admin', session: '0x3', sequence: '0x21' }],
        },
      },
      updatedAt: '2026-11-20T10:00:05.400Z',
      streamCreationTime: null,
    };
    assert.deepEqual(await store.load(S1), expected);
    assert.deepEqual(await store.loadAll(), [expected]);
    // The next commit replaces the file in place, as version 2 with the scope in its key.
    await store.save({ ...expected, updatedAt: '2026-11-27T00:00:00.000Z' });
    assert.deepEqual(await readdir(dir), [checkpointFileName(S1)]);
    const rewritten = JSON.parse(
      await readFile(join(dir, checkpointFileName(S1)), 'utf8'),
    ) as Record<string, unknown>;
    assert.equal(rewritten['version'], 2);
    assert.equal(rewritten['accountId'], TEST_SCOPE.accountId);
    assert.equal(rewritten['region'], TEST_SCOPE.region);
    assert.equal(rewritten['integrity'], undefined);
  });

  it('drops a transform state of an unknown shape instead of refusing to start', async () => {
    const dir = await tempDir();
    const { transformState: _state, ...rest } = record(S1, 1000);
    await writeFile(
      join(dir, checkpointFileName(S1)),
      JSON.stringify({ ...rest, version: 1, integrity: { gaps: 0, nested: [1, 'two', null] } }),
    );
    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
    assert.equal((await store.load(S1))?.transformState, null);
  });

  it('makes safe, unique, bounded file names', () => {
    const long = { logGroup: `/aws/cloudhsm/${'x'.repeat(500)}`, logStream: 'y'.repeat(500) };
    const name = checkpointFileName(long);
    assert.ok(Buffer.byteLength(name) < 255);
    assert.match(checkpointFileName(S1), /^[A-Za-z0-9._-]+\.json$/);
    assert.notEqual(
      checkpointFileName({ logGroup: 'a/b', logStream: 'c' }),
      checkpointFileName({ logGroup: 'a', logStream: 'b/c' }),
    );
    assert.ok(!checkpointFileName({ logGroup: '../..', logStream: '..' }).includes('/'));
  });

  it('reports a corrupt checkpoint with the file name and the reset hint', async () => {
    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir: await tempDir() });
    await store.open();
    await store.save(record(S1, 1000));
    const file = join(store.dir, checkpointFileName(S1));
    await writeFile(file, '{"version":1,"logGroup":"/aws/clo');
    for (const load of [() => store.load(S1), () => store.loadAll()]) {
      await assert.rejects(load(), (error: unknown) => {
        assert.ok(error instanceof ForwarderError);
        assert.equal(error.code, 'FWD_ERR_CHECKPOINT_CORRUPT');
        assert.ok(error.message.includes(file), error.message);
        assert.ok(error.message.includes('--reset-checkpoints'), error.message);
        return true;
      });
    }
    await writeFile(file, JSON.stringify({ ...record(S1, 1), lastEventTimestamp: 'soon' }));
    await assert.rejects(store.load(S1), /lastEventTimestamp/);
    await writeFile(file, JSON.stringify({ ...record(S1, 1), version: 99 }));
    await assert.rejects(store.load(S1), /unsupported version/);
  });

  it('ignores leftover temp files and removes them on open', async () => {
    const dir = await tempDir();
    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
    await store.open();
    await store.save(record(S1, 1000));
    await writeFile(join(dir, `.tmp-999-abcdef-${checkpointFileName(S1)}`), '{"torn');
    assert.equal((await store.loadAll()).length, 1);
    await new FileCheckpointStore({ scope: TEST_SCOPE, dir }).open();
    assert.deepEqual(await readdir(dir), [checkpointFileName(S1)]);
  });

  it('resets only the named streams, or all', async () => {
    const dir = await tempDir();
    const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
    await store.open();
    await store.save(record(S1, 1000));
    await store.save(record(S2, 1000));
    await writeFile(join(dir, checkpointFileName(S2)), 'garbage'); // reset works on corrupt files
    assert.equal(await store.reset([S2]), 1);
    assert.deepEqual(
      (await store.loadAll()).map((r) => r.logStream),
      [S1.logStream],
    );
    await store.save(record(S2, 1000));
    assert.equal(await resetCheckpoints(dir), 2);
    assert.equal((await store.loadAll()).length, 0);
    assert.equal(await resetCheckpoints(join(dir, 'missing')), 0);
  });

  it('survives SIGKILL at random instants: every checkpoint always parses', async () => {
    const dir = await tempDir();
    const worker = fileURLToPath(new URL('./support/write-loop.ts', import.meta.url));
    let previous = new Map<string, number>();
    for (let round = 0; round < 8; round += 1) {
      const child = spawn(process.execPath, ['--import', 'tsx', worker, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 150));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
      const records = await store.loadAll(); // throws if any file were torn
      assert.equal(records.length, 3);
      for (const r of records) {
        // a checkpoint never goes backwards across crashes
        assert.ok((r.lastEventTimestamp ?? 0) >= (previous.get(r.logStream) ?? 0));
        assert.equal(r.hashesAtLastTimestamp.length, 200);
      }
      previous = new Map(records.map((r) => [r.logStream, r.lastEventTimestamp ?? 0]));
      await store.open(); // cleans temp files a kill may have left
      assert.ok((await readdir(dir)).every((name) => !name.startsWith('.')));
    }
  });
});
