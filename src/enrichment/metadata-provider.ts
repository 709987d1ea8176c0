/**
 * Keeps a cached, periodically refreshed {@link MetadataSnapshot} of the CloudHSM clusters and
 * HSMs (docs/enrichment.md). Delivery never waits for it: `snapshot()` is synchronous and returns the last
 * good data; a failed refresh keeps that data, is counted and retried (with backoff, capped at
 * the normal interval), and never throws out of the background loop.
 *
 * HSMs (and clusters) that stop being listed keep their last known metadata with
 * `present: false`: a replaced HSM's old log stream can still be read for as long as the log
 * group's retention keeps it (docs/cloudwatch-logs.md). They are forgotten `retainMissingMs` after
 * they were last seen.
 */
import { backoffDelay } from '../util/backoff.js';
import type { BackoffOptions } from '../util/backoff.js';
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import type {
  ClusterMetadata,
  HsmMetadata,
  MetadataSnapshot,
} from '../transform/cluster-metadata.js';
import { emptySnapshot } from '../transform/cluster-metadata.js';
import { resolveAccountId } from './cloudhsm-port.js';
import type { CallerIdentityPort, CloudHsmPort, RawCluster, RawTag } from './cloudhsm-port.js';

/** Outcome of one refresh, for metrics. */
export type RefreshOutcome = 'success' | 'failure';

/** Options of {@link MetadataProvider}. */
export interface MetadataProviderOptions {
  /** CloudHSM v2 calls (see `createCloudHsmPort`). */
  readonly port: CloudHsmPort;
  /** The region the forwarder reads (configuration), for `cloud.region`. */
  readonly region?: string;
  /** Configured account id; when absent, `identity` is asked once at start-up. */
  readonly accountId?: string;
  /** STS GetCallerIdentity, used only when `accountId` is not configured. */
  readonly identity?: CallerIdentityPort;
  /** Static labels added to every event, e.g. `{ environment: 'prod' }`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Time between refreshes. @default 300000 (5 min) */
  readonly refreshIntervalMs?: number;
  /** Backoff after failed refreshes; the delay never exceeds `refreshIntervalMs`. */
  readonly backoff?: BackoffOptions;
  /** How long clusters/HSMs no longer listed are kept. @default 30 days */
  readonly retainMissingMs?: number;
  /** Call ListTags even when DescribeClusters returned a non-empty inline TagList. */
  readonly alwaysListTags?: boolean;
  /** Safety stop for runaway pagination. @default 1000 */
  readonly maxPages?: number;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
  readonly random?: () => number;
  /** Called after every refresh attempt (metrics hook). Must not throw; errors are ignored. */
  readonly onRefresh?: (outcome: RefreshOutcome, error?: unknown) => void;
}

/** Counters for metrics and health checks. */
export interface MetadataProviderStats {
  readonly refreshes: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  /** ListTags calls that failed inside an otherwise successful refresh (old tags were kept). */
  readonly tagFailures: number;
  readonly lastSuccessAt?: number;
  readonly lastFailureAt?: number;
  readonly lastError?: string;
}

const DEFAULT_INTERVAL_MS = 300_000;
const DEFAULT_RETAIN_MS = 30 * 24 * 3600 * 1000;
const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 300_000, multiplier: 2 };
import { defined, tagsToRecord, text, toClusterMetadata, toHsmMetadata } from './raw-metadata.js';

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Cached CloudHSM metadata with a background refresh loop. */
export class MetadataProvider {
  private readonly options: MetadataProviderOptions;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly intervalMs: number;
  private readonly retainMs: number;
  private readonly labels: Readonly<Record<string, string>>;
  private accountId: string | undefined;
  private accountResolved = false;
  private current: MetadataSnapshot;
  private inflight: Promise<boolean> | undefined;
  private loopDone: Promise<void> | undefined;
  private abort = new AbortController();
  private counters = { refreshes: 0, failures: 0, consecutiveFailures: 0, tagFailures: 0 };
  private lastSuccessAt: number | undefined;
  private lastFailureAt: number | undefined;
  private lastError: string | undefined;

  constructor(options: MetadataProviderOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.intervalMs = Math.max(1, options.refreshIntervalMs ?? DEFAULT_INTERVAL_MS);
    this.retainMs = options.retainMissingMs ?? DEFAULT_RETAIN_MS;
    this.labels = { ...options.labels };
    this.accountId = options.accountId;
    this.accountResolved = options.accountId !== undefined;
    this.current = this.emptyView();
  }

  /**
   * Resolves the account id (STS, once) and runs the first refresh, then starts the refresh
   * loop. Never rejects because of AWS errors: the forwarder starts without metadata and events
   * are marked `enrichment:none` until a refresh succeeds.
   */
  async start(): Promise<void> {
    if (this.loopDone !== undefined) return;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    await this.refresh();
    const signal = this.abort.signal;
    this.loopDone = this.loop(signal);
  }

  /** Stops the loop and cancels an in-flight refresh. The last snapshot stays readable. */
  async stop(): Promise<void> {
    this.abort.abort();
    const loop = this.loopDone;
    this.loopDone = undefined;
    await loop;
    await this.inflight?.catch(() => undefined);
  }

  /** The last good metadata. Synchronous and cheap: call it per batch or per event. */
  snapshot(): MetadataSnapshot {
    return this.current;
  }

  stats(): MetadataProviderStats {
    return defined<MetadataProviderStats>({
      ...this.counters,
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
      lastError: this.lastError,
    });
  }

  /**
   * One refresh now (concurrent callers share it). Resolves true on success, false on failure;
   * never rejects.
   */
  refresh(): Promise<boolean> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const failures = this.counters.consecutiveFailures;
      const backoff = { ...DEFAULT_BACKOFF, ...this.options.backoff };
      const delay =
        failures === 0
          ? this.intervalMs
          : Math.min(
              this.intervalMs,
              (backoff.baseMs ?? 0) + backoffDelay(failures - 1, backoff, this.options.random),
            );
      try {
        await this.clock.sleep(delay, signal);
      } catch (error) {
        if (isAbortError(error) || signal.aborted) return;
        // A broken clock is a bug; stop loudly rather than refresh in a tight loop.
        this.logger.error(
          { err: errorText(error) },
          'enrichment refresh timer failed; loop stopped',
        );
        return;
      }
      if (signal.aborted) return;
      await this.refresh();
    }
  }

  private emptyView(): MetadataSnapshot {
    return emptySnapshot(
      defined<{ accountId?: string; region?: string; labels?: Record<string, string> }>({
        accountId: this.accountId,
        region: this.options.region,
        labels: { ...this.labels },
      }),
    );
  }

  private async resolveAccount(signal: AbortSignal): Promise<void> {
    if (this.accountResolved || this.options.identity === undefined) return;
    try {
      this.accountId = await resolveAccountId(this.options.identity, signal);
      this.accountResolved = true;
      // Visible at once, even if the cluster refresh below fails.
      this.current = { ...this.current, accountId: this.accountId };
      this.logger.info({ accountId: this.accountId }, 'account id resolved with STS');
    } catch (error) {
      if (isAbortError(error)) throw error;
      // Not fatal: cloud.account stays unset and the next refresh asks again.
      this.logger.warn({ err: errorText(error) }, 'STS GetCallerIdentity failed');
    }
  }

  private async doRefresh(): Promise<boolean> {
    const signal = this.abort.signal;
    this.counters.refreshes++;
    try {
      await this.resolveAccount(signal);
      const next = await this.load(signal);
      this.current = next;
      this.counters.consecutiveFailures = 0;
      this.lastSuccessAt = next.refreshedAt;
      this.notify('success');
      this.logger.debug(
        { clusters: next.clusters.size, hsms: next.hsms.size },
        'CloudHSM metadata refreshed',
      );
      return true;
    } catch (error) {
      if (signal.aborted) return false; // stop(): not a failure of the API
      this.counters.failures++;
      this.counters.consecutiveFailures++;
      this.lastFailureAt = this.clock.now();
      this.lastError = errorText(error);
      this.notify('failure', error);
      this.logger.warn(
        { err: this.lastError, consecutiveFailures: this.counters.consecutiveFailures },
        'CloudHSM metadata refresh failed; keeping the last good data',
      );
      return false;
    }
  }

  private notify(outcome: RefreshOutcome, error?: unknown): void {
    try {
      if (outcome === 'success') this.options.onRefresh?.(outcome);
      else this.options.onRefresh?.(outcome, error);
    } catch {
      // A metrics hook must never break the refresh.
    }
  }

  private async describeAll(signal: AbortSignal): Promise<RawCluster[]> {
    const maxPages = this.options.maxPages ?? 1000;
    const clusters: RawCluster[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      signal.throwIfAborted();
      const page = await this.options.port.describeClusters(token, signal);
      clusters.push(...page.clusters);
      if (page.nextToken !== undefined && page.nextToken === token) {
        throw new Error('DescribeClusters returned the same NextToken twice');
      }
      token = page.nextToken;
      if (++pages >= maxPages && token !== undefined) {
        throw new Error(`DescribeClusters pagination exceeded ${maxPages} pages`);
      }
    } while (token !== undefined);
    return clusters;
  }

  private async tagsOf(
    raw: RawCluster,
    id: string,
    signal: AbortSignal,
  ): Promise<Record<string, string>> {
    const inline = Array.isArray(raw.TagList) ? raw.TagList : [];
    if (inline.length > 0 && this.options.alwaysListTags !== true) return tagsToRecord(inline);
    try {
      const tags: RawTag[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        signal.throwIfAborted();
        const page = await this.options.port.listTags(id, token, signal);
        tags.push(...page.tags);
        token = page.nextToken === token ? undefined : page.nextToken;
      } while (token !== undefined && ++pages < (this.options.maxPages ?? 1000));
      return tagsToRecord(tags);
    } catch (error) {
      if (isAbortError(error) || signal.aborted) throw error;
      // Keep what we had (or the inline list): a missing cloudhsm:ListTags permission must not
      // take the rest of the metadata down with it.
      this.counters.tagFailures++;
      this.logger.warn({ clusterId: id, err: errorText(error) }, 'CloudHSM ListTags failed');
      return { ...(this.current.clusters.get(id)?.tags ?? tagsToRecord(inline)) };
    }
  }

  private async load(signal: AbortSignal): Promise<MetadataSnapshot> {
    const rawClusters = await this.describeAll(signal);
    const now = this.clock.now();
    const previous = this.current;
    const clusters = new Map<string, ClusterMetadata>();
    const hsms = new Map<string, HsmMetadata>();

    for (const raw of rawClusters) {
      const id = text(raw.ClusterId);
      if (id === undefined) continue;
      const tags = await this.tagsOf(raw, id, signal);
      const firstSeen = previous.clusters.get(id)?.firstSeen ?? now;
      const cluster = toClusterMetadata(raw, tags, { firstSeen, lastSeen: now });
      if (cluster !== undefined) clusters.set(id, cluster);
      for (const rawHsm of Array.isArray(raw.Hsms) ? raw.Hsms : []) {
        const hsmId = text(rawHsm.HsmId);
        if (hsmId === undefined) continue;
        const hsmFirst = previous.hsms.get(hsmId)?.firstSeen ?? now;
        const hsm = toHsmMetadata(rawHsm, id, { firstSeen: hsmFirst, lastSeen: now });
        if (hsm !== undefined) hsms.set(hsmId, hsm);
      }
    }
    for (const [id, old] of previous.clusters) {
      if (!clusters.has(id) && now - old.lastSeen <= this.retainMs) {
        clusters.set(id, old.present ? { ...old, present: false } : old);
      }
    }
    for (const [id, old] of previous.hsms) {
      if (!hsms.has(id) && now - old.lastSeen <= this.retainMs) {
        hsms.set(id, old.present ? { ...old, present: false } : old);
      }
    }
    return {
      clusters,
      hsms,
      ...(this.accountId === undefined ? {} : { accountId: this.accountId }),
      ...(this.options.region === undefined ? {} : { region: this.options.region }),
      refreshedAt: now,
      labels: this.labels,
    };
  }
}
