/**
 * The demo (run through `npm run demo`, which starts the stack first): writes a realistic CloudHSM
 * fleet into the CloudWatch Logs emulator, runs the real forwarder, shows its progress, then
 * answers from OpenSearch the three questions AWS teaches users to ask with CloudWatch filter
 * patterns — successful crypto-user logins, failed crypto-user logins, successful key deletions —
 * plus the integrity finding for the deliberate sequence gap, and checks every answer against
 * what the simulator reports it wrote.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';

import { writeStreams } from '../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../src/simulator/fleet.js';
import type { LatestItem } from '../src/simulator/fleet.js';
import { METRIC_DOCS } from '../src/telemetry/metrics.js';

const INDEX_PREFIX = 'cloudhsm-audit-ocsf';
const INDEX = `${INDEX_PREFIX}-*`;
const HTTP_PORT = Number(process.env.DEMO_HTTP_PORT ?? 9464);
const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const STATE = fileURLToPath(new URL('../.demo/', import.meta.url));

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the demo with 'npm run demo'`);
  }
  return value;
}

const say = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Question {
  readonly title: string;
  readonly cloudwatchPattern: string;
  readonly query: Record<string, unknown>;
  readonly expected: number;
  readonly latest: readonly LatestItem[];
  readonly subjectField: 'user.name' | 'entity.uid';
}

function describeHit(source: Record<string, unknown>, field: Question['subjectField']): string {
  const time = new Date(source.time as number).toISOString();
  const device = (source.device as { uid?: string } | undefined)?.uid ?? '?';
  const subject =
    field === 'user.name'
      ? (source.user as { name?: string } | undefined)?.name
      : (source.entity as { uid?: string } | undefined)?.uid;
  const code = (source.metadata as { event_code?: string }).event_code ?? '';
  const detail = typeof source.status_detail === 'string' ? `  ${source.status_detail}` : '';
  return `${time}  ${device}  ${field === 'user.name' ? 'user' : 'key handle'} ${subject ?? '?'}  ${code}${detail}`;
}

async function main(): Promise<void> {
  const endpoint = required('AWS_ENDPOINT_URL');
  const opensearchUrl = required('OPENSEARCH_URL');
  const brokers = required('KAFKA_BROKERS');
  const opensearch = new Client({ node: opensearchUrl });
  const cloudwatch = new CloudWatchLogsClient({ endpoint, region: required('AWS_REGION') });

  say('== preparing: the demo owns the local stack, so it starts from a clean slate');
  await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await opensearch.indices.delete({
    index: INDEX,
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  await rm(STATE, { recursive: true, force: true });

  const fleet = simulateFleet({
    clusters: 2,
    hsmsPerCluster: 3,
    recordsPerHsm: 400,
    certRecords: 30,
    startMs: Date.now() - 2 * 3_600_000,
    spacingMs: 15_000,
    reboot: true,
    gap: true,
  });
  const { report } = fleet;
  say(
    `== simulating ${fleet.streams.length} log streams (2 clusters × 3 HSMs + certificate storage): ` +
      `${report.records} audit records, 1 HSM reboot, 1 deliberate sequence gap`,
  );
  await writeStreams(cloudwatch, fleet.streams);
  // Findings the forwarder must add: the gap and the reboot.
  const expectedDocuments = report.records + report.gaps.length + report.reboots;

  say(`== running the forwarder: node dist/src/cli.js run   (metrics on :${HTTP_PORT})`);
  const forwarder = spawn(process.execPath, [CLI, 'run'], {
    env: {
      ...process.env,
      CHECKPOINT_DIR: `${STATE}checkpoints`,
      DEAD_LETTER_FILE: `${STATE}dead-letter.ndjson`,
      KAFKA_CREATE_TOPIC: 'true',
      HTTP_PORT: String(HTTP_PORT),
      LOG_LEVEL: 'warn',
      POLL_MIN_INTERVAL_MS: '500',
      LABELS: 'environment=demo,team=security',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => forwarder.once('exit', resolve));

  let delivered = 0;
  const started = Date.now();
  while (delivered < expectedDocuments) {
    if (forwarder.exitCode !== null) throw new Error('the forwarder exited early');
    if (Date.now() - started > 240_000)
      throw new Error('the forwarder did not finish in 4 minutes');
    await sleep(1000);
    try {
      await opensearch.indices.refresh({ index: INDEX });
      delivered = (await opensearch.count({ index: INDEX })).body.count;
    } catch {
      delivered = 0;
    }
    process.stdout.write(`\r   delivered to OpenSearch: ${delivered}/${expectedDocuments}   `);
  }
  say();

  const metrics = await (await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`)).text();
  const missing = METRIC_DOCS.filter((doc) => !metrics.includes(`\n${doc.name}`));
  const ready = await fetch(`http://127.0.0.1:${HTTP_PORT}/readyz`);
  say(
    `== /metrics exposes ${METRIC_DOCS.length - missing.length}/${METRIC_DOCS.length} documented metrics; ` +
      `/readyz answers ${ready.status}`,
  );
  if (missing.length > 0) say(`   missing: ${missing.map((m) => m.name).join(', ')}`);

  const cuLogin = (status: 1 | 2) => ({
    bool: {
      filter: [
        { term: { class_uid: 3002 } },
        { term: { 'metadata.event_code': 'CN_LOGIN' } },
        { term: { 'user.type_id': 1 } },
        { term: { status_id: status } },
      ],
    },
  });
  const questions: Question[] = [
    {
      title: 'Successful crypto-user logins',
      cloudwatchPattern: 'Opcode CN_LOGIN User Type CN_CRYPTO_USER Response SUCCESS',
      query: cuLogin(1),
      expected: report.cryptoUserLoginsOk,
      latest: report.latest.cryptoUserLoginsOk,
      subjectField: 'user.name',
    },
    {
      title: 'Failed crypto-user logins',
      cloudwatchPattern: 'Opcode CN_LOGIN User Type CN_CRYPTO_USER Response RET_USER_LOGIN_FAILURE',
      query: cuLogin(2),
      expected: report.cryptoUserLoginsFailed,
      latest: report.latest.cryptoUserLoginsFailed,
      subjectField: 'user.name',
    },
    {
      title: 'Successful key deletions',
      cloudwatchPattern: 'Opcode CN_DESTROY_OBJECT Response SUCCESS (and CN_TOMBSTONE_OBJECT)',
      query: {
        bool: {
          filter: [
            { terms: { 'metadata.event_code': ['CN_DESTROY_OBJECT', 'CN_TOMBSTONE_OBJECT'] } },
            { term: { status_id: 1 } },
          ],
        },
      },
      expected: report.keyDeletionsOk,
      latest: report.latest.keyDeletionsOk,
      subjectField: 'entity.uid',
    },
  ];

  let agreed = 0;
  for (const question of questions) {
    const body = {
      query: question.query,
      sort: [{ time: 'desc' }],
      size: 5,
      track_total_hits: true,
    };
    const result = await opensearch.search({ index: INDEX, body: body as never });
    const total = result.body.hits.total;
    const count = typeof total === 'number' ? total : (total?.value ?? 0);
    const same = count === question.expected;
    if (same) agreed += 1;
    say();
    say(`## ${question.title}: ${count}`);
    say(`   CloudWatch filter pattern it replaces: ${question.cloudwatchPattern}`);
    say(`   OpenSearch query: GET ${INDEX}/_search ${JSON.stringify(body)}`);
    say('   latest:');
    for (const hit of result.body.hits.hits) {
      say(`     ${describeHit(hit._source as Record<string, unknown>, question.subjectField)}`);
    }
    say(
      `   simulator wrote ${question.expected}: ${same ? 'AGREES' : 'DISAGREES'}` +
        (question.latest[0] === undefined
          ? ''
          : `; its latest was ${new Date(question.latest[0].time).toISOString()} on ${question.latest[0].hsm}`),
    );
  }

  const gapQuery = { query: { term: { 'metadata.event_code': 'integrity_gap' } }, size: 5 };
  const gaps = await opensearch.search({ index: INDEX, body: gapQuery });
  say();
  say(`## Audit-trail integrity findings (sequence gaps): ${gaps.body.hits.hits.length}`);
  say(`   OpenSearch query: GET ${INDEX}/_search ${JSON.stringify(gapQuery)}`);
  for (const hit of gaps.body.hits.hits) {
    const source = hit._source as { message?: string; severity?: string };
    say(`     [${source.severity ?? '?'}] ${source.message ?? ''}`);
  }
  const gapFound = report.gaps.every((gap) =>
    gaps.body.hits.hits.some((hit) =>
      (hit._source as { message?: string }).message?.includes(gap.hsm),
    ),
  );
  say(
    `   simulator skipped ${report.gaps.map((g) => `${g.missing} on ${g.hsm}`).join(', ')}: ${gapFound ? 'FOUND' : 'NOT FOUND'}`,
  );

  forwarder.kill('SIGTERM');
  const code = await exited;
  await opensearch.close();
  cloudwatch.destroy();
  say();
  say(
    `== forwarder stopped (exit ${code ?? 'signal'}); Kafka topic cloudhsm.audit.ocsf on ${brokers} holds the same events`,
  );
  say('   explore: curl "$OPENSEARCH_URL/cloudhsm-audit-ocsf-*/_search?q=status_id:2&pretty"');
  say('   stop the stack with: npm run stack -- down');
  const ok = agreed === questions.length && gapFound && missing.length === 0 && code === 0;
  say(ok ? 'demo: all answers match what the simulator wrote' : 'demo: MISMATCH (see above)');
  process.exitCode = ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
