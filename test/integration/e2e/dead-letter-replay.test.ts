/**
 * `dead-letter list` and `dead-letter replay` against the real OpenSearch node, on a dead-letter
 * file as the forwarder writes it. Before this, nothing re-delivered a dead letter: after a
 * cluster fault was fixed, the events dead-lettered meanwhile stayed out of OpenSearch for good.
 * A replay delivers each pending entry once, leaves the file as it is (entries refused again stay
 * pending) and records what it delivered, so a second replay sends only what is still pending.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { Client } from '@opensearch-project/opensearch';

import { DeadLetter } from '../../../src/sink/dead-letter.js';
import { createKafkaClient } from '../../../src/sink/kafka-client.js';
import { toOutboundEvent } from '../../../src/sink/outbound-event.js';
import { formatAuditRecord } from '../../../src/simulator/audit-record.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import { startCommand } from '../support/forwarder-process.js';
import { stackEnv, uniqueSuffix } from '../support/stack-env.js';

const env = stackEnv();

function event(sequence: number, user = 'alice') {
  const at = Date.UTC(2026, 10, 20, 9) + sequence;
  const logStream = 'hsm-replayreplay';
  const ocsf = toOcsfEvent({
    logGroup: '/aws/cloudhsm/cluster-replay',
    logStream,
    timestamp: at,
    message: formatAuditRecord({
      usecs: BigInt(at) * 1000n,
      sequence: BigInt(sequence),
      rebootCounter: 1,
      opcode: 'CN_LOGIN',
      opcodeHex: '0xd',
      sessionHandle: 7,
      user: { name: user, type: 'CN_CRYPTO_USER' },
    }),
  });
  return toOutboundEvent(ocsf, logStream);
}

async function run(args: string[], settings: Record<string, string>) {
  const command = startCommand('dead-letter', settings, args);
  const { code } = await command.exited;
  return { code, output: command.output() };
}

describe('dead-letter list and replay (real OpenSearch)', { timeout: 180_000 }, () => {
  it('delivers each pending entry once, keeps the ones refused again, never rewrites the file', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'dlq-replay-'));
    const file = join(dir, 'dead-letter.ndjson');
    // As a forwarder wrote them while the cluster refused the day's index (a fault since
    // fixed), and two that OpenSearch cannot index at all (a 40 KB user name).
    const deadLetter = new DeadLetter({ file });
    await deadLetter.start();
    const fixed = Array.from({ length: 15 }, (_, i) => event(i + 1));
    const hopeless = [event(100, 'u'.repeat(40_000)), event(101, 'v'.repeat(40_000))];
    await deadLetter.write(
      'opensearch',
      [...fixed, ...hopeless].map((e) => ({ event: e, kind: 'mapping_error', detail: 'fault' })),
    );
    await appendFile(file, 'not an entry\n');
    const before = await readFile(file, 'utf8');

    const prefix = `dlq-replay-${suffix}`;
    const settings = {
      DEAD_LETTER_FILE: file,
      KAFKA_BROKERS: '',
      OPENSEARCH_URL: env.opensearchUrl,
      OPENSEARCH_INDEX_PREFIX: prefix,
      ENRICHMENT_ENABLED: 'false',
    };
    const opensearch = new Client({ node: env.opensearchUrl });
    const count = async (): Promise<number> => {
      try {
        await opensearch.indices.refresh({ index: `${prefix}-*` });
        return (await opensearch.count({ index: `${prefix}-*` })).body.count;
      } catch {
        return 0;
      }
    };

    const list = await run(['list'], settings);
    assert.equal(list.code, 0, list.output);
    assert.match(
      list.output,
      /17 entries, 0 replayed before .*, 17 pending, 1 lines that are not entries/,
    );
    assert.match(list.output, /\s17 {2}mapping_error · opensearch/);

    const dry = await run(['replay', '--dry-run'], settings);
    assert.equal(dry.code, 0, dry.output);
    assert.match(dry.output, /would replay: 17/);
    assert.equal(await count(), 0, 'a dry run sends nothing');

    const first = await run(['replay'], settings);
    assert.equal(first.code, 1, first.output);
    assert.match(
      first.output,
      /mapping_error · opensearch: 15 delivered, 2 refused again \(first: .*immense term/,
    );
    assert.match(first.output, /replayed 17: 15 delivered, 2 still pending/);
    assert.equal(await count(), 15);
    assert.equal(await readFile(file, 'utf8'), before, 'the dead-letter file is left as it was');

    const second = await run(['replay'], settings);
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, /17 entries, 15 replayed before .*, 2 pending/);
    assert.match(second.output, /0 delivered, 2 refused again/);
    assert.equal(await count(), 15, 'nothing delivered twice');
    await opensearch.indices.delete({ index: `${prefix}-*` });
    await opensearch.close();
  });

  it('replays the dead-letter topic, recording what it delivered beside the file', async () => {
    const suffix = uniqueSuffix();
    const dir = await mkdtemp(join(tmpdir(), 'dlq-topic-'));
    const topic = `dlq-replay-${suffix}`;
    const kafka = createKafkaClient({ brokers: env.kafkaBrokers, clientId: 'dlq-replay-test' });
    const deadLetter = new DeadLetter({
      file: join(dir, 'dead-letter.ndjson'),
      kafka: { client: kafka, topic, createTopic: true },
    });
    await deadLetter.start();
    const events = [event(201), event(202), event(203)];
    assert.equal(
      await deadLetter.write(
        'opensearch',
        events.map((e) => ({ event: e, kind: 'mapping_error', detail: 'fault' })),
      ),
      'kafka',
    );
    await deadLetter.stop();

    const prefix = `dlq-topic-${suffix}`;
    const settings = {
      DEAD_LETTER_FILE: join(dir, 'dead-letter.ndjson'),
      DEAD_LETTER_TOPIC: topic,
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      KAFKA_TOPIC: `${topic}-events`,
      KAFKA_CREATE_TOPIC: 'true',
      OPENSEARCH_URL: env.opensearchUrl,
      OPENSEARCH_INDEX_PREFIX: prefix,
      ENRICHMENT_ENABLED: 'false',
    };
    const list = await run(['list', '--from-topic'], settings);
    assert.equal(list.code, 0, list.output);
    assert.match(
      list.output,
      new RegExp(`topic ${topic}: 3 entries, 0 replayed before .*, 3 pending`),
    );

    const replay = await run(['replay', '--from-topic'], settings);
    assert.equal(replay.code, 0, replay.output);
    assert.match(replay.output, /mapping_error · opensearch: 3 delivered, 0 refused again/);
    const opensearch = new Client({ node: env.opensearchUrl });
    await opensearch.indices.refresh({ index: `${prefix}-*` });
    assert.equal((await opensearch.count({ index: `${prefix}-*` })).body.count, 3);

    const again = await run(['replay', '--from-topic'], settings);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /3 entries, 3 replayed before .*, 0 pending/);
    assert.match(again.output, /nothing to replay/);
    await opensearch.indices.delete({ index: `${prefix}-*` });
    await opensearch.close();
  });

  it('refuses unknown options and two sources with exit 2', async () => {
    const settings = { KAFKA_BROKERS: '', OPENSEARCH_URL: env.opensearchUrl };
    const unknown = await run(['replay', '--sinks=both'], settings);
    assert.equal(unknown.code, 2);
    assert.match(unknown.output, /unknown option "--sinks"/);
    const both = await run(['list', '--from-topic', '--from-file=/tmp/x'], settings);
    assert.equal(both.code, 2);
    assert.match(both.output, /choose one/);
  });
});
