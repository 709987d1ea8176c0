import { randomBytes } from 'node:crypto';

import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type CloudWatchLogsClient,
} from '@aws-sdk/client-cloudwatch-logs';

import { createCloudWatchClient } from '../../../../src/source/cloudwatch-port.js';

/** The emulator endpoint exported by the stack script; fail loudly without it. */
export function endpoint(): string {
  const url = process.env['AWS_ENDPOINT_URL'];
  if (url === undefined || url === '') {
    throw new Error(
      'AWS_ENDPOINT_URL is not set: start the local stack (npm run stack) or export ' +
        'AWS_ENDPOINT_URL=http://127.0.0.1:<moto port> AWS_REGION=us-east-1 ' +
        'AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test',
    );
  }
  return url;
}

export function client(): CloudWatchLogsClient {
  return createCloudWatchClient({
    endpoint: endpoint(),
    region: process.env['AWS_REGION'] ?? 'us-east-1',
  });
}

/** Unique, CloudHSM-looking group-name prefix so tests sharing the emulator never collide. */
export function uniquePrefix(): string {
  return `/aws/cloudhsm/cluster-${randomBytes(6).toString('hex')}`;
}

export function hsmRecord(sequence: number, reboot = 0x107, now = Date.now()): string {
  const d = new Date(now);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time =
    `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear() % 100)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.` +
    `${pad(d.getUTCMilliseconds(), 3)}000`;
  return [
    `Time: ${time}, usecs:${now * 1000}`,
    `Sequence No : 0x${sequence.toString(16)}`,
    `Reboot counter : 0x${reboot.toString(16)}`,
    'Command Type(hex) : CN_MGMT_CMD (0x0)',
    'Opcode : CN_CREATE_USER (0x3)',
    `Session Handle : 0x${(0x7014006 + sequence).toString(16)}`,
    'Response : 0:HSM Return: SUCCESS',
    'Log type : MGMT_USER_DETAILS_LOG (2)',
    `User Name : user${sequence}`,
    'User Type : CN_CRYPTO_USER (1)',
  ].join('\n');
}

export function certRecord(sequence: number, now = Date.now()): string {
  return JSON.stringify({
    object_handle: 262_000 + sequence,
    op_code: 1,
    response: 0,
    attributes: { label: `cert-${sequence}` },
    timestamp: now,
  });
}

/** Creates streams and appends numbered records; remembers what it wrote, per stream. */
export class Writer {
  readonly written = new Map<string, string[]>();
  private readonly cwl: CloudWatchLogsClient;
  private lastTs = 0;

  constructor(cwl: CloudWatchLogsClient) {
    this.cwl = cwl;
  }

  static key(logGroup: string, logStream: string): string {
    return `${logGroup} ${logStream}`;
  }

  async createGroup(logGroup: string): Promise<void> {
    await this.cwl.send(new CreateLogGroupCommand({ logGroupName: logGroup }));
  }

  async createStream(logGroup: string, logStream: string): Promise<void> {
    await this.cwl.send(
      new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: logStream }),
    );
    this.written.set(Writer.key(logGroup, logStream), []);
  }

  /** Appends `count` records (HSM text, or JSON for a stream not named `hsm-*`). */
  async append(logGroup: string, logStream: string, count: number): Promise<void> {
    const list = this.written.get(Writer.key(logGroup, logStream));
    if (list === undefined) throw new Error(`unknown stream ${logStream}`);
    const events = [];
    for (let i = 0; i < count; i += 1) {
      // Strictly increasing timestamps near now (moto rejects events older than 14 days).
      const ts = Math.max(Date.now(), this.lastTs + 1);
      this.lastTs = ts;
      const seq = list.length;
      const message = logStream.startsWith('hsm-')
        ? hsmRecord(seq, 0x107, ts)
        : certRecord(seq, ts);
      list.push(message);
      events.push({ timestamp: ts, message });
    }
    await this.cwl.send(
      new PutLogEventsCommand({
        logGroupName: logGroup,
        logStreamName: logStream,
        logEvents: events,
      }),
    );
  }

  total(): number {
    let n = 0;
    for (const list of this.written.values()) n += list.length;
    return n;
  }
}

export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
