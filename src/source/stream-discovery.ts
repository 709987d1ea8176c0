import { streamKey, type StreamRef } from '../util/identity.js';
import { retryingCall } from './api-call.js';
import { type BackoffOptions } from '../util/backoff.js';
import { classifyError } from './aws-errors.js';
import type { Clock } from '../util/clock.js';
import type { CloudWatchPort } from './cloudwatch-port.js';
import type { ComponentLogger } from '../util/logger.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SourceMetrics } from './source-metrics.js';

export interface StreamDiscoveryOptions {
  /** Log-group name prefixes to discover. @default ['/aws/cloudhsm/'] */
  readonly logGroupPrefixes?: readonly string[];
  /** Log groups polled whether or not they match a prefix. @default [] */
  readonly logGroups?: readonly string[];
  /** Time between rediscovery rounds. @default 60000 */
  readonly intervalMs?: number;
  /** False: the first round only (a backfill reads the streams that exist when it starts). @default true */
  readonly rediscover?: boolean;
  /** Attempts per Describe call within one round. @default 4 */
  readonly attempts?: number;
  readonly backoff?: BackoffOptions;
}

export interface StreamDiscoveryDeps {
  readonly port: CloudWatchPort;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly logger: ComponentLogger;
  readonly metrics: SourceMetrics;
  readonly random?: () => number;
  readonly options?: StreamDiscoveryOptions;
  /**
   * A stream appeared (first round included), with its `creationTime` when the listing gives it.
   * A stream deleted and created again under its name is reported removed, then added again.
   */
  readonly onAdded: (stream: StreamRef, creationTime: number | undefined) => void;
  /** A stream is gone from a listing that succeeded completely. */
  readonly onRemoved: (stream: StreamRef) => void;
  /** A round finished (after its onAdded/onRemoved calls). */
  readonly onRound?: () => void;
}

/** One listed stream: its name and, when known, when this incarnation of it was created. */
interface ListedStream {
  readonly name: string;
  readonly creationTime: number | undefined;
}

/** What one round found, per log group (undefined: listing failed, keep what we knew). */
type GroupListing = Map<string, readonly ListedStream[] | undefined>;

/**
 * Finds every log stream to poll: the log groups matching the prefixes plus the explicit ones,
 * and every stream in each (HSM `hsm-*` streams and the cluster-named certificate-storage
 * stream alike). Each Describe call is paginated to the end. Rounds repeat on an interval so that
 * new clusters and replaced HSMs get pollers without a restart; streams that disappear are
 * reported (their checkpoints are kept). A group whose listing failed keeps its known streams,
 * so a throttled round never retires anything.
 */
export class StreamDiscovery {
  private readonly deps: StreamDiscoveryDeps;
  private readonly prefixes: readonly string[];
  private readonly explicitGroups: readonly string[];
  private readonly intervalMs: number;
  private readonly attempts: number;
  /** Streams reported added, with the creationTime of the incarnation reported. */
  private readonly known = new Map<
    string,
    { readonly ref: StreamRef; readonly creationTime: number | undefined }
  >();
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private rounds = 0;

  constructor(deps: StreamDiscoveryDeps) {
    this.deps = deps;
    const options = deps.options ?? {};
    this.prefixes = options.logGroupPrefixes ?? ['/aws/cloudhsm/'];
    this.explicitGroups = options.logGroups ?? [];
    this.intervalMs = Math.max(1, options.intervalMs ?? 60_000);
    this.attempts = Math.max(1, options.attempts ?? 4);
  }

  /** Streams currently known. */
  streams(): StreamRef[] {
    return [...this.known.values()].map((known) => known.ref);
  }

  /** Completed rounds (for tests and readiness). */
  get completedRounds(): number {
    return this.rounds;
  }

  /** Runs the first round (awaited, so pollers exist when start resolves), then the interval. */
  async start(): Promise<void> {
    if (this.loop !== undefined) return;
    await this.refresh();
    this.loop = this.deps.options?.rediscover === false ? Promise.resolve() : this.runLoop();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  /**
   * Lets a stream be reported again by the next round (its poller found it gone, but listings are
   * eventually consistent, so it may still be listed or may come back).
   */
  forget(stream: StreamRef): void {
    this.known.delete(streamKey(stream));
  }

  /** One discovery round. Never throws except on abort; failures are logged and retried later. */
  async refresh(): Promise<void> {
    const signal = this.controller.signal;
    let groups: Set<string> | undefined = new Set(this.explicitGroups);
    for (const prefix of this.prefixes) {
      try {
        for (const group of await this.listGroups(prefix, signal)) groups?.add(group);
      } catch (error) {
        if (signal.aborted) return;
        this.deps.logger.warn(
          { prefix, err: String(error) },
          'DescribeLogGroups failed; keeping known groups this round',
        );
        groups = undefined;
        break;
      }
    }
    const listing: GroupListing = new Map();
    const groupNames =
      groups ??
      new Set([...this.explicitGroups, ...[...this.known.values()].map((s) => s.ref.logGroup)]);
    for (const group of groupNames) {
      try {
        listing.set(group, await this.listStreams(group, signal));
      } catch (error) {
        if (signal.aborted) return;
        if (classifyError(error) === 'not-found') {
          // Explicit groups that do not exist (yet) are normal; the group may be created later.
          listing.set(group, []);
          continue;
        }
        this.deps.logger.warn(
          { logGroup: group, err: String(error) },
          'DescribeLogStreams failed; keeping known streams of this group this round',
        );
        listing.set(group, undefined);
      }
    }
    this.apply(listing, groups !== undefined);
    this.rounds += 1;
    this.deps.onRound?.();
  }

  private apply(listing: GroupListing, groupsComplete: boolean): void {
    const seen = new Set<string>();
    for (const [group, streams] of listing) {
      if (streams === undefined) {
        for (const [key, { ref }] of this.known) if (ref.logGroup === group) seen.add(key);
        continue;
      }
      for (const { name: logStream, creationTime } of streams) {
        const ref: StreamRef = { logGroup: group, logStream };
        const key = streamKey(ref);
        seen.add(key);
        const before = this.known.get(key)?.creationTime;
        if (before !== undefined && creationTime !== undefined && before !== creationTime) {
          // Deleted and created again between two rounds: its poller may not even have seen
          // it gone (an old token on the new stream can read as "nothing new"). The source
          // says so when it takes up the new one.
          this.known.delete(key);
          this.deps.onRemoved(ref);
        }
        if (!this.known.has(key)) {
          this.known.set(key, { ref, creationTime });
          this.deps.metrics.streamDiscovered(ref);
          this.deps.logger.info({ ...ref }, 'log stream discovered');
          this.deps.onAdded(ref, creationTime);
        }
      }
    }
    for (const [key, { ref }] of [...this.known]) {
      if (seen.has(key)) continue;
      // A group missing from an incomplete group listing is not evidence that it is gone.
      if (!groupsComplete && !listing.has(ref.logGroup)) continue;
      this.known.delete(key);
      this.deps.metrics.streamRetired(ref);
      this.deps.logger.info({ ...ref }, 'log stream disappeared; poller retired, checkpoint kept');
      this.deps.onRemoved(ref);
    }
  }

  private async runLoop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        await this.deps.clock.sleep(this.intervalMs, signal);
        await this.refresh();
      } catch {
        if (signal.aborted) return;
      }
    }
  }

  private context() {
    return {
      limiter: this.deps.limiter,
      metrics: this.deps.metrics,
      clock: this.deps.clock,
      backoff: this.deps.options?.backoff ?? {},
      random: this.deps.random ?? Math.random,
    };
  }

  private listGroups(prefix: string, signal: AbortSignal): Promise<readonly string[]> {
    return this.paginate('DescribeLogGroups', signal, async (nextToken) => {
      const page = await this.deps.port.describeLogGroups(
        { logGroupNamePrefix: prefix, nextToken, limit: 50 },
        signal,
      );
      return { names: page.logGroupNames, nextToken: page.nextToken };
    });
  }

  private listStreams(group: string, signal: AbortSignal): Promise<ListedStream[]> {
    return this.paginate('DescribeLogStreams', signal, async (nextToken) => {
      const page = await this.deps.port.describeLogStreams(
        { logGroupName: group, nextToken, limit: 50 },
        signal,
      );
      const created = new Map(
        (page.logStreams ?? []).map((info) => [info.logStreamName, info.creationTime]),
      );
      const names = page.logStreamNames.map((name) => ({
        name,
        creationTime: created.get(name),
      }));
      return { names, nextToken: page.nextToken };
    });
  }

  /** Follows `nextToken` to the last page (a repeated token also ends it), retrying each call. */
  private async paginate<T>(
    operation: 'DescribeLogGroups' | 'DescribeLogStreams',
    signal: AbortSignal,
    call: (
      nextToken: string | undefined,
    ) => Promise<{ names: readonly T[]; nextToken?: string | undefined }>,
  ): Promise<T[]> {
    const names: T[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await retryingCall(this.context(), operation, () => call(token), {
        attempts: this.attempts,
        signal,
      });
      names.push(...page.names);
      nextToken = page.nextToken === token ? undefined : page.nextToken;
    } while (nextToken !== undefined);
    return names;
  }
}
