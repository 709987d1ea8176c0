import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';

import { FileCheckpointStore } from '../../../src/checkpoint/file-store.js';
import {
  SdkCloudWatchPort,
  type CloudWatchPort,
  type GetLogEventsInput,
} from '../../../src/source/cloudwatch-port.js';
import { CloudWatchSource } from '../../../src/source/cloudwatch-source.js';
import { RecordingMetrics } from '../../unit/source/support/recording-metrics.js';
import { client, uniquePrefix, waitFor, Writer } from './support/aws.js';
import { checkpointDir } from './support/checkpoint-dir.js';
import { MemorySink } from './support/memory-sink.js';
import { TEST_SCOPE } from '../../helpers/checkpoint-scope.js';

/** Records the instant every GetLogEvents call leaves (the SDK's send hook: onSend). */
class CountingPort implements CloudWatchPort {
  readonly calls: number[] = [];
  private readonly inner: CloudWatchPort;
  constructor(inner: CloudWatchPort) {
    this.inner = inner;
  }
  describeLogGroups: CloudWatchPort['describeLogGroups'] = (i, s) =>
    this.inner.describeLogGroups(i, s);
  describeLogStreams: CloudWatchPort['describeLogStreams'] = (i, s) =>
    this.inner.describeLogStreams(i, s);
  getLogEvents = (input: GetLogEventsInput, signal?: AbortSignal, onSend?: () => void) =>
    this.inner.getLogEvents(input, signal, () => {
      this.calls.push(performance.now());
      onSend?.();
    });
}

function maxPerSlidingSecond(times: readonly number[]): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] as number) - (times[start] as number) >= 1000) start += 1;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('rate limits and failures against the emulator', () => {
  it('(d) 300 streams at 5 GetLogEvents/s: the rate is never exceeded and every stream is read', async () => {
    const cwl = client();
    const prefix = uniquePrefix();
    const writer = new Writer(cwl);
    const group = `${prefix}d`;
    await writer.createGroup(group);
    const names = Array.from({ length: 300 }, (_, i) => `hsm-${String(i).padStart(4, '0')}`);
    await Promise.all(names.map((n) => writer.createStream(group, n)));
    await Promise.all(names.map((n) => writer.append(group, n, 1)));
    const port = new CountingPort(new SdkCloudWatchPort(cwl));
    const source = new CloudWatchSource({
      port,
      checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir: await checkpointDir() }),
      discovery: { logGroupPrefixes: [prefix], intervalMs: 60_000 },
      scheduling: { minIdleMs: 1000 },
      rateLimits: { GetLogEvents: { ratePerSecond: 5 } },
    });
    const sink = new MemorySink();
    sink.source = source;
    await source.start(sink.handler);
    try {
      await waitFor(() => sink.received.size === 300, 90_000, 'all 300 streams');
    } finally {
      // Also on a timeout: running pollers would keep the test process alive for good.
      await source.stop();
      cwl.destroy();
    }
    const max = maxPerSlidingSecond(port.calls);
    const seconds = ((port.calls.at(-1) ?? 0) - (port.calls[0] ?? 0)) / 1000;
    console.log(`(d) ${port.calls.length} calls in ${seconds.toFixed(1)} s, max ${max} per second`);
    assert.ok(max <= 5, `max ${max} calls in a sliding second`);
    assert.ok(port.calls.length >= 300, `the SDK port reported ${port.calls.length} sends`);
    assert.equal(sink.count, 300);
  });

  it('(e) injected throttling and 5xx: no crash, no loss, backoff and throttles counted', async () => {
    const cwl = client();
    let injected = { throttles: 0, errors: 0 };
    // Answers a share of GetLogEvents calls with a real-looking error response, below the SDK's
    // deserializer, so the error objects are exactly what production would see.
    cwl.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetLogEventsCommand') {
          const roll = Math.random();
          const fault =
            roll < 0.3
              ? { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }
              : roll < 0.4
                ? { status: 503, type: 'ServiceUnavailableException', message: 'try later' }
                : undefined;
          if (fault !== undefined) {
            if (fault.status === 400) injected = { ...injected, throttles: injected.throttles + 1 };
            else injected = { ...injected, errors: injected.errors + 1 };
            const body = JSON.stringify({ __type: fault.type, message: fault.message });
            return {
              response: {
                statusCode: fault.status,
                reason: fault.type,
                headers: { 'content-type': 'application/x-amz-json-1.1' },
                body: Readable.from([Buffer.from(body)]),
              },
              output: undefined as never,
            };
          }
        }
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'faultInjection' },
    );
    const prefix = uniquePrefix();
    const writer = new Writer(cwl);
    const streams: [string, string][] = [];
    for (const suffix of ['e1', 'e2']) {
      await writer.createGroup(`${prefix}${suffix}`);
      for (const s of ['hsm-00e1', 'hsm-00e2', `cluster-${suffix}`]) {
        await writer.createStream(`${prefix}${suffix}`, s);
        streams.push([`${prefix}${suffix}`, s]);
      }
    }
    for (const [g, s] of streams) await writer.append(g, s, 20);
    const metrics = new RecordingMetrics();
    const source = new CloudWatchSource({
      port: new SdkCloudWatchPort(cwl),
      checkpointStore: new FileCheckpointStore({ scope: TEST_SCOPE, dir: await checkpointDir() }),
      metrics,
      discovery: { logGroupPrefixes: [prefix], intervalMs: 1000 },
      polling: { pageLimit: 7 },
      scheduling: { minIdleMs: 50 },
      rateLimits: { GetLogEvents: { ratePerSecond: 50 } },
      backoff: { baseMs: 20, maxMs: 200 },
    });
    const sink = new MemorySink();
    sink.source = source;
    await source.start(sink.handler);
    for (let round = 0; round < 3; round += 1) {
      for (const [g, s] of streams) await writer.append(g, s, 3);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(() => sink.count >= writer.total(), 60_000, 'all records despite faults');
    await new Promise((r) => setTimeout(r, 300));
    await source.stop();
    cwl.destroy();
    for (const [key, written] of writer.written) {
      assert.deepEqual(sink.received.get(key), written, key);
    }
    assert.ok(injected.throttles > 0 && injected.errors > 0);
    assert.equal(metrics.throttles, injected.throttles);
    assert.equal(metrics.calls('GetLogEvents', 'throttled'), injected.throttles);
    assert.equal(metrics.calls('GetLogEvents', 'retryable_error'), injected.errors);
    assert.ok(metrics.retries >= injected.throttles + injected.errors);
  });
});
