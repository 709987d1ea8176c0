/**
 * The dispatcher's wiring: every sink gets the batch, each sink's permanent rejections go to the
 * dead-letter writer (retried until it holds them) and the observer counts them by the kind
 * the sink set. Sinks and the writer are small fakes of their ports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Dispatcher } from '../../../src/pipeline/dispatcher.js';
import type { DeadLetterWriter } from '../../../src/sink/dead-letter.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import type {
  RejectedEvent,
  RejectionKind,
  Sink,
  SinkName,
  SinkResult,
} from '../../../src/sink/sink.js';
import { event, recordingClock } from '../sink/support/fakes.js';

function fakeSink(name: SinkName, answer: (events: readonly OutboundEvent[]) => SinkResult) {
  const received: (readonly OutboundEvent[])[] = [];
  const sink: Sink = {
    name,
    start: () => Promise.resolve(),
    deliver: (events) => {
      received.push(events);
      return Promise.resolve(answer(events));
    },
    ping: () => Promise.resolve(true),
    stop: () => Promise.resolve(),
  };
  return { sink, received };
}

/** A writer that fails `failures` times first, then stores what it is given. */
function fakeWriter(failures: number) {
  const written: Array<{ sink: SinkName; rejected: readonly RejectedEvent[] }> = [];
  let left = failures;
  const writer: DeadLetterWriter = {
    start: () => Promise.resolve(),
    write: (sink, rejected) => {
      if (left-- > 0) return Promise.reject(new Error('disk full'));
      written.push({ sink, rejected });
      return Promise.resolve('file');
    },
    stop: () => Promise.resolve(),
  };
  return { writer, written };
}

describe('Dispatcher', () => {
  it('gives the batch to every sink and dead-letters the rejections of each by kind', async () => {
    const events = [event(0), event(1), event(2)];
    const rejectedBy = (kind: RejectionKind, i: number): RejectedEvent => ({
      event: events[i] ?? event(i),
      kind,
      detail: `${kind} of ${i}`,
    });
    const kafka = fakeSink('kafka', () => ({
      delivered: 2,
      duplicates: 0,
      rejected: [rejectedBy('too_large', 1)],
    }));
    const opensearch = fakeSink('opensearch', () => ({
      delivered: 1,
      duplicates: 0,
      rejected: [rejectedBy('mapping_error', 0), rejectedBy('mapping_error', 2)],
    }));
    const { writer, written } = fakeWriter(0);
    const counted: Array<[SinkName, number, string, RejectionKind]> = [];
    const results: Array<[SinkName, SinkResult]> = [];
    const dispatcher = new Dispatcher({
      sinks: [kafka.sink, opensearch.sink],
      deadLetter: writer,
      clock: recordingClock(),
      observer: {
        sinkResult: (sink, result) => results.push([sink, result]),
        deadLettered: (sink, count, destination, kind) =>
          counted.push([sink, count, destination, kind]),
      },
    });
    await dispatcher.dispatch(events, new AbortController().signal);
    assert.deepEqual(kafka.received, [events]);
    assert.deepEqual(opensearch.received, [events]);
    assert.deepEqual(
      written.map((w) => [w.sink, w.rejected.map((r) => r.event.uid)]),
      [
        ['kafka', [events[1]?.uid]],
        ['opensearch', [events[0]?.uid, events[2]?.uid]],
      ],
    );
    assert.deepEqual(counted, [
      ['kafka', 1, 'file', 'too_large'],
      ['opensearch', 2, 'file', 'mapping_error'],
    ]);
    assert.equal(results.length, 2);
  });

  it('retries the dead-letter write with backoff until it holds the entries', async () => {
    const rejected: RejectedEvent = { event: event(0), kind: 'rejected', detail: 'refused' };
    const sink = fakeSink('opensearch', () => ({
      delivered: 0,
      duplicates: 0,
      rejected: [rejected],
    }));
    const { writer, written } = fakeWriter(3);
    const clock = recordingClock();
    await new Dispatcher({ sinks: [sink.sink], deadLetter: writer, clock }).dispatch(
      [event(0)],
      new AbortController().signal,
    );
    assert.equal(written.length, 1);
    assert.equal(clock.sleeps.length, 3);
  });

  it('does not call the writer when nothing was rejected, nor the sinks for an empty batch', async () => {
    const sink = fakeSink('kafka', (events) => ({
      delivered: events.length,
      duplicates: 0,
      rejected: [],
    }));
    const { writer, written } = fakeWriter(0);
    const dispatcher = new Dispatcher({ sinks: [sink.sink], deadLetter: writer });
    await dispatcher.dispatch([], new AbortController().signal);
    await dispatcher.dispatch([event(0)], new AbortController().signal);
    assert.equal(sink.received.length, 1);
    assert.equal(written.length, 0);
  });
});
