// Refusals caused by the cluster's configuration, provoked on the real node: a write block on the
// day's index, a closed index, automatic index creation turned off, an invalid index name. Each
// must hold the event back (retried, logged, counted, reported for /readyz) and never dead-letter
// it; only a refusal of the document itself goes to the dead letter.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Dispatcher } from '../../../src/pipeline/dispatcher.js';
import { DeadLetter } from '../../../src/sink/dead-letter.js';
import { createOpenSearchClient } from '../../../src/sink/opensearch-client.js';
import { dailyIndex } from '../../../src/sink/opensearch-template.js';
import { OpenSearchSink } from '../../../src/sink/opensearch.js';
import type { OpenSearchSinkOptions } from '../../../src/sink/opensearch.js';
import type { OutboundEvent } from '../../../src/sink/outbound-event.js';
import { toOutboundEvent } from '../../../src/sink/outbound-event.js';
import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { SinkHealth } from '../../../src/telemetry/readiness.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import type { ComponentLogger } from '../../../src/util/logger.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();
const DAY = Date.UTC(2026, 10, 23, 12);
const OTHER_DAY = Date.UTC(2026, 10, 24, 12);
const DEADLINE_MS = 60_000;

function event(i: number, time = DAY + i, hsm = 'hsm-aaaaaaaaaaa'): OutboundEvent {
  const doc = {
    time,
    class_uid: 3002,
    activity_id: 1,
    metadata: { uid: `${hsm}:0x1:0x${i.toString(16)}`, version: '1.1.0', sequence: i },
    device: { uid: hsm },
  };
  return { uid: doc.metadata.uid, key: hsm, time, classUid: 3002, json: JSON.stringify(doc) };
}

/** Waits on observable state, never on elapsed time: the deadline only ends a hung test. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Observed {
  readonly refused: Map<string, number>;
  readonly errors: string[];
  readonly options: Pick<OpenSearchSinkOptions, 'onRefused' | 'onStall' | 'onHealth' | 'logger'>;
}

/** Collects what the sink reports through its hooks, as the forwarder's telemetry would. */
function observe(health: SinkHealth): Observed {
  const refused = new Map<string, number>();
  const errors: string[] = [];
  const ignore = (): void => {};
  const logger: ComponentLogger = {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (fields, message) => errors.push(`${message} ${JSON.stringify(fields)}`),
  };
  return {
    refused,
    errors,
    options: {
      logger,
      onHealth: health.listener,
      onStall: health.stallListener,
      onRefused: (_sink, reason, count) => refused.set(reason, (refused.get(reason) ?? 0) + count),
    },
  };
}

/** A flag that turns true once `promise` settles either way. */
function settledFlag(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  void promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

describe('OpenSearch refusals caused by configuration (real node)', () => {
  const prefix = `sink-refusal-${uniqueSuffix()}`;
  const client = createOpenSearchClient({ url: env.opensearchUrl });
  let dlqDir: string;

  before(async () => {
    dlqDir = await mkdtemp(join(tmpdir(), 'dlq-refusal-'));
    await new OpenSearchSink({ client, indexPrefix: prefix }).start();
  });

  after(async () => {
    await client.cluster.putSettings({
      body: { persistent: { 'action.auto_create_index': null } },
    });
    await client.indices.delete({ index: `${prefix}-*`, expand_wildcards: 'all' });
    await client.indices.deleteIndexTemplate({ name: `${prefix}-template` });
    await client.close();
  });

  async function count(index: string): Promise<number> {
    await client.indices.refresh({ index });
    return (await client.count({ index })).body.count;
  }

  it('holds a record for a write-blocked day, reports it, delivers it once the block is lifted; the dead letter stays empty', async () => {
    const health = new SinkHealth({ downAfterMs: 1_000 });
    health.register('opensearch');
    const seen = observe(health);
    const sink = new OpenSearchSink({ client, indexPrefix: prefix, ...seen.options });
    const deadLetterFile = join(dlqDir, 'blocked.ndjson');
    const deadLetter = new DeadLetter({ file: deadLetterFile });
    await deadLetter.start();
    const dispatcher = new Dispatcher({ sinks: [sink], deadLetter });

    const blocked = dailyIndex(prefix, DAY);
    await client.indices.create({ index: blocked });
    await client.indices.putSettings({ index: blocked, body: { 'index.blocks.write': true } });

    // Two streams: one whose record is dated the blocked day, one writing to another day.
    const held = dispatcher.dispatch([event(1)], new AbortController().signal);
    const state = settledFlag(held);
    await until(
      'the blocked record is refused twice (or, wrongly, handed to the dead letter)',
      () => state.settled || (seen.refused.get('index_blocked') ?? 0) >= 2,
    );
    assert.equal(state.settled, false, 'the record must wait for the index, not be dead-lettered');

    await dispatcher.dispatch(
      [event(2, OTHER_DAY, 'hsm-bbbbbbbbbbb')],
      new AbortController().signal,
    );
    assert.equal(await count(dailyIndex(prefix, OTHER_DAY)), 1, 'the other stream keeps flowing');

    await until('readiness reports the refusing index', () => !health.check('opensearch').ok);
    assert.match(
      health.check('opensearch').detail ?? '',
      new RegExp(`index ${blocked} refuses writes \\(cluster_block_exception.*write block`),
    );
    assert.ok(
      seen.errors.some((line) => line.includes(blocked) && line.includes('index.blocks.write')),
      'an error log names the index and what to fix',
    );
    assert.equal(state.settled, false);

    await client.indices.putSettings({ index: blocked, body: { 'index.blocks.write': false } });
    await held;
    assert.equal(await count(blocked), 1, 'the record landed once the block was lifted');
    assert.deepEqual(health.check('opensearch'), { ok: true });
    await assert.rejects(readFile(deadLetterFile, 'utf8'), { code: 'ENOENT' }, 'dead letter empty');
    await deadLetter.stop();
  });

  it('holds a record for a closed index until it is opened', async () => {
    const health = new SinkHealth({ downAfterMs: 60_000 });
    health.register('opensearch');
    const seen = observe(health);
    const sink = new OpenSearchSink({ client, indexPrefix: prefix, ...seen.options });
    const time = Date.UTC(2026, 9, 2, 12);
    const closed = dailyIndex(prefix, time);
    await client.indices.create({ index: closed });
    await client.indices.close({ index: closed });

    const pending = sink.deliver([event(10, time)], new AbortController().signal);
    const state = settledFlag(pending);
    await until(
      'the closed index refuses the record twice (or, wrongly, it is rejected)',
      () => state.settled || (seen.refused.get('index_closed') ?? 0) >= 2,
    );
    assert.equal(state.settled, false, 'a closed index is no reason to dead-letter the record');
    assert.match(health.check('opensearch').detail ?? '', /index_closed_exception.*open it/);

    await client.indices.open({ index: closed });
    assert.deepEqual(await pending, { delivered: 1, duplicates: 0, rejected: [] });
    assert.equal(await count(closed), 1);
  });

  it('holds a record while automatic index creation is off, until the index exists', async () => {
    const health = new SinkHealth({ downAfterMs: 60_000 });
    health.register('opensearch');
    const seen = observe(health);
    const sink = new OpenSearchSink({ client, indexPrefix: prefix, ...seen.options });
    const time = Date.UTC(2026, 9, 3, 12);
    const missing = dailyIndex(prefix, time);
    await client.cluster.putSettings({
      body: { persistent: { 'action.auto_create_index': 'false' } },
    });

    const pending = sink.deliver([event(20, time)], new AbortController().signal);
    const state = settledFlag(pending);
    await until(
      'the missing index refuses the record twice (or, wrongly, it is rejected)',
      () => state.settled || (seen.refused.get('index_not_found') ?? 0) >= 2,
    );
    assert.equal(state.settled, false, 'a missing index is no reason to dead-letter the record');
    assert.match(health.check('opensearch').detail ?? '', /action\.auto_create_index/);

    await client.indices.create({ index: missing }); // what an operator would do
    assert.deepEqual(await pending, { delivered: 1, duplicates: 0, rejected: [] });
    await client.cluster.putSettings({
      body: { persistent: { 'action.auto_create_index': null } },
    });
  });

  it('holds records for an invalid index name until stopped, never rejecting them', async () => {
    const health = new SinkHealth({ downAfterMs: 60_000 });
    health.register('opensearch');
    const seen = observe(health);
    // The config rejects such a prefix; built directly, the node's answer is what is under test.
    const sink = new OpenSearchSink({ client, indexPrefix: 'Upper-Case', ...seen.options });
    const abort = new AbortController();
    const pending = sink.deliver([event(30)], abort.signal);
    const state = settledFlag(pending);
    await until(
      'the invalid name is refused twice (or, wrongly, the record is rejected)',
      () => state.settled || (seen.refused.get('invalid_index_name') ?? 0) >= 2,
    );
    assert.equal(state.settled, false, 'an invalid index name is no reason to dead-letter');
    assert.match(health.check('opensearch').detail ?? '', /opensearch\.indexPrefix/);
    abort.abort(new Error('stopping'));
    await assert.rejects(pending);
    assert.deepEqual(health.check('opensearch'), { ok: true }, 'a stopped wait holds nothing');
  });

  // Three faults of the cluster that OpenSearch answers with a 400 for every document, as for a
  // bad one. They were dead-lettered as mapping_error (15 of 15, the checkpoints moving past
  // them): each must now hold the records until the cluster is fixed, then deliver them once.
  const faults: ReadonlyArray<{
    name: string;
    reason: string;
    hint: RegExp;
    provoke: (index: string) => Promise<void>;
    fix: (index: string) => Promise<void>;
  }> = [
    {
      name: 'the day is an alias over two indices with no write index',
      reason: 'no_write_index',
      hint: /alias without a write index/,
      provoke: async (index) => {
        await client.indices.create({ index: `${index}-a` });
        await client.indices.create({ index: `${index}-b` });
        await client.indices.updateAliases({
          body: {
            actions: [
              { add: { index: `${index}-a`, alias: index } },
              { add: { index: `${index}-b`, alias: index } },
            ],
          },
        });
      },
      fix: async (index) => {
        await client.indices.updateAliases({
          body: { actions: [{ add: { index: `${index}-a`, alias: index, is_write_index: true } }] },
        });
      },
    },
    {
      name: 'the index names a default ingest pipeline that does not exist',
      reason: 'pipeline_missing',
      hint: /ingest pipeline that does not exist/,
      provoke: async (index) => {
        await client.indices.create({
          index,
          body: { settings: { 'index.default_pipeline': `${index}-pipeline` } },
        });
      },
      fix: async (index) => {
        await client.ingest.putPipeline({
          id: `${index}-pipeline`,
          body: { description: 'created by the operator', processors: [] },
        });
      },
    },
    {
      name: 'the day was created in advance with a conflicting mapping',
      reason: 'mapping_conflict',
      hint: /maps a field otherwise than the forwarder's template/,
      provoke: async (index) => {
        await client.indices.create({
          index,
          body: { mappings: { properties: { time: { type: 'boolean' } } } },
        });
      },
      // What the hint says: delete it, so that the template creates it again.
      fix: async (index) => {
        await client.indices.delete({ index });
      },
    },
  ];

  for (const [n, fault] of faults.entries()) {
    it(`holds every record while ${fault.name}, and delivers each once when it is fixed`, async () => {
      const health = new SinkHealth({ downAfterMs: 500 });
      health.register('opensearch');
      const seen = observe(health);
      const sink = new OpenSearchSink({ client, indexPrefix: prefix, ...seen.options });
      const deadLetterFile = join(dlqDir, `fault-${n}.ndjson`);
      const deadLetter = new DeadLetter({ file: deadLetterFile });
      await deadLetter.start();
      const dispatcher = new Dispatcher({ sinks: [sink], deadLetter });
      const time = Date.UTC(2026, 8, 10 + n, 12);
      const index = dailyIndex(prefix, time);
      await fault.provoke(index);

      const records = Array.from({ length: 15 }, (_, i) => event(100 * (n + 1) + i, time + i));
      const held = dispatcher.dispatch(records, new AbortController().signal);
      const state = settledFlag(held);
      await until(
        `the records are refused as ${fault.reason} (or, wrongly, dead-lettered)`,
        () => state.settled || (seen.refused.get(fault.reason) ?? 0) >= 30,
      );
      assert.equal(state.settled, false, 'the records must wait for the cluster to be fixed');
      await until('readiness reports the refusal', () => !health.check('opensearch').ok);
      assert.match(health.check('opensearch').detail ?? '', fault.hint);
      assert.ok(
        seen.errors.some((line) => line.includes(index) && fault.hint.test(line)),
        'an error log names the index and what to fix',
      );

      await fault.fix(index);
      await held;
      await client.indices.refresh({ index: `${prefix}-*` });
      const found = await client.count({
        index: `${prefix}-*`,
        body: { query: { terms: { _id: records.map((r) => r.uid) } } },
      });
      assert.equal(found.body.count, 15, 'every record once');
      assert.deepEqual(health.check('opensearch'), { ok: true });
      await assert.rejects(
        readFile(deadLetterFile, 'utf8'),
        { code: 'ENOENT' },
        'dead letter empty',
      );
      await deadLetter.stop();
    });
  }

  it('still dead-letters a document the template itself cannot take', async () => {
    const sink = new OpenSearchSink({ client, indexPrefix: prefix });
    const time = Date.UTC(2026, 8, 20, 12);
    const bad = event(900, time);
    const doc = JSON.parse(bad.json) as Record<string, unknown>;
    doc.device = { uid: 'hsm-aaaaaaaaaaa', ip: 'not-an-address' };
    const result = await sink.deliver(
      [{ ...bad, json: JSON.stringify(doc) }],
      new AbortController().signal,
    );
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0]?.kind, 'mapping_error');
  });

  it('indexes the records of a stream whose name is near the 512-character limit', async () => {
    // The uid is the _id: with the whole name in it, it passed OpenSearch's 512-byte limit and
    // every record of such a stream was dead-lettered.
    const sink = new OpenSearchSink({ client, indexPrefix: prefix });
    const logStream = `long-${'n'.repeat(495)}`;
    const message = formatAuditRecord({
      usecs: BigInt(Date.UTC(2026, 8, 21, 12)) * 1000n,
      sequence: 1n,
      rebootCounter: 1,
      opcode: 'CN_FIND_OBJECTS_USING_COUNT',
      sessionHandle: 7,
    });
    const events = ['{"a":1}', message].map((text, i) =>
      toOutboundEvent(
        toOcsfEvent({
          logGroup: '/aws/cloudhsm/cluster-long',
          logStream,
          timestamp: Date.UTC(2026, 8, 21, 12) + i,
          message: text,
        }),
        logStream,
      ),
    );
    const result = await sink.deliver(events, new AbortController().signal);
    assert.deepEqual(result, { delivered: 2, duplicates: 0, rejected: [] });
  });

  it('with lateIndex, sends a record for a write-blocked day to the late index at once', async () => {
    const health = new SinkHealth({ downAfterMs: 60_000 });
    health.register('opensearch');
    const seen = observe(health);
    const sink = new OpenSearchSink({
      client,
      indexPrefix: prefix,
      lateIndex: true,
      ...seen.options,
    });
    const time = Date.UTC(2026, 9, 4, 12);
    const blocked = dailyIndex(prefix, time);
    await client.indices.create({ index: blocked });
    await client.indices.putSettings({ index: blocked, body: { 'index.blocks.write': true } });

    const late = event(40, time);
    const result = await sink.deliver([late, event(41, OTHER_DAY)], new AbortController().signal);
    assert.deepEqual(result, { delivered: 2, duplicates: 0, rejected: [] });
    const lateName = `${prefix}-late-2026.10`;
    const doc = await client.get({ index: lateName, id: late.uid });
    assert.equal(JSON.stringify(doc.body._source), late.json);
    // A replay while the block lasts finds it there again: still one document.
    assert.deepEqual(await sink.deliver([late], new AbortController().signal), {
      delivered: 0,
      duplicates: 1,
      rejected: [],
    });
    assert.equal(seen.refused.get('index_blocked'), 2, 'each refusal is still counted');
    assert.deepEqual(health.check('opensearch'), { ok: true });
  });
});
