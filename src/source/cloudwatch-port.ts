import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';

import type { RawEvent } from './batch.js';
import { ForwarderError } from '../util/errors.js';

export interface DescribeLogGroupsInput {
  readonly logGroupNamePrefix?: string | undefined;
  readonly nextToken?: string | undefined;
  readonly limit?: number | undefined;
}

export interface DescribeLogGroupsOutput {
  readonly logGroupNames: readonly string[];
  readonly nextToken: string | undefined;
}

export interface DescribeLogStreamsInput {
  readonly logGroupName: string;
  readonly nextToken?: string | undefined;
  readonly limit?: number | undefined;
}

/** What DescribeLogStreams says of a stream's time span (AWS updates `lastEventTimestamp` lazily). */
export interface LogStreamInfo {
  readonly logStreamName: string;
  readonly creationTime: number | undefined;
  readonly firstEventTimestamp: number | undefined;
  readonly lastEventTimestamp: number | undefined;
}

export interface DescribeLogStreamsOutput {
  readonly logStreamNames: readonly string[];
  /** The same streams with their time span, when the port knows it (`backfill --dry-run`). */
  readonly logStreams?: readonly LogStreamInfo[];
  readonly nextToken: string | undefined;
}

export interface GetLogEventsInput {
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly nextToken?: string | undefined;
  readonly startTime?: number | undefined;
  /** Exclusive on AWS (moto treats it as inclusive: callers filter what they asked for). */
  readonly endTime?: number | undefined;
  /** Always true: required when following forward tokens (the API default is false). */
  readonly startFromHead: true;
  readonly limit?: number | undefined;
}

export interface GetLogEventsOutput {
  readonly events: readonly RawEvent[];
  /** Never absent in the API; equal to the token sent when the end of the stream is reached. */
  readonly nextForwardToken: string;
}

/**
 * The three CloudWatch Logs calls the source needs, and nothing else, so that tests can serve
 * scripted pages (empty pages with new tokens, throttling, rejected tokens) that the emulator
 * cannot produce. Errors are the SDK's (classified by `classifyError`).
 */
export interface CloudWatchPort {
  describeLogGroups(
    input: DescribeLogGroupsInput,
    signal?: AbortSignal,
  ): Promise<DescribeLogGroupsOutput>;
  describeLogStreams(
    input: DescribeLogStreamsInput,
    signal?: AbortSignal,
  ): Promise<DescribeLogStreamsOutput>;
  /** `onSend` is called when the request is about to leave (the call budget counts it then). */
  getLogEvents(
    input: GetLogEventsInput,
    signal?: AbortSignal,
    onSend?: () => void,
  ): Promise<GetLogEventsOutput>;
}

export interface CloudWatchClientOptions {
  readonly region?: string | undefined;
  /** Custom endpoint (the emulator in tests); the SDK also reads `AWS_ENDPOINT_URL` itself. */
  readonly endpoint?: string | undefined;
  /** Per-request socket timeout. @default 15000 */
  readonly requestTimeoutMs?: number | undefined;
  /** SDK attempts per call. @default 1 */
  readonly maxAttempts?: number | undefined;
}

/**
 * Builds the SDK client. Retries are deliberately left to our own code (`maxAttempts: 1`): the
 * SDK's standard/adaptive modes would retry behind the shared rate limiter's back, spending the
 * account-wide quota (GetLogEvents ≈ 10 rps) on invisible calls and hiding throttles from the
 * metrics; our poller already backs off with jitter, forever, and counts every attempt.
 */
export function createCloudWatchClient(
  options: CloudWatchClientOptions = {},
): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts ?? 1,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      connectionTimeout: 5_000,
    },
  });
}

/** {@link CloudWatchPort} over the AWS SDK v3 client. */
export class SdkCloudWatchPort implements CloudWatchPort {
  private readonly client: CloudWatchLogsClient;

  constructor(client: CloudWatchLogsClient) {
    this.client = client;
  }

  async describeLogGroups(
    input: DescribeLogGroupsInput,
    signal?: AbortSignal,
  ): Promise<DescribeLogGroupsOutput> {
    const out = await this.client.send(
      new DescribeLogGroupsCommand({
        logGroupNamePrefix: input.logGroupNamePrefix,
        nextToken: input.nextToken,
        limit: input.limit,
      }),
      signal === undefined ? {} : { abortSignal: signal },
    );
    return {
      logGroupNames: (out.logGroups ?? []).flatMap((g) =>
        g.logGroupName === undefined ? [] : [g.logGroupName],
      ),
      nextToken: emptyToUndefined(out.nextToken),
    };
  }

  async describeLogStreams(
    input: DescribeLogStreamsInput,
    signal?: AbortSignal,
  ): Promise<DescribeLogStreamsOutput> {
    const out = await this.client.send(
      new DescribeLogStreamsCommand({
        logGroupName: input.logGroupName,
        nextToken: input.nextToken,
        limit: input.limit,
      }),
      signal === undefined ? {} : { abortSignal: signal },
    );
    const logStreams = (out.logStreams ?? []).flatMap((s) =>
      s.logStreamName === undefined
        ? []
        : [
            {
              logStreamName: s.logStreamName,
              creationTime: s.creationTime,
              firstEventTimestamp: s.firstEventTimestamp,
              lastEventTimestamp: s.lastEventTimestamp,
            },
          ],
    );
    return {
      logStreamNames: logStreams.map((s) => s.logStreamName),
      logStreams,
      nextToken: emptyToUndefined(out.nextToken),
    };
  }

  async getLogEvents(
    input: GetLogEventsInput,
    signal?: AbortSignal,
    onSend?: () => void,
  ): Promise<GetLogEventsOutput> {
    const command = new GetLogEventsCommand({
      logGroupName: input.logGroupName,
      logStreamName: input.logStreamName,
      nextToken: input.nextToken,
      startTime: input.startTime,
      endTime: input.endTime,
      startFromHead: input.startFromHead,
      limit: input.limit,
    });
    if (onSend !== undefined) {
      // Last of the request's own steps (after signing), right before the HTTP handler.
      command.middlewareStack.add(
        (next) => (args) => {
          onSend();
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'low', name: 'callBudgetSendTime' },
      );
    }
    const out = await this.client.send(
      command,
      signal === undefined ? {} : { abortSignal: signal },
    );
    if (out.nextForwardToken === undefined || out.nextForwardToken === '') {
      throw new ForwarderError(
        'FWD_ERR_SOURCE',
        `GetLogEvents for ${input.logGroupName}/${input.logStreamName} returned no nextForwardToken`,
        { retryable: true },
      );
    }
    return {
      events: (out.events ?? []).map((e) => ({
        timestamp: e.timestamp ?? 0,
        ingestionTime: e.ingestionTime ?? e.timestamp ?? 0,
        message: e.message ?? '',
      })),
      nextForwardToken: out.nextForwardToken,
    };
  }
}

function emptyToUndefined(token: string | undefined): string | undefined {
  return token === undefined || token === '' ? undefined : token;
}
