/**
 * Fans one batch out to every enabled sink and resolves when all of them are done with it:
 * each sink retries on its own (a failing sink is retried alone; the other is never re-sent
 * what it accepted) and permanent rejections go to the dead-letter destination, which is itself
 * retried until it has them. Only then may the batch be acknowledged.
 */
import { isAbortError, systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { noopLogger } from '../util/logger.js';
import type { ComponentLogger } from '../util/logger.js';
import { RETRY_BACKOFF, retryUntilDone } from '../util/retry.js';
import type { DeadLetterWriter } from '../sink/dead-letter.js';
import type { OutboundEvent } from '../sink/outbound-event.js';
import type { RejectedEvent, RejectionKind, Sink, SinkName, SinkResult } from '../sink/sink.js';

/** Where the dispatcher sends work: a sink, or the dead letter for what a sink rejected. */
export type Destination = SinkName | 'dead_letter';

export interface DispatchObserver {
  /** Work for `destination` begins and ends (either way): its progress, for `/readyz`. */
  deliveryStarted?(destination: Destination): void;
  deliveryFinished?(destination: Destination): void;
  /** A dead-letter write failed and will be tried again after a back-off. */
  deadLetterRetried?(reason: string): void;
  sinkResult(sink: SinkName, result: SinkResult, seconds: number): void;
  deadLettered(
    sink: SinkName,
    count: number,
    destination: 'kafka' | 'file',
    kind: RejectionKind,
  ): void;
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
    const observer = this.options.observer;
    observer?.deliveryStarted?.(sink.name);
    let result: SinkResult;
    try {
      result = await sink.deliver(events, signal);
    } finally {
      observer?.deliveryFinished?.(sink.name);
    }
    observer?.sinkResult(sink.name, result, (this.clock.now() - started) / 1000);
    if (result.rejected.length === 0) return;
    observer?.deliveryStarted?.('dead_letter');
    let destination: 'kafka' | 'file';
    try {
      destination = await this.writeDeadLetters(sink.name, result.rejected, signal);
    } finally {
      observer?.deliveryFinished?.('dead_letter');
    }
    const kinds = new Map<RejectionKind, number>();
    for (const { kind } of result.rejected) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    for (const [kind, count] of kinds) observer?.deadLettered(sink.name, count, destination, kind);
    const first = result.rejected[0];
    this.logger.warn(
      {
        sink: sink.name,
        count: result.rejected.length,
        destination,
        kind: first?.kind,
        reason: first?.detail,
      },
      'events rejected permanently went to the dead-letter destination',
    );
  }

  /** Retries the dead-letter write until it holds the entries: they must not be lost. */
  private async writeDeadLetters(
    sink: SinkName,
    rejected: readonly RejectedEvent[],
    signal: AbortSignal,
  ): Promise<'kafka' | 'file'> {
    const end = await retryUntilDone(
      rejected,
      async (entries, attempt) => {
        try {
          return { kind: 'success', value: await this.options.deadLetter.write(sink, entries) };
        } catch (error) {
          if (isAbortError(error)) throw error;
          this.logger.error({ err: error, attempt }, 'dead-letter write failed; retrying');
          this.options.observer?.deadLetterRetried?.(
            error instanceof Error ? error.message : String(error),
          );
          return { kind: 'retry' };
        }
      },
      { backoff: RETRY_BACKOFF.deadLetter, clock: this.clock, signal },
    );
    return end.value;
  }
}
