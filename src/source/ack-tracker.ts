import { abortError } from '../util/clock.js';
import type { Batch } from './batch.js';
import { streamKey, type StreamRef } from '../util/identity.js';

/** Limits on data read but not yet acknowledged (README "Delivery", Backpressure). */
export interface AckTrackerOptions {
  /** Un-acked batches (plus pending reads) per stream. @default 4 */
  readonly maxInFlightBatchesPerStream?: number;
  /** Un-acked batches (plus pending reads) over all streams. @default 64 */
  readonly maxInFlightBatches?: number;
  /** Un-acked events over all streams, counting reserved page capacity. @default 10000 */
  readonly maxInFlightEvents?: number;
  /**
   * Un-acked message bytes (UTF-16 code units of the raw CloudWatch messages, ≈ bytes for the
   * ASCII audit records) over all streams, counting reserved page capacity. A page is reserved at
   * {@link PAGE_BYTES}, since GetLogEvents returns at most 1 MB. @default 4 MiB
   */
  readonly maxInFlightBytes?: number;
}

/** The most a GetLogEvents page can hold (1 MB of messages): what a read reserves up front. */
export const PAGE_BYTES = 1_048_576;

/** The message bytes of a batch as the byte budget counts them. */
export function batchBytes(batch: Batch): number {
  let bytes = 0;
  for (const event of batch.events) bytes += event.message.length;
  return bytes;
}

/**
 * Capacity granted to one poller for one GetLogEvents call. The poller reserves the page limit
 * before calling the API, then either registers the batch it read (the reservation shrinks to the
 * batch's real size) or releases it (empty page, error).
 */
export interface Reservation {
  readonly events: number;
  register(batch: Batch): void;
  release(): void;
}

interface Entry<S> {
  readonly batch: Batch;
  readonly bytes: number;
  acked: boolean;
  /** What the consumer attached to its acknowledgement (its state as of this batch). */
  state: S | undefined;
}

interface StreamState<S> {
  readonly entries: Entry<S>[];
  reserved: number;
  /** Events of its in-flight batches and reservations. */
  events: number;
  /** Message bytes of its in-flight batches and reservations. */
  bytes: number;
  /** Leading entries already returned by `ack` as committed, held until `settle`. */
  committed: number;
  /** The newest state attached to a committed batch (see {@link AckTracker.committedState}). */
  committedState: S | undefined;
}

interface Waiter {
  readonly key: string;
  readonly events: number;
  readonly bytes: number;
  readonly resolve: (reservation: Reservation) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/**
 * Per stream, the in-flight batches in read order. `ack` moves the committed position only over
 * the contiguous prefix of acknowledged batches (Vector's ordered finalizer, Beats' state heap),
 * so a checkpoint never passes a batch some sink has not accepted. It also bounds reads in flight
 * per stream (batches) and globally (batches, events and message bytes); pollers await a
 * {@link Reservation} before they call the API, so a slow sink stops reads instead of growing
 * memory. A committed batch keeps its capacity until {@link AckTracker.settle} says its checkpoint
 * is durable: a failing checkpoint store stops reads the same way, instead of piling up data that
 * a restart would read again.
 *
 * Each acknowledgement may carry the consumer's state as of its batch (`S`, like the payload of
 * Vector's `OrderedFinalizer<T>`); the state of the newest committed batch that carried one is
 * what goes into the checkpoint, so it always matches the committed position.
 */
export class AckTracker<S = unknown> {
  readonly maxInFlightBatchesPerStream: number;
  readonly maxInFlightBatches: number;
  readonly maxInFlightEvents: number;
  readonly maxInFlightBytes: number;
  private readonly streams = new Map<string, StreamState<S>>();
  private readonly waiters: Waiter[] = [];
  private events = 0;
  private bytes = 0;
  private batches = 0;
  /** Granted reservations not yet registered or released (pending reads), all streams. */
  private reservations = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: AckTrackerOptions = {}) {
    this.maxInFlightBatchesPerStream = Math.max(1, options.maxInFlightBatchesPerStream ?? 4);
    this.maxInFlightBatches = Math.max(1, options.maxInFlightBatches ?? 64);
    this.maxInFlightEvents = Math.max(1, options.maxInFlightEvents ?? 10_000);
    this.maxInFlightBytes = Math.max(1, options.maxInFlightBytes ?? 4 * 2 ** 20);
  }

  /** Events currently accounted (in-flight batches plus reservations). */
  get inFlightEvents(): number {
    return this.events;
  }

  /** Message bytes currently accounted (in-flight batches plus reservations). */
  get inFlightBytes(): number {
    return this.bytes;
  }

  /** Batches registered and not yet settled (acknowledged with a durable checkpoint). */
  get inFlightBatches(): number {
    return this.batches;
  }

  /** In-flight batches of one stream. */
  pending(stream: StreamRef): number {
    return this.streams.get(streamKey(stream))?.entries.length ?? 0;
  }

  /**
   * Waits until the stream may have one more batch in flight and `events` more events and a full
   * page of bytes fit in the global budgets (each clamped to its budget, so an oversize request
   * still proceeds once everything else is acknowledged). A stream that already holds events is
   * granted only while another reservation of the same size would still fit, so one stuck stream
   * never holds the whole budget. Waiters are served in arrival order, except that a waiter
   * blocked only by its own stream's limits does not hold up other streams.
   */
  reserve(stream: StreamRef, events: number, signal?: AbortSignal): Promise<Reservation> {
    const key = streamKey(stream);
    const size = Math.min(Math.max(0, events), this.maxInFlightEvents);
    const bytes = Math.min(PAGE_BYTES, this.maxInFlightBytes);
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<Reservation>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortError(signal));
        // A departing head-of-line waiter may have been blocking smaller ones.
        this.wake();
      };
      const waiter: Waiter = {
        key,
        events: size,
        bytes,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      // Queue first, then let `wake` decide: it alone applies the ordering rules.
      this.wake();
    });
  }

  /**
   * {@link reserve} without waiting: the reservation if it can be granted now (and nobody waits
   * before it), otherwise undefined.
   */
  tryReserve(stream: StreamRef, events: number): Reservation | undefined {
    if (this.waiters.length > 0) return undefined;
    const key = streamKey(stream);
    const size = Math.min(Math.max(0, events), this.maxInFlightEvents);
    const bytes = Math.min(PAGE_BYTES, this.maxInFlightBytes);
    if (this.blocker(key, size, bytes) !== undefined) return undefined;
    return this.grant(key, size, bytes);
  }

  /**
   * Marks a batch acknowledged. Returns the newest batch of the contiguous acknowledged prefix
   * (its `resume` is the checkpoint to persist) when the prefix grew, otherwise undefined
   * (an earlier batch is still pending, or the batch is unknown / already acknowledged). The
   * committed batches stay in flight until {@link settle}. `consumerState` is the consumer's
   * state as of this batch, reported by {@link committedState} once the batch is committed.
   */
  ack(batch: Batch, consumerState?: S): Batch | undefined {
    const state = this.streams.get(streamKey(batch.stream));
    const entry = state?.entries.find((e) => e.batch.id === batch.id);
    if (state === undefined || entry === undefined || entry.acked) return undefined;
    entry.acked = true;
    entry.state = consumerState;
    let committed: Batch | undefined;
    while (state.entries[state.committed]?.acked === true) {
      const next = state.entries[state.committed] as Entry<S>;
      committed = next.batch;
      if (next.state !== undefined) state.committedState = next.state;
      state.committed += 1;
    }
    return committed;
  }

  /**
   * The state attached to the newest committed batch of the stream that carried one, until its
   * batches are all settled; undefined if none did.
   */
  committedState(stream: StreamRef): S | undefined {
    return this.streams.get(streamKey(stream))?.committedState;
  }

  /**
   * Releases the capacity of the committed batches up to and including `batch`, once a checkpoint
   * at or beyond it is durable. Batches not yet returned by {@link ack} are never released.
   */
  settle(batch: Batch): void {
    const key = streamKey(batch.stream);
    const state = this.streams.get(key);
    if (state === undefined) return;
    let released = false;
    while (state.committed > 0 && (state.entries[0] as Entry<S>).batch.seq <= batch.seq) {
      const done = state.entries.shift() as Entry<S>;
      state.committed -= 1;
      this.events -= done.batch.events.length;
      this.bytes -= done.bytes;
      state.events -= done.batch.events.length;
      state.bytes -= done.bytes;
      this.batches -= 1;
      released = true;
    }
    if (released) {
      this.cleanupStream(key, state);
      this.wake();
    }
  }

  /**
   * Removes the newest in-flight batch of its stream without committing it, for a batch the
   * pipeline refused to take (the poller rewinds and reads it again). Returns false when the batch
   * is not the newest (only the tail can be withdrawn without breaking read order).
   */
  withdraw(batch: Batch): boolean {
    const key = streamKey(batch.stream);
    const state = this.streams.get(key);
    const last = state?.entries.at(-1);
    if (state === undefined || last === undefined || last.batch.id !== batch.id || last.acked) {
      return false;
    }
    state.entries.pop();
    this.events -= batch.events.length;
    this.bytes -= last.bytes;
    state.events -= batch.events.length;
    state.bytes -= last.bytes;
    this.batches -= 1;
    this.cleanupStream(key, state);
    this.wake();
    return true;
  }

  /** Resolves once every registered batch is acknowledged and settled (draining on shutdown). */
  whenIdle(): Promise<void> {
    if (this.batches === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private streamState(key: string): StreamState<S> {
    let state = this.streams.get(key);
    if (state === undefined) {
      state = {
        entries: [],
        reserved: 0,
        events: 0,
        bytes: 0,
        committed: 0,
        committedState: undefined,
      };
      this.streams.set(key, state);
    }
    return state;
  }

  private cleanupStream(key: string, state: StreamState<S>): void {
    if (state.entries.length === 0 && state.reserved === 0) this.streams.delete(key);
    if (this.batches === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private grant(key: string, size: number, bytes: number): Reservation {
    const state = this.streamState(key);
    state.reserved += 1;
    state.events += size;
    state.bytes += bytes;
    this.reservations += 1;
    this.events += size;
    this.bytes += bytes;
    let open = true;
    const close = (): void => {
      if (!open) throw new Error('reservation already used');
      open = false;
      state.reserved -= 1;
      state.events -= size;
      state.bytes -= bytes;
      this.reservations -= 1;
      this.events -= size;
      this.bytes -= bytes;
    };
    return {
      events: size,
      register: (batch: Batch) => {
        if (streamKey(batch.stream) !== key) throw new Error('batch of another stream');
        close();
        this.streams.set(key, state);
        const size = batchBytes(batch);
        state.entries.push({ batch, bytes: size, acked: false, state: undefined });
        state.events += batch.events.length;
        state.bytes += size;
        this.events += batch.events.length;
        this.bytes += size;
        this.batches += 1;
        this.wake();
      },
      release: () => {
        close();
        this.cleanupStream(key, state);
        this.wake();
      },
    };
  }

  /** What keeps a reservation of this size from being granted now, if anything. */
  private blocker(key: string, events: number, bytes: number): 'stream' | 'budget' | undefined {
    const state = this.streams.get(key);
    const held = (state?.entries.length ?? 0) + (state?.reserved ?? 0);
    // A stream that already holds events may not take the budget's last reservation's worth:
    // a stream whose delivery is stuck (e.g. its index refuses writes) then cannot starve the
    // other streams, however the page size and the budgets are configured. Like the per-stream
    // batch limit, this waits for the stream's own acks and holds up no other waiter.
    const streamFull =
      held >= this.maxInFlightBatchesPerStream ||
      (held > 0 &&
        ((state?.events ?? 0) + 2 * events > this.maxInFlightEvents ||
          (state?.bytes ?? 0) + 2 * bytes > this.maxInFlightBytes));
    if (streamFull) return 'stream';
    if (this.batches + this.reservations >= this.maxInFlightBatches) return 'budget';
    if (this.events + events > this.maxInFlightEvents) return 'budget';
    if (this.bytes + bytes > this.maxInFlightBytes) return 'budget';
    return undefined;
  }

  private wake(): void {
    for (let i = 0; i < this.waiters.length;) {
      const waiter = this.waiters[i] as Waiter;
      const blocker = this.blocker(waiter.key, waiter.events, waiter.bytes);
      if (blocker === 'stream') {
        i += 1;
        continue;
      }
      // Global budgets are strictly first-come first-served so that large reservations are not
      // starved by a stream of small ones.
      if (blocker === 'budget') return;
      this.waiters.splice(i, 1);
      waiter.cleanup();
      waiter.resolve(this.grant(waiter.key, waiter.events, waiter.bytes));
    }
  }
}
