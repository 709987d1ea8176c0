/**
 * OpenSearch sink (design §3.5): one bulk request per chunk of a batch, action `create` with
 * `_id` = event uid into the daily index of the event's own time. Per item: 201 is delivered,
 * 409 is "already indexed" (a duplicate, still success), 429 and 5xx are retried with backoff for
 * just those items, any other error is a permanent rejection handed back for the dead-letter
 * destination. A whole request refused for its content (413 too large, 400) is halved until the
 * offending event stands alone, and only that event is rejected. Every other whole-request
 * failure (node down, timeouts, 429/5xx, and 401/403/other 4xx, which are configuration or
 * permission problems) retries the chunk forever with backoff and marks the sink unhealthy: it
 * stalls delivery instead of dead-lettering events that are not at fault.
 */
import type { Client } from '@opensearch-project/opensearch';

import { backoffDelay } from '../util/backoff.js';
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import { dailyIndex, indexTemplate, TEMPLATE_VERSION } from './opensearch-template.js';
import type { OutboundEvent } from './outbound-event.js';
import type { RejectedEvent, Sink, SinkHealthListener, SinkResult } from './sink.js';

export interface OpenSearchSinkOptions {
  readonly client: Client;
  readonly indexPrefix: string;
  /** Documents per bulk request. */
  readonly bulkMaxDocs?: number;
  /** Payload bytes per bulk request (the helpers' default flush size). */
  readonly bulkMaxBytes?: number;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
  readonly onHealth?: SinkHealthListener;
}

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

type BulkResponseItem = Partial<Record<'create' | 'index', BulkItemResult>>;

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function describeItemError(item: BulkItemResult): string {
  const error = item.error;
  if (error === undefined) return `status ${item.status}`;
  const cause = error.caused_by?.reason === undefined ? '' : ` (${error.caused_by.reason})`;
  return `${error.type ?? 'error'}: ${error.reason ?? 'no reason given'}${cause}`;
}

function statusOf(error: unknown): number | undefined {
  const meta = (error as { meta?: { statusCode?: unknown } } | undefined)?.meta;
  return typeof meta?.statusCode === 'number' ? meta.statusCode : undefined;
}

export class OpenSearchSink implements Sink {
  readonly name = 'opensearch' as const;
  private readonly options: OpenSearchSinkOptions;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;

  constructor(options: OpenSearchSinkOptions) {
    this.options = options;
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  /** Installs (or upgrades) the versioned index template. */
  async start(): Promise<void> {
    const name = `${this.options.indexPrefix}-template`;
    let installed: number | undefined;
    try {
      const existing = await this.client.indices.getIndexTemplate({ name });
      const template = existing.body.index_templates[0]?.index_template as
        { version?: number } | undefined;
      installed = template?.version;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (installed !== undefined && installed >= TEMPLATE_VERSION) {
      this.logger.info({ template: name, installed }, 'index template is current');
    } else {
      await this.client.indices.putIndexTemplate({
        name,
        body: indexTemplate(this.options.indexPrefix),
      });
      this.logger.info({ template: name, version: TEMPLATE_VERSION }, 'index template installed');
    }
    this.options.onHealth?.('opensearch', true);
  }

  async deliver(events: readonly OutboundEvent[], signal: AbortSignal): Promise<SinkResult> {
    let delivered = 0;
    let duplicates = 0;
    const rejected: RejectedEvent[] = [];
    const maxDocs = this.options.bulkMaxDocs ?? 1000;
    const maxBytes = this.options.bulkMaxBytes ?? 5_000_000;
    let start = 0;
    while (start < events.length) {
      let end = start;
      let bytes = 0;
      while (end < events.length && end - start < maxDocs) {
        const size = (events[end]?.json.length ?? 0) + 100;
        if (end > start && bytes + size > maxBytes) break;
        bytes += size;
        end += 1;
      }
      const result = await this.deliverChunk(events.slice(start, end), signal);
      delivered += result.delivered;
      duplicates += result.duplicates;
      rejected.push(...result.rejected);
      start = end;
    }
    return { delivered, duplicates, rejected };
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

  private async deliverChunk(chunk: OutboundEvent[], signal: AbortSignal): Promise<SinkResult> {
    let pending = chunk;
    let delivered = 0;
    let duplicates = 0;
    const rejected: RejectedEvent[] = [];
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (signal.aborted) throw signal.reason;
      let items: BulkResponseItem[];
      try {
        const body: string[] = [];
        for (const event of pending) {
          body.push(
            JSON.stringify({
              create: { _index: dailyIndex(this.options.indexPrefix, event.time), _id: event.uid },
            }),
            event.json,
          );
        }
        // String entries are sent verbatim: each event is serialized once, shared with Kafka.
        const response = await this.client.bulk({ body: body as never });
        items = response.body.items;
        this.options.onHealth?.('opensearch', true);
      } catch (error) {
        if (isAbortError(error)) throw error;
        const status = statusOf(error);
        const message = error instanceof Error ? error.message : String(error);
        if (status === 413 || status === 400) {
          // Refused for its content as a whole: halve the request until the offending event
          // stands alone, so one bad or oversized event does not take the others with it.
          const alone = pending.length === 1 ? pending[0] : undefined;
          if (alone === undefined) {
            const half = Math.ceil(pending.length / 2);
            for (const part of [pending.slice(0, half), pending.slice(half)]) {
              const result = await this.deliverChunk(part, signal);
              delivered += result.delivered;
              duplicates += result.duplicates;
              rejected.push(...result.rejected);
            }
            return { delivered, duplicates, rejected };
          }
          const hint =
            status === 413 ? " (this event alone exceeds the node's http.max_content_length)" : '';
          rejected.push({ event: alone, reason: `bulk ${status}: ${message}${hint}` });
          return { delivered, duplicates, rejected };
        }
        // Anything else stalls delivery and retries: no response, 429 and 5xx are outages, and
        // 401/403 or another 4xx mean credentials, permissions or an endpoint to fix. None of
        // them says anything about the events, so none of them may dead-letter an event.
        this.options.onHealth?.('opensearch', false, message);
        const refused = status !== undefined && !isRetryableStatus(status);
        this.logger[refused ? 'error' : 'warn'](
          { err: error, status, attempt, events: pending.length },
          refused
            ? 'OpenSearch refused the bulk request; check the endpoint, credentials and index permissions (retrying)'
            : 'bulk failed; retrying',
        );
        await this.clock.sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }), signal);
        continue;
      }
      const retry: OutboundEvent[] = [];
      pending.forEach((event, i) => {
        const item = items[i]?.create ?? items[i]?.index;
        if (item === undefined) {
          retry.push(event);
        } else if (item.status === 200 || item.status === 201) {
          delivered += 1;
        } else if (item.status === 409) {
          duplicates += 1;
        } else if (isRetryableStatus(item.status)) {
          retry.push(event);
        } else {
          rejected.push({ event, reason: describeItemError(item) });
        }
      });
      if (retry.length > 0) {
        this.logger.warn(
          { attempt, retry: retry.length },
          'bulk items throttled or failed; retrying',
        );
        await this.clock.sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }), signal);
      }
      pending = retry;
    }
    return { delivered, duplicates, rejected };
  }
}
