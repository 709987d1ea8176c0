/**
 * The streams a backfill covers: the log groups of the discovery configuration (or the named
 * ones) and their streams, listed once with their time spans. Unlike live discovery, a listing
 * that still fails after its retries is an error: a backfill that silently skipped a group would
 * report success for records it never read.
 */
import { retryingCall } from './api-call.js';
import { classifyError } from './aws-errors.js';
import type { CloudWatchPort, LogStreamInfo } from './cloudwatch-port.js';
import type { RateLimiter } from './rate-limiter.js';
import { noopSourceMetrics } from './source-metrics.js';
import { ForwarderError, UsageError } from '../util/errors.js';
import { monotonicClock } from '../util/clock.js';

export interface BackfillRange {
  /** Inclusive start, epoch ms. */
  readonly from: number;
  /** Exclusive end, epoch ms. */
  readonly to: number;
}

export interface PlannedStream extends LogStreamInfo {
  readonly logGroup: string;
  /** False when DescribeLogStreams shows the stream holds nothing in the range. */
  readonly inRange: boolean;
}

/**
 * Whether a stream may hold events in [from, to): not when its last event is older than `from`
 * or its first event (or, without events, its creation) is at or after `to`. AWS updates
 * `lastEventTimestamp` up to an hour late, so only the dry run uses this; the backfill itself
 * reads every stream (a stream with nothing in the range costs one or two calls).
 */
export function streamInRange(stream: LogStreamInfo, range: BackfillRange): boolean {
  if (stream.lastEventTimestamp !== undefined && stream.lastEventTimestamp < range.from) {
    return false;
  }
  const first = stream.firstEventTimestamp ?? stream.creationTime;
  return first === undefined || first < range.to;
}

export interface PlanDeps {
  readonly port: CloudWatchPort;
  readonly limiter: RateLimiter;
  readonly signal?: AbortSignal;
}

const ATTEMPTS = 6;

/** Lists the groups (explicit ones plus those matching a prefix) and their streams, sorted. */
export async function planBackfill(
  deps: PlanDeps,
  groups: { readonly logGroupPrefixes: readonly string[]; readonly logGroups: readonly string[] },
  range: BackfillRange,
): Promise<PlannedStream[]> {
  const context = {
    limiter: deps.limiter,
    metrics: noopSourceMetrics,
    clock: monotonicClock,
    backoff: {},
    random: Math.random,
  };
  const options = { attempts: ATTEMPTS, signal: deps.signal };
  const names = new Set(groups.logGroups);
  for (const prefix of groups.logGroupPrefixes) {
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await listing(`log groups with prefix ${prefix}`, () =>
        retryingCall(
          context,
          'DescribeLogGroups',
          () =>
            deps.port.describeLogGroups(
              { logGroupNamePrefix: prefix, nextToken: token },
              deps.signal,
            ),
          options,
        ),
      );
      for (const name of page.logGroupNames) names.add(name);
      nextToken = page.nextToken === token ? undefined : page.nextToken;
    } while (nextToken !== undefined);
  }
  const planned: PlannedStream[] = [];
  const missing: string[] = [];
  for (const logGroup of [...names].sort()) {
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      let page;
      try {
        page = await listing(`the streams of log group ${logGroup}`, () =>
          retryingCall(
            context,
            'DescribeLogStreams',
            () =>
              deps.port.describeLogStreams(
                { logGroupName: logGroup, nextToken: token },
                deps.signal,
              ),
            options,
          ),
        );
      } catch (error) {
        // A named group that does not exist is most likely a typo: answering "0 of 0 streams"
        // would let a backfill that read nothing look like one that succeeded.
        if (error instanceof ForwarderError && classifyError(error.cause) === 'not-found') {
          missing.push(logGroup);
          break;
        }
        throw error;
      }
      const infos =
        page.logStreams ??
        page.logStreamNames.map((logStreamName) => ({
          logStreamName,
          creationTime: undefined,
          firstEventTimestamp: undefined,
          lastEventTimestamp: undefined,
        }));
      for (const info of infos) {
        planned.push({ ...info, logGroup, inRange: streamInRange(info, range) });
      }
      nextToken = page.nextToken === token ? undefined : page.nextToken;
    } while (nextToken !== undefined);
  }
  if (missing.length > 0) {
    throw new UsageError(
      `backfill: log group${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `do${missing.length > 1 ? '' : 'es'} not exist in this account and region: check --log-group ` +
        "(or source.logGroups); names are case-sensitive, and 'aws logs describe-log-groups " +
        "--log-group-name-prefix /aws/cloudhsm/' lists the CloudHSM ones",
    );
  }
  return planned.sort(
    (a, b) =>
      a.logGroup.localeCompare(b.logGroup) || a.logStreamName.localeCompare(b.logStreamName),
  );
}

async function listing<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new ForwarderError(
      'FWD_ERR_SOURCE',
      `backfill: cannot list ${what} (${error instanceof Error ? error.message : String(error)}); check the credentials and the endpoint, then run the command again`,
      { cause: error },
    );
  }
}
