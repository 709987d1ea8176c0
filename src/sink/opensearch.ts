/**
 * OpenSearch sink (README "Delivery"): one bulk request per chunk of a batch, action `create` with
 * `_id` = event uid into the daily index of the event's own time. Per item (see
 * opensearch-refusal.ts): 201 is delivered, 409 is "already indexed" (a duplicate, still
 * success), 429 and 5xx are retried with backoff for just those items, a refusal of the document
 * itself (mapping or parse error, too large) is a permanent rejection handed back for the
 * dead-letter destination, and a refusal caused by the cluster's configuration (403, index not
 * found with auto-create off, a write block, a closed index, an invalid index name) is retried
 * with backoff, logged as an error naming the index and what to fix, counted, and reported as a
 * stall for `/readyz`. Only the events bound for the refusing index wait: the others of the chunk
 * are delivered. With `lateIndex`, events refused by a write block or a closed index go to
 * `<prefix>-late-YYYY.MM` instead.
 * A whole request refused for its content (413 too large, 400) is halved until the offending
 * event stands alone, and only that event is rejected. Every other whole-request failure (node
 * down, timeouts, 429/5xx, and 401/403/other 4xx, which are configuration or permission
 * problems) retries the chunk forever with backoff and marks the sink unhealthy: it stalls
 * delivery instead of dead-lettering events that are not at fault.
 */
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import { RETRY_BACKOFF, retryUntilDone } from '../util/retry.js';
import { scrubQuotedValues } from '../util/scrub-values.js';
import type { RetryAction } from '../util/retry.js';
import { addResults, chunkBySize, EMPTY_RESULT, halveUntilAlone } from './chunking.js';
import { classifyItem, itemRejectionKind, refusalHint } from './opensearch-refusal.js';
import { dailyIndex, indexTemplate, lateIndex, TEMPLATE_VERSION } from './opensearch-template.js';
import type { OutboundEvent } from './outbound-event.js';
import { NotTheServiceError, startUpStep } from './start-up-error.js';
import { StallRegister } from './stall-register.js';
import type { StallHolder } from './stall-register.js';
import type {
  RefusalReason,
  RejectedEvent,
  Sink,
  SinkHealthListener,
  SinkRetryListener,
  SinkRefusalListener,
  SinkResult,
  SinkStallListener,
} from './sink.js';

/**
 * What the sink needs of an OpenSearch client; the real `Client` (built by the composition root
 * with sink/opensearch-client.ts) fits it, unit tests use a small fake.
 */
export interface OpenSearchClientPort {
  /** `never`: the client's types do not admit the verbatim string lines the sink sends. */
  bulk(params: { body: never }): Promise<{ body: { items: BulkResponseItem[] } }>;
  ping(params: object, options: { requestTimeout: number }): Promise<unknown>;
  close(): Promise<void>;
  readonly indices: {
    getIndexTemplate(params: {
      name: string;
    }): Promise<{ body: { index_templates: { index_template: unknown }[] } }>;
    putIndexTemplate(params: {
      name: string;
      body: ReturnType<typeof indexTemplate>;
    }): Promise<unknown>;
  };
}

export interface OpenSearchSinkOptions {
  readonly client: OpenSearchClientPort;
  /** The configured URL, for start-up errors (never with credentials). */
  readonly endpoint?: string;
  readonly indexPrefix: string;
  /** Documents per bulk request. */
  readonly bulkMaxDocs?: number;
  /** Payload bytes per bulk request (the helpers' default flush size). */
  readonly bulkMaxBytes?: number;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
  readonly onHealth?: SinkHealthListener;
  /** Told of every retried attempt, with why it failed. */
  readonly onRetry?: SinkRetryListener;
  /** Told while writes are held back by a refusal (and when none is left), for `/readyz`. */
  readonly onStall?: SinkStallListener;
  /** Counts refused writes, for the `sink_refusals_total` metric. */
  readonly onRefused?: SinkRefusalListener;
  /**
   * Send an event whose daily index refuses writes (write block, closed index) to
   * `<prefix>-late-YYYY.MM` instead of waiting. A later replay of that event (e.g. from Kafka)
   * into its daily index then makes a second document. @default false
   */
  readonly lateIndex?: boolean;
}

/** An event on its way, with the index it is sent to (its daily index, or the late index). */
interface Pending {
  readonly event: OutboundEvent;
  readonly index: string;
}

/** Key under which a whole-request refusal is held (no index name is involved). */
const WHOLE_REQUEST = '_bulk';

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

type BulkResponseItem = Partial<Record<'create' | 'index', BulkItemResult>>;

/** A whole bulk request refused for its content: the caller halves it. */
interface ContentRefusal {
  readonly status: number;
  readonly message: string;
}

/** One bulk request's outcome: retry it whole, halve it, or the items as the node sorted them. */
type BulkOutcome =
  | { readonly kind: 'retry' }
  /** No answer within the request timeout: a smaller request may get one. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'reject'; readonly value: ContentRefusal }
  | {
      readonly kind: 'sorted';
      /** Delivered, duplicates and rejected by this request. */
      readonly settled: SinkResult;
      /** Still to send: throttled, refused, or re-routed to the late index. */
      readonly left: readonly Pending[];
      readonly backoff: boolean;
    };

/** The client's own request timeout (`TimeoutError`), not an answer. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function describeItemError(item: BulkItemResult): string {
  const error = item.error;
  if (error === undefined) return `status ${item.status}`;
  // Scrubbed: this text goes into log lines, /readyz and the dead-letter entry's reason (the
  // entry holds the event itself).
  const cause = error.caused_by?.reason === undefined ? '' : ` (${error.caused_by.reason})`;
  return scrubQuotedValues(
    `${error.type ?? 'error'}: ${error.reason ?? 'no reason given'}${cause}`,
  );
}

function statusOf(error: unknown): number | undefined {
  const meta = (error as { meta?: { statusCode?: unknown } } | undefined)?.meta;
  return typeof meta?.statusCode === 'number' ? meta.statusCode : undefined;
}

export class OpenSearchSink implements Sink {
  readonly name = 'opensearch' as const;
  private readonly options: OpenSearchSinkOptions;
  private readonly client: OpenSearchClientPort;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly stalls: StallRegister;

  constructor(options: OpenSearchSinkOptions) {
    this.options = options;
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.stalls = new StallRegister('opensearch', options.onStall);
  }

  /** Installs (or upgrades) the versioned index template. */
  async start(): Promise<void> {
    const name = `${this.options.indexPrefix}-template`;
    const at = { sink: 'opensearch' as const, endpoint: this.options.endpoint ?? 'opensearch.url' };
    const installed = await startUpStep({ ...at, step: `reading index template ${name}` }, () =>
      this.installedVersion(name),
    );
    if (installed !== undefined && installed >= TEMPLATE_VERSION) {
      this.logger.info({ template: name, installed }, 'index template is current');
    } else {
      await startUpStep({ ...at, step: `installing index template ${name}` }, () =>
        this.client.indices.putIndexTemplate({
          name,
          body: indexTemplate(this.options.indexPrefix),
        }),
      );
      this.logger.info({ template: name, version: TEMPLATE_VERSION }, 'index template installed');
    }
    this.options.onHealth?.('opensearch', true);
  }

  /**
   * The installed template's version. An answer not shaped like OpenSearch's (an HTTP server,
   * a proxy's error page, the Dashboards URL) is told as such rather than as a TypeError.
   */
  private async installedVersion(name: string): Promise<number | undefined> {
    let body: unknown;
    try {
      body = (await this.client.indices.getIndexTemplate({ name })).body;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      const answer = (error as { meta?: { body?: unknown } }).meta?.body;
      if (typeof (answer as { error?: unknown } | undefined)?.error === 'object') return undefined;
      throw new NotTheServiceError(
        `GET /_index_template/${name} answered 404 without an OpenSearch error body`,
      );
    }
    const templates = (body as { index_templates?: unknown } | undefined)?.index_templates;
    if (!Array.isArray(templates)) {
      throw new NotTheServiceError(
        `GET /_index_template/${name} answered 200 without an index_templates list`,
      );
    }
    const template = (templates[0] as { index_template?: { version?: unknown } } | undefined)
      ?.index_template;
    return typeof template?.version === 'number' ? template.version : undefined;
  }

  async deliver(events: readonly OutboundEvent[], signal: AbortSignal): Promise<SinkResult> {
    const prefix = this.options.indexPrefix;
    const chunks = chunkBySize(events, {
      maxBytes: this.options.bulkMaxBytes ?? 5_000_000,
      maxItems: this.options.bulkMaxDocs ?? 1000,
      sizeOf: (event) => event.json.length + 100,
    });
    let result = EMPTY_RESULT;
    for (const chunk of chunks) {
      const pending = chunk.map((event) => ({ event, index: dailyIndex(prefix, event.time) }));
      result = addResults(result, await this.deliverPending(pending, signal));
    }
    return result;
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.ping({}, { requestTimeout: 3000 });
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    await this.client.close();
  }

  /**
   * Sends a chunk until every event is delivered, a duplicate or rejected, retrying just the
   * events that still wait. A request refused as a whole for its content (413, 400) is halved
   * until the offending event stands alone, so one bad or oversized event does not take the
   * others with it.
   */
  private async deliverPending(
    chunk: readonly Pending[],
    signal: AbortSignal,
  ): Promise<SinkResult> {
    // What this chunk waits on, so the sink reads as stalled exactly while some chunk does.
    const stall = this.stalls.holder();
    let settled = EMPTY_RESULT;
    try {
      const end = await retryUntilDone(
        chunk,
        async (
          pending,
          attempt,
        ): Promise<RetryAction<readonly Pending[], SinkResult, ContentRefusal>> => {
          const outcome = await this.attempt(pending, attempt, stall);
          if (outcome.kind === 'timeout') {
            // The same request would time out again: halves get their own attempts (down to
            // single documents, which are retried as they are), so a node slower than the
            // request timeout still takes what it can.
            if (pending.length === 1) return { kind: 'retry' };
            const middle = Math.ceil(pending.length / 2);
            const first = await this.deliverPending(pending.slice(0, middle), signal);
            const second = await this.deliverPending(pending.slice(middle), signal);
            settled = addResults(settled, addResults(first, second));
            return { kind: 'success', value: settled };
          }
          if (outcome.kind !== 'sorted') return outcome;
          settled = addResults(settled, outcome.settled);
          if (outcome.left.length === 0) return { kind: 'success', value: settled };
          return { kind: 'retry-partial', work: outcome.left, backoff: outcome.backoff };
        },
        { backoff: RETRY_BACKOFF.sink, clock: this.clock, signal },
      );
      if (end.kind === 'success') return end.value;
      stall.clear();
      const { status, message } = end.value;
      const halves = await halveUntilAlone(
        end.work,
        (part) => this.deliverPending(part, signal),
        (alone) => {
          const hint =
            status === 413 ? " (this event alone exceeds the node's http.max_content_length)" : '';
          const kind = status === 413 ? 'too_large' : 'invalid_event';
          return { event: alone.event, kind, detail: `bulk ${status}: ${message}${hint}` };
        },
      );
      return addResults(settled, halves);
    } finally {
      stall.clear();
    }
  }

  /** One bulk request, classified (see the class comment). */
  private async attempt(
    pending: readonly Pending[],
    attempt: number,
    stall: StallHolder,
  ): Promise<BulkOutcome> {
    let items: BulkResponseItem[];
    try {
      const body: string[] = [];
      for (const { event, index } of pending) {
        body.push(JSON.stringify({ create: { _index: index, _id: event.uid } }), event.json);
      }
      // String entries are sent verbatim: each event is serialized once, shared with Kafka.
      const response = await this.client.bulk({ body: body as never });
      items = response.body.items;
      this.options.onHealth?.('opensearch', true);
    } catch (error) {
      if (isAbortError(error)) throw error;
      const status = statusOf(error);
      const message = error instanceof Error ? error.message : String(error);
      // Refused for its content as a whole: the caller halves the request. (The configuration
      // faults probed on the node, an alias, a pipeline, an index mapped otherwise, answer per
      // item: see opensearch-refusal.ts.)
      if (status === 413 || status === 400) return { kind: 'reject', value: { status, message } };
      // Anything else stalls delivery and retries: no response, 429 and 5xx are outages, and
      // 401/403 or another 4xx mean credentials, permissions or an endpoint to fix. None of
      // them says anything about the events, so none of them may dead-letter an event.
      this.options.onHealth?.('opensearch', false, message);
      const refused = status !== undefined && !isRetryableStatus(status);
      if (refused) {
        const reason: RefusalReason = status === 401 || status === 403 ? 'forbidden' : 'other';
        this.options.onRefused?.('opensearch', reason, pending.length);
        const hint = refusalHint(reason, this.options.indexPrefix);
        stall.set(new Map([[WHOLE_REQUEST, `bulk request refused (${status}): ${hint}`]]));
      } else {
        stall.clear();
      }
      this.options.onRetry?.('opensearch', message);
      const timedOut = !refused && isTimeout(error);
      this.logger[refused ? 'error' : 'warn'](
        { err: error, status, attempt, events: pending.length },
        refused
          ? 'OpenSearch refused the bulk request; check the endpoint, credentials and index permissions (retrying)'
          : timedOut && pending.length > 1
            ? 'bulk timed out (opensearch.requestTimeoutMs); retrying it in halves'
            : 'bulk failed; retrying',
      );
      return timedOut ? { kind: 'timeout' } : { kind: 'retry' };
    }
    const sorted = this.sortItems(pending, items, attempt);
    stall.set(sorted.refusing);
    if (sorted.throttled > 0) {
      this.logger.warn(
        { attempt, retry: sorted.throttled },
        'bulk items throttled or failed; retrying',
      );
    }
    // Events just re-routed to the late index are retried at once; anything else backs off.
    const backoff = sorted.throttled > 0 || sorted.refusing.size > 0;
    if (backoff) {
      const refusing = [...sorted.refusing.values()][0];
      this.options.onRetry?.(
        'opensearch',
        refusing ?? `${sorted.throttled} items throttled or failed`,
      );
    }
    return { kind: 'sorted', settled: sorted, left: sorted.retry, backoff };
  }

  /**
   * Sorts one bulk answer item by item (see {@link classifyItem}). Refused items are counted and
   * retried, or re-routed to the late index when allowed; each refusing index is logged once per
   * attempt with what to fix and returned with that text for the stall report.
   */
  private sortItems(
    pending: readonly Pending[],
    items: readonly BulkResponseItem[],
    attempt: number,
  ) {
    const prefix = this.options.indexPrefix;
    const sorted = {
      delivered: 0,
      duplicates: 0,
      rejected: [] as RejectedEvent[],
      retry: [] as Pending[],
      throttled: 0,
      refusing: new Map<string, string>(),
    };
    const refusals = new Map<
      string,
      { reason: RefusalReason; item: BulkItemResult; events: number }
    >();
    pending.forEach((entry, i) => {
      const item = items[i]?.create ?? items[i]?.index;
      const verdict =
        item === undefined
          ? undefined
          : classifyItem(item.status, item.error?.type, item.error?.reason);
      if (item === undefined || verdict === undefined || verdict.action === 'retry') {
        sorted.retry.push(entry);
        sorted.throttled += 1;
      } else if (verdict.action === 'delivered') {
        sorted.delivered += 1;
      } else if (verdict.action === 'duplicate') {
        sorted.duplicates += 1;
      } else if (verdict.action === 'reject') {
        const kind = itemRejectionKind(item.status, item.error?.type);
        sorted.rejected.push({ event: entry.event, kind, detail: describeItemError(item) });
      } else {
        this.options.onRefused?.('opensearch', verdict.reason, 1);
        const late = lateIndex(prefix, entry.event.time);
        if (this.options.lateIndex === true && verdict.redirectable && entry.index !== late) {
          this.logger.warn(
            { index: entry.index, lateIndex: late, error: describeItemError(item) },
            'index refuses writes; sending the event to the late index (opensearch.lateIndex)',
          );
          sorted.retry.push({ event: entry.event, index: late });
          return;
        }
        sorted.retry.push(entry);
        const events = (refusals.get(entry.index)?.events ?? 0) + 1;
        refusals.set(entry.index, { reason: verdict.reason, item, events });
      }
    });
    for (const [index, { reason, item, events }] of refusals) {
      const hint = refusalHint(reason, prefix);
      const error = describeItemError(item);
      sorted.refusing.set(index, `index ${index} refuses writes (${error}): ${hint}`);
      this.logger.error(
        { index, reason, status: item.status, error, events, attempt },
        `OpenSearch refused writes to index ${index}; ${hint} (retrying, nothing is dead-lettered)`,
      );
    }
    return sorted;
  }
}
