/**
 * Fans one batch out to every enabled sink and resolves when all of them are done with it:
 * each sink retries on its own (a failing sink is retried alone; the other is never re-sent
 * what it accepted) and permanent rejections go to the dead-letter destination, which is itself
 * retried until it has them. Only then may the batch be acknowledged.
 */
import { backoffDelay } from '../util/backoff.js';
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import type { DeadLetterWriter } from '../sink/dead-letter.js';
import type { OutboundEvent } from '../sink/outbound-event.js';
import type { Sink, SinkName, SinkResult } from '../sink/sink.js';

export interface DispatchObserver {
  sinkResult(sink: SinkName, result: SinkResult, seconds: number): void;
  deadLettered(sink: SinkName, count: number, destination: 'kafka' | 'file', reason: string): void;
}

export interface DispatcherOptions {
  readonly sinks: readonly Sink[];
  readonly deadLetter: DeadLetterWriter;
  readonly observer?: DispatchObserver;
  readonly clock?: Clock;
  readonly logger?: ComponentLogger;
}

export class Dispatcher {
  private readonly options: DispatcherOptions;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  async dispatch(events: readonly OutboundEvent[], signal: AbortSignal): Promise<void> {
    if (events.length === 0) return;
    await Promise.all(this.options.sinks.map((sink) => this.deliverTo(sink, events, signal)));
  }

  private async deliverTo(
    sink: Sink,
    events: readonly OutboundEvent[],
    signal: AbortSignal,
  ): Promise<void> {
    const started = this.clock.now();
    const result = await sink.deliver(events, signal);
    this.options.observer?.sinkResult(sink.name, result, (this.clock.now() - started) / 1000);
    if (result.rejected.length === 0) return;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const destination = await this.options.deadLetter.write(sink.name, result.rejected);
        const reasons = new Map<string, number>();
        for (const { reason } of result.rejected)
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        for (const [reason, count] of reasons) {
          this.options.observer?.deadLettered(sink.name, count, destination, reason);
        }
        this.logger.warn(
          {
            sink: sink.name,
            count: result.rejected.length,
            destination,
            reason: result.rejected[0]?.reason,
          },
          'events rejected permanently went to the dead-letter destination',
        );
        return;
      } catch (error) {
        if (isAbortError(error)) throw error;
        this.logger.error({ err: error, attempt }, 'dead-letter write failed; retrying');
        await this.clock.sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 30_000 }), signal);
      }
    }
  }
}
