/**
 * Writes simulated streams into CloudWatch Logs (the emulator in tests and the demo): creates the
 * groups and streams, then puts events in batches that respect PutLogEvents limits
 * (10,000 events, ~1 MiB per call, chronological order).
 */
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

import type { SimulatedRecord, SimulatedStream } from './fleet.js';

const MAX_EVENTS = 10_000;
const MAX_BYTES = 900_000;

async function ignoreExisting(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
}

export async function ensureStream(
  client: CloudWatchLogsClient,
  logGroupName: string,
  logStreamName: string,
): Promise<void> {
  await ignoreExisting(client.send(new CreateLogGroupCommand({ logGroupName })));
  await ignoreExisting(client.send(new CreateLogStreamCommand({ logGroupName, logStreamName })));
}

export async function putRecords(
  client: CloudWatchLogsClient,
  logGroupName: string,
  logStreamName: string,
  records: readonly SimulatedRecord[],
): Promise<void> {
  let batch: SimulatedRecord[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await client.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: batch }));
    batch = [];
    bytes = 0;
  };
  for (const record of records) {
    const size = record.message.length + 26;
    if (batch.length >= MAX_EVENTS || bytes + size > MAX_BYTES) await flush();
    batch.push(record);
    bytes += size;
  }
  await flush();
}

export async function writeStreams(
  client: CloudWatchLogsClient,
  streams: readonly SimulatedStream[],
): Promise<void> {
  for (const stream of streams) {
    await ensureStream(client, stream.logGroup, stream.logStream);
    await putRecords(client, stream.logGroup, stream.logStream, stream.records);
  }
}
