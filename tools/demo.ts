/**
 * The demo (run through `npm run demo`, which starts the stack first): writes a realistic CloudHSM
 * fleet into the CloudWatch Logs emulator, runs the real forwarder, shows its progress, then
 * answers from OpenSearch the three questions AWS teaches users to ask with CloudWatch filter
 * patterns — successful crypto-user logins, failed crypto-user logins, successful key deletions —
 * plus the integrity finding for the deliberate sequence gap, and checks every answer against
 * what the simulator reports it wrote.
 *
 * It shares the local stack with whoever else uses it: its own log groups, topics, index prefix,
 * state directory and a free HTTP port, and it deletes only those (at its start, what a previous
 * demo left; at its end it leaves them to explore). It cannot hang: every wait has a deadline and
 * a reason, a failure or Ctrl-C stops its forwarder and exits non-zero within seconds.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import {
  CloudWatchLogsClient,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';
import kafkajs from 'kafkajs';

import { writeStreams } from '../src/simulator/cloudwatch-writer.js';
import { simulateFleet } from '../src/simulator/fleet.js';
import type { LatestItem } from '../src/simulator/fleet.js';
import { METRIC_DOCS } from '../src/telemetry/metrics.js';

/** Everything the demo creates is named from these, and nothing else is ever deleted. */
const LOG_GROUP_PREFIX = '/aws/cloudhsm/demo-';
const INDEX_PREFIX = 'cloudhsm-demo';
const INDEX = `${INDEX_PREFIX}-*`;
const TOPIC = 'cloudhsm.demo.ocsf';
const DEAD_LETTER_TOPIC = 'cloudhsm.demo.dead-letter';
/** Short, so the demo's deliberate gap becomes a finding in seconds (the default is 5 min). */
const GAP_REPAIR_WINDOW_MS = 10_000;
const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const STATE = fileURLToPath(new URL('../.demo/', import.meta.url));
const LOG_FILE = `${STATE}forwarder.log`;

/** Limits of the waits: the whole delivery, no progress at all, OpenSearch not answering. */
const DELIVERY_DEADLINE_MS = Number(process.env.DEMO_DEADLINE_MS ?? 180_000);
const NO_PROGRESS_MS = 60_000;
const UNREACHABLE_MS = 10_000;

class DemoFailure extends Error {}

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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '0.0.0.0', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new DemoFailure('no free port');
  return address.port;
}

function lastLines(file: string, count: number): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count).join('\n');
  } catch {
    return '(no forwarder log)';
  }
}

/** What a previous demo run left: its log groups, topics, indices and state. Nothing else. */
async function cleanUp(
  cloudwatch: CloudWatchLogsClient,
  opensearch: Client,
  brokers: string[],
): Promise<void> {
  const groups = await cloudwatch.send(
    new DescribeLogGroupsCommand({ logGroupNamePrefix: LOG_GROUP_PREFIX }),
  );
  for (const group of groups.logGroups ?? []) {
    if (group.logGroupName?.startsWith(LOG_GROUP_PREFIX) === true) {
      await cloudwatch.send(new DeleteLogGroupCommand({ logGroupName: group.logGroupName }));
    }
  }
  await opensearch.indices.delete({
    index: INDEX,
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    const mine = [TOPIC, DEAD_LETTER_TOPIC].filter((topic) => existing.includes(topic));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
  await rm(STATE, { recursive: true, force: true });
}

/** Stops the forwarder: SIGTERM (it drains), SIGKILL if it is still there after the deadline. */
async function stopForwarder(
  child: ChildProcess,
  exited: Promise<number | null>,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

async function main(): Promise<void> {
  const endpoint = required('AWS_ENDPOINT_URL');
  const opensearchUrl = required('OPENSEARCH_URL');
  const brokers = required('KAFKA_BROKERS').split(',');
  const opensearch = new Client({ node: opensearchUrl, requestTimeout: 5_000 });
  const cloudwatch = new CloudWatchLogsClient({ endpoint, region: required('AWS_REGION') });
  let forwarder: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const check = (): void => {
    if (interrupted !== undefined) throw new DemoFailure(`interrupted (${interrupted})`);
  };

  try {
    say(
      `== preparing: removing what a previous demo left (log groups ${LOG_GROUP_PREFIX}*, ` +
        `topics ${TOPIC} and ${DEAD_LETTER_TOPIC}, indices ${INDEX}, .demo/); nothing else is touched`,
    );
    await cleanUp(cloudwatch, opensearch, brokers);
    await mkdir(STATE, { recursive: true });

    const fleet = simulateFleet({
      clusters: 2,
      hsmsPerCluster: 3,
      recordsPerHsm: 400,
      certRecords: 30,
      startMs: Date.now() - 2 * 3_600_000,
      spacingMs: 15_000,
      reboot: true,
      gap: true,
      logGroupPrefix: LOG_GROUP_PREFIX,
    });
    const { report } = fleet;
    say(
      `== simulating ${fleet.streams.length} log streams (2 clusters × 3 HSMs + certificate storage): ` +
        `${report.records} audit records, 1 HSM reboot, 1 deliberate sequence gap`,
    );
    await writeStreams(cloudwatch, fleet.streams);
    // Findings the forwarder must add: the gap and the reboot.
    const expectedDocuments = report.records + report.gaps.length + report.reboots;

    const httpPort = await freePort();
    say(
      `== running the forwarder: node dist/src/cli.js run   (metrics on :${httpPort}, log in .demo/forwarder.log)`,
    );
    say(
      `   with GAP_REPAIR_WINDOW_MS=${GAP_REPAIR_WINDOW_MS} (source.gapRepairWindowMs, 5 min by default): ` +
        'a sequence gap is held that long for late records before it is reported as a finding',
    );
    const log = openSync(LOG_FILE, 'a');
    forwarder = spawn(process.execPath, [CLI, 'run'], {
      env: {
        ...process.env,
        LOG_GROUP_PREFIXES: LOG_GROUP_PREFIX,
        CHECKPOINT_DIR: `${STATE}checkpoints`,
        DEAD_LETTER_FILE: `${STATE}dead-letter.ndjson`,
        KAFKA_TOPIC: TOPIC,
        DEAD_LETTER_TOPIC,
        KAFKA_CREATE_TOPIC: 'true',
        OPENSEARCH_INDEX_PREFIX: INDEX_PREFIX,
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: 'info',
        POLL_MIN_INTERVAL_MS: '500',
        GAP_REPAIR_WINDOW_MS: String(GAP_REPAIR_WINDOW_MS),
        SHUTDOWN_TIMEOUT_MS: '5000',
        LABELS: 'environment=demo,team=security',
      },
      stdio: ['ignore', log, log],
    });
    const child = forwarder;
    // For whoever must check that the demo leaves no process behind (its test).
    await writeFile(`${STATE}forwarder.pid`, `${child.pid ?? ''}\n`);
    exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    say(
      `== waiting for ${expectedDocuments} documents in OpenSearch (${report.records} records, ` +
        `${report.reboots} reboot and ${report.gaps.length} gap finding; the gap after its repair window)`,
    );
    let delivered = 0;
    const started = Date.now();
    let progressAt = started;
    let answeredAt = started;
    while (delivered < expectedDocuments) {
      check();
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new DemoFailure(
          `the forwarder exited (${child.exitCode ?? child.signalCode}) before delivering everything; its last lines:\n${lastLines(LOG_FILE, 15)}`,
        );
      }
      const now = Date.now();
      if (now - started > DELIVERY_DEADLINE_MS) {
        throw new DemoFailure(
          `${delivered} of ${expectedDocuments} documents after ${DELIVERY_DEADLINE_MS / 1000} s; the forwarder's last lines:\n${lastLines(LOG_FILE, 15)}`,
        );
      }
      if (now - progressAt > NO_PROGRESS_MS) {
        const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          (r) => r.text(),
          String,
        );
        throw new DemoFailure(
          `no progress for ${NO_PROGRESS_MS / 1000} s at ${delivered} of ${expectedDocuments} documents; /readyz: ${ready}`,
        );
      }
      if (now - answeredAt > UNREACHABLE_MS) {
        throw new DemoFailure(
          `OpenSearch at ${opensearchUrl} has not answered for ${UNREACHABLE_MS / 1000} s (is the stack up? npm run stack -- status)`,
        );
      }
      await sleep(1000);
      try {
        await opensearch.indices.refresh({ index: INDEX, allow_no_indices: true });
        const count = (await opensearch.count({ index: INDEX, allow_no_indices: true })).body.count;
        answeredAt = Date.now();
        if (count > delivered) progressAt = answeredAt;
        delivered = count;
      } catch {
        // Counted against UNREACHABLE_MS above.
      }
      const waiting =
        delivered >= report.records ? ' (the gap finding comes when its repair window ends)' : '';
      process.stdout.write(
        `\r   delivered to OpenSearch: ${delivered}/${expectedDocuments}${waiting}   `,
      );
    }
    say();
    const HTTP_PORT = httpPort;

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
        cloudwatchPattern:
          'Opcode CN_LOGIN User Type CN_CRYPTO_USER Response RET_USER_LOGIN_FAILURE',
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

    const code = await stopForwarder(child, exited);
    say();
    say(
      `== forwarder stopped (exit ${code ?? 'signal'}); Kafka topic ${TOPIC} on ${brokers.join(',')} holds the same events`,
    );
    say(`   explore: curl "$OPENSEARCH_URL/${INDEX}/_search?q=status_id:2&pretty"`);
    say('   the demo leaves its data to explore and removes it at its next run');
    say('   stop the stack with: npm run stack -- down');
    const ok = agreed === questions.length && gapFound && missing.length === 0 && code === 0;
    say(ok ? 'demo: all answers match what the simulator wrote' : 'demo: MISMATCH (see above)');
    process.exitCode = ok ? 0 : 1;
  } finally {
    if (forwarder !== undefined) await stopForwarder(forwarder, exited);
    await opensearch.close();
    cloudwatch.destroy();
  }
}

main().then(
  // Nothing may keep the demo alive once it has its answer (an open handle would hang it).
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(
      `\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
