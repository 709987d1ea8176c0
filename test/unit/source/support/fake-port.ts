import type {
  CloudWatchPort,
  DescribeLogGroupsInput,
  DescribeLogGroupsOutput,
  DescribeLogStreamsInput,
  DescribeLogStreamsOutput,
  GetLogEventsInput,
  GetLogEventsOutput,
} from '../../../../src/source/cloudwatch-port.js';
import type { RawEvent } from '../../../../src/source/batch.js';

export function awsError(name: string, status = 400): Error {
  const error = new Error(`${name}: scripted`) as Error & { $metadata: object };
  error.name = name;
  error.$metadata = { httpStatusCode: status };
  return error;
}

/** Returns a response or throws to override the default behaviour of one call; undefined = default. */
export type Interceptor = (input: GetLogEventsInput) => GetLogEventsOutput | undefined;

/**
 * In-memory CloudWatch Logs with API-like semantics: tokens are `t/<index>`, the end of a stream
 * returns the token that was sent, `startTime` seeks by timestamp, unknown tokens are rejected
 * with InvalidParameterException. Interceptors script what the emulator cannot do.
 */
export class FakeCloudWatch implements CloudWatchPort {
  readonly groups = new Map<string, Map<string, RawEvent[]>>();
  readonly calls: GetLogEventsInput[] = [];
  readonly describeCalls: string[] = [];
  interceptors: Interceptor[] = [];
  /** Page size cap independent of `limit` (to force multi-page reads). */
  maxPage = Number.POSITIVE_INFINITY;
  describePageSize = 2;
  private rejection: { readonly reason: unknown } | undefined;

  put(logGroup: string, logStream: string, ...events: RawEvent[]): void {
    let group = this.groups.get(logGroup);
    if (group === undefined) {
      group = new Map();
      this.groups.set(logGroup, group);
    }
    const stream = group.get(logStream) ?? [];
    stream.push(...events);
    stream.sort((a, b) => a.timestamp - b.timestamp);
    group.set(logStream, stream);
  }

  describeLogGroups(input: DescribeLogGroupsInput): Promise<DescribeLogGroupsOutput> {
    this.describeCalls.push(`groups:${input.logGroupNamePrefix ?? ''}:${input.nextToken ?? ''}`);
    const names = [...this.groups.keys()]
      .filter((g) => g.startsWith(input.logGroupNamePrefix ?? ''))
      .sort();
    return Promise.resolve(this.page(names, input.nextToken, 'logGroupNames'));
  }

  describeLogStreams(input: DescribeLogStreamsInput): Promise<DescribeLogStreamsOutput> {
    this.describeCalls.push(`streams:${input.logGroupName}:${input.nextToken ?? ''}`);
    const group = this.groups.get(input.logGroupName);
    if (group === undefined) return Promise.reject(awsError('ResourceNotFoundException'));
    return Promise.resolve(this.page([...group.keys()].sort(), input.nextToken, 'logStreamNames'));
  }

  getLogEvents(input: GetLogEventsInput): Promise<GetLogEventsOutput> {
    this.calls.push(input);
    try {
      for (const interceptor of this.interceptors) {
        const out = interceptor(input);
        if (out !== undefined) return Promise.resolve(out);
      }
      const rejection = this.rejection;
      if (rejection !== undefined) {
        this.rejection = undefined;
        return Promise.resolve().then(() => {
          throw rejection.reason;
        });
      }
      return Promise.resolve(this.defaultGet(input));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Makes the next GetLogEvents call that no interceptor answers reject with exactly `reason`,
   * which need not be an Error (interceptors can only throw, and thrown non-Errors are wrapped).
   */
  rejectNext(reason: unknown): void {
    this.rejection = { reason };
  }

  /** Adds an interceptor that is removed after it answered once. */
  once(interceptor: Interceptor): void {
    const wrapped: Interceptor = (input) => {
      const out = interceptor(input);
      if (out !== undefined) this.interceptors = this.interceptors.filter((i) => i !== wrapped);
      return out;
    };
    this.interceptors.push(wrapped);
  }

  private defaultGet(input: GetLogEventsInput): GetLogEventsOutput {
    if (input.startFromHead !== true) throw new Error('startFromHead must be true');
    const events = this.groups.get(input.logGroupName)?.get(input.logStreamName);
    if (events === undefined) throw awsError('ResourceNotFoundException');
    let start: number;
    if (input.nextToken !== undefined) {
      const match = /^t\/(\d+)$/.exec(input.nextToken);
      if (match === null) throw awsError('InvalidParameterException');
      start = Number(match[1]);
    } else {
      const startTime = input.startTime ?? Number.NEGATIVE_INFINITY;
      start = events.findIndex((e) => e.timestamp >= startTime);
      if (start < 0) start = events.length;
    }
    const limit = Math.min(input.limit ?? 10_000, this.maxPage);
    const page = events.slice(start, start + limit);
    return { events: page, nextForwardToken: `t/${start + page.length}` };
  }

  private page<K extends string>(
    all: string[],
    token: string | undefined,
    key: K,
  ): { [P in K]: string[] } & { nextToken: string | undefined } {
    const start = token === undefined ? 0 : Number(token);
    const end = start + this.describePageSize;
    return {
      [key]: all.slice(start, end),
      nextToken: end < all.length ? String(end) : undefined,
    } as { [P in K]: string[] } & { nextToken: string | undefined };
  }
}

/** A CloudHSM-looking text record (deterministic for a given sequence and reboot counter). */
export function hsmRecord(sequence: number, reboot = 0x107): string {
  return [
    'Time: 01/16/18 01:49:39.437708, usecs:1516067379437708',
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

export function event(timestamp: number, message: string): RawEvent {
  return { timestamp, ingestionTime: timestamp + 10, message };
}
