// Worker process for the crash test: runs the source with a sink that appends every delivered
// record to a file (fsync) BEFORE acknowledging, and a commit line after the checkpoint is durable.
//   node --import tsx source-worker.ts <logGroupPrefix> <checkpointDir> <outputFile>
// Lines: "D <group> <stream> <index>" per delivered record, "C <group> <stream> <index>" after
// the ack of a batch whose last record has that index resolved.
import { open } from 'node:fs/promises';

import { FileCheckpointStore } from '../../../../src/checkpoint/file-store.js';
import type { Batch } from '../../../../src/source/batch.js';
import { SdkCloudWatchPort } from '../../../../src/source/cloudwatch-port.js';
import { CloudWatchSource } from '../../../../src/source/cloudwatch-source.js';
import { client } from './aws.js';
import { TEST_SCOPE } from '../../../helpers/checkpoint-scope.js';

const [prefix, dir, output] = process.argv.slice(2);
if (prefix === undefined || dir === undefined || output === undefined) {
  throw new Error('usage: source-worker.ts <prefix> <checkpointDir> <outputFile>');
}

/** Record index within its stream: HSM sequence number, or `cert-<n>` label of JSON records. */
function indexOf(message: string): number {
  const hsm = /Sequence No : 0x([0-9a-f]+)/.exec(message);
  if (hsm?.[1] !== undefined) return parseInt(hsm[1], 16);
  const cert = /"label":"cert-(\d+)"/.exec(message);
  if (cert?.[1] !== undefined) return Number(cert[1]);
  throw new Error(`unrecognised record ${message.slice(0, 80)}`);
}

const file = await open(output, 'a');
let writing = Promise.resolve();
function append(text: string): Promise<void> {
  writing = writing.then(async () => {
    await file.write(text);
    await file.sync();
  });
  return writing;
}

const cwl = client();
const source = new CloudWatchSource({
  port: new SdkCloudWatchPort(cwl),
  checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir }),
  discovery: { logGroupPrefixes: [prefix], intervalMs: 500 },
  polling: { pageLimit: 9 },
  scheduling: { minIdleMs: 30 },
  rateLimits: { GetLogEvents: { ratePerSecond: 100 }, DescribeLogStreams: { ratePerSecond: 20 } },
});

const handler = (batch: Batch): void => {
  const { logGroup, logStream } = batch.stream;
  const lines = batch.events.map((e) => `D ${logGroup} ${logStream} ${indexOf(e.message)}\n`);
  const last = indexOf(batch.events.at(-1)?.message ?? '');
  void (async () => {
    await append(lines.join(''));
    // Random sink latency so that acks complete out of order across batches.
    await new Promise((r) => setTimeout(r, Math.random() * 30));
    await source.ack(batch);
    await append(`C ${logGroup} ${logStream} ${last}\n`);
  })();
};

process.on('SIGTERM', () => {
  void (async () => {
    await source.stop();
    await source.whenAllAcked();
    await source.flush();
    await writing;
    await file.close();
    cwl.destroy();
    process.exit(0);
  })();
});

await source.start(handler);
process.stdout.write('ready\n');
