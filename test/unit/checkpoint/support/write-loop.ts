// Child process for the crash-safety test: rewrites checkpoints as fast as it can until killed.
import { FileCheckpointStore } from '../../../../src/checkpoint/file-store.js';
import {
  CHECKPOINT_VERSION,
  type CheckpointRecord,
} from '../../../../src/checkpoint/checkpoint-store.js';
import { TEST_SCOPE } from '../../../helpers/checkpoint-scope.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: write-loop.ts <dir>');
const store = new FileCheckpointStore({ scope: TEST_SCOPE, dir });
await store.open();
const streams = ['hsm-aaaaaaa', 'hsm-bbbbbbb', 'cluster-xyz'].map((logStream) => ({
  logGroup: '/aws/cloudhsm/cluster-crash',
  logStream,
}));
const start: Record<string, number> = {};
for (const record of await store.loadAll())
  start[record.logStream] = record.lastEventTimestamp ?? 0;

let n = 0;
for (;;) {
  n += 1;
  for (const stream of streams) {
    const ts = (start[stream.logStream] ?? 0) + n;
    const record: CheckpointRecord = {
      version: CHECKPOINT_VERSION,
      ...TEST_SCOPE,
      ...stream,
      nextForwardToken: `f/${String(ts).padStart(56, '0')}`,
      tokenStartTime: null,
      lastEventTimestamp: ts,
      lastIngestionTime: ts,
      // A large body makes a torn write likely if the store were not atomic.
      hashesAtLastTimestamp: Array.from({ length: 200 }, (_, i) => `${ts}-${i}`.padEnd(32, 'x')),
      rebootCounter: '0x107',
      lastSequence: `0x${ts.toString(16)}`,
      transformState: {
        integrity: { rebootCounter: '0x107', lastSequence: `0x${ts.toString(16)}`, recent: [] },
      },
      updatedAt: new Date().toISOString(),
      streamCreationTime: null,
    };
    await store.save(record);
  }
  if (n === 1) process.stdout.write('ready\n');
}
