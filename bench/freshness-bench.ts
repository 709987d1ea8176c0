// Freshness against the local stack: how long a record written to a QUIET fleet takes to
// become searchable in OpenSearch and to reach Kafka, what idle streams cost in GetLogEvents calls,
// and the highest GetLogEvents rate in any second beside the configured budget.
//
// A fleet is created in the emulator under a per-run log-group prefix and a few records per stream
// are read (caught up); the fleet then stays idle for `--idle-s` so every idle wait of the
// forwarder reaches its longest; then `--records` records are written the way a cluster writes
// them (bench/freshness-workload.ts) at random moments of `--window-s`. The forwarder runs as a
// child process (`--forwarder-dir` picks another checkout, e.g. the baseline in /tmp/base) and
// talks to the emulator through a counting proxy (test/integration/support/cloudwatch-proxy.ts)
// running in a process of its own, so the bench's OpenSearch polling and Kafka consuming cannot
// stall the clock that times the forwarder's calls; the bench's own writes go to moto directly,
// so only the forwarder's calls are counted. The emulator neither throttles nor counts, hence
// the proxy.
//
// Brings the local stack up itself and leaves it running. Last line:
//   freshness: p99 X s to searchable (N streams), highest M GetLogEvents calls/s
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { Client } from '@opensearch-project/opensearch';
import { Kafka, logLevel } from 'kafkajs';

import {
  arrivals,
  callsPerStream,
  peakPerSecond,
  secondsOverBudget,
  shortestSpans,
  type TimeRange,
} from '../test/integration/support/call-rate.js';
import { startCloudWatchProxyProcess } from '../test/integration/support/cloudwatch-proxy-process.js';
import {
  initialRecords,
  layoutFleet,
  planActions,
  type ActionKind,
  type PlannedRecord,
} from './freshness-workload.js';
import { benchForwarderEnv, printStackStillRunning, useLocalStack } from './local-stack.js';
import { seededRandom } from '../src/simulator/fleet.js';
import { getLogEventsBudget } from '../src/util/cloudwatch-quotas.js';

const OWN_CHECKOUT = fileURLToPath(new URL('..', import.meta.url));

const USAGE = `Usage: npm run bench -- freshness [options]
  --clusters N        clusters (default 6)
  --hsms N            HSMs per cluster (default 4)
  --records N         records to write after the idle phase, at least (default 300)
  --window-s S        spread the writes over S seconds (default 240)
  --idle-s S          idle time after catching up, before writing (default 75)
  --settle-s S        idle cost is measured from S s after catching up to the end of the idle
                      phase, once the idle waits reached their longest (default 35; with
                      150 streams at 8 calls/s the waits grow slower, as the short early waits
                      queue on the budget: use --idle-s 150 --settle-s 90 there)
  --rate N            sets RATE_LIMIT_GET_LOG_EVENTS for the forwarder (default: its own default)
  --seed N            PRNG seed (default 20261126)
  --poll-ms MS        OpenSearch _search poll interval, the resolution (default 200)
  --deadline-s S      after the last write, how long to wait for every record (default 180)
  --forwarder-dir DIR run DIR's forwarder (node --import tsx DIR/src/cli.ts run, cwd DIR)
`;

interface BenchOptions {
  readonly clusters: number;
  readonly hsms: number;
  readonly records: number;
  readonly windowS: number;
  readonly idleS: number;
  readonly settleS: number;
  readonly rate: number | undefined;
  readonly seed: number;
  readonly pollMs: number;
  readonly deadlineS: number;
  readonly forwarderDir: string;
}

function parseOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      clusters: { type: 'string' },
      hsms: { type: 'string' },
      records: { type: 'string' },
      'window-s': { type: 'string' },
      'idle-s': { type: 'string' },
      'settle-s': { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      'poll-ms': { type: 'string' },
      'deadline-s': { type: 'string' },
      'forwarder-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const number = (name: keyof typeof values, fallback: number, min: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) {
      throw new Error(`--${name} must be a number >= ${min}, got "${String(raw)}"\n${USAGE}`);
    }
    return value;
  };
  const options: BenchOptions = {
    clusters: number('clusters', 6, 1),
    hsms: number('hsms', 4, 1),
    records: number('records', 300, 1),
    windowS: number('window-s', 240, 1),
    idleS: number('idle-s', 75, 0),
    settleS: number('settle-s', 35, 0),
    rate: values.rate === undefined ? undefined : number('rate', 0, 0.01),
    seed: number('seed', 20261126, 0),
    pollMs: number('poll-ms', 200, 10),
    deadlineS: number('deadline-s', 180, 1),
    forwarderDir: resolve(values['forwarder-dir'] ?? OWN_CHECKOUT),
  };
  if (options.settleS >= options.idleS) {
    throw new Error(`--settle-s (${options.settleS}) must be below --idle-s (${options.idleS})`);
  }
  return options;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s: ${what}`);
    await sleep(250);
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

function summary(seconds: readonly number[]): string {
  const sorted = [...seconds].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(2);
  return (
    `n=${sorted.length} p50 ${f(percentile(sorted, 0.5))} s, p95 ${f(percentile(sorted, 0.95))} s, ` +
    `p99 ${f(percentile(sorted, 0.99))} s, max ${f(sorted.at(-1) ?? Number.NaN)} s`
  );
}

/** The forwarder child's environment: defaults for polling and rates unless a flag says. */
function forwarderEnv(extra: Record<string, string>, rate: number | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // An inherited setting would silently measure something other than the defaults.
    if (!/^(POLL_|RATE_LIMIT_)/.test(key)) env[key] = value;
  }
  if (rate !== undefined) env['RATE_LIMIT_GET_LOG_EVENTS'] = String(rate);
  return { ...env, ...extra };
}

/** The forwarder's effective settings, from its own `config print`. */
function forwarderConfig(
  dir: string,
  env: NodeJS.ProcessEnv,
): { source: Record<string, unknown>; region: string | null } {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(dir, 'src/cli.ts'), 'config', 'print'],
    { cwd: dir, env, encoding: 'utf8' },
  );
  if (out.status !== 0) {
    throw new Error(`"config print" of the forwarder in ${dir} failed: ${out.stderr}`);
  }
  const config = JSON.parse(out.stdout) as {
    source?: Record<string, unknown>;
    aws?: { region?: string | null };
  };
  if (config.source === undefined) throw new Error(`no "source" in the config of ${dir}`);
  return { source: config.source, region: config.aws?.region ?? null };
}

function revision(dir: string): string {
  const out = spawnSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : 'not a git checkout';
}

interface Written {
  readonly kind: ActionKind;
  readonly copies: number;
  readonly putAt: number;
  searchableAt?: number;
  kafkaAt?: number;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

export async function runFreshnessBench(args: readonly string[]): Promise<void> {
  const options = parseOptions(args);
  const stack = useLocalStack();
  const suffix = Date.now().toString(36);
  const prefix = `/aws/cloudhsm/fresh-${suffix}-`;
  const topic = `bench-fresh-${suffix}`;
  const indexPrefix = `bench-fresh-${suffix}`;
  const random = seededRandom(options.seed);
  const clusters = layoutFleet({
    clusters: options.clusters,
    hsmsPerCluster: options.hsms,
    logGroupPrefix: prefix,
    random,
  });
  const hsmStreams = options.clusters * options.hsms;
  const allStreams = hsmStreams + options.clusters;
  const initial = initialRecords(clusters, random);
  const actions = planActions(clusters, options.records, options.windowS * 1000, random);

  const cloudwatch = new CloudWatchLogsClient({
    endpoint: stack.awsEndpoint,
    region: stack.region,
  });
  const opensearch = new Client({ node: stack.opensearchUrl });
  const kafka = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-fresh-${suffix}` });
  const proxy = await startCloudWatchProxyProcess(stack.awsEndpoint);
  const dir = await mkdtemp(join(tmpdir(), 'bench-fresh-'));
  let forwarder: ChildProcess | undefined;
  let keepDir = false;

  // Event times are unique across the run, so a document's `time` names its record in both
  // sinks, whatever the forwarder version computes as its uid.
  let lastTs = 0;
  const put = async (record: PlannedRecord): Promise<{ ts: number; putAt: number }> => {
    const ts = Math.max(Date.now(), lastTs + 1);
    lastTs = ts;
    await cloudwatch.send(
      new PutLogEventsCommand({
        logGroupName: record.logGroup,
        logStreamName: record.logStream,
        logEvents: [{ timestamp: ts, message: record.render(ts) }],
      }),
    );
    return { ts, putAt: Date.now() };
  };

  try {
    for (const cluster of clusters) {
      await cloudwatch.send(new CreateLogGroupCommand({ logGroupName: cluster.logGroup }));
      for (const stream of [...cluster.hsms.map((h) => h.logStream), cluster.certStream]) {
        await cloudwatch.send(
          new CreateLogStreamCommand({ logGroupName: cluster.logGroup, logStreamName: stream }),
        );
      }
    }
    const initialTimes = new Set<number>();
    for (const record of initial) initialTimes.add((await put(record)).ts);

    const env = forwarderEnv(
      {
        ...benchForwarderEnv({ logGroupPrefix: prefix, dir, topic, indexPrefix }),
        AWS_ENDPOINT_URL: proxy.url,
        START_POSITION: 'beginning',
      },
      options.rate,
    );
    const { source, region } = forwarderConfig(options.forwarderDir, env);
    const rateLimits = source['rateLimits'] as { getLogEvents?: number | 'auto' } | undefined;
    const configured = rateLimits?.getLogEvents;
    if (configured === undefined)
      throw new Error('no source.rateLimits.getLogEvents in the config');
    // `auto` is resolved the way the forwarder resolves it (its start-up log states the same).
    const budget = getLogEventsBudget(configured, region).perSecond;
    const pacing = Object.fromEntries(
      Object.entries(source).filter(([key]) => /poll|idle|rate/i.test(key)),
    );

    console.log(
      `== forwarder: ${options.forwarderDir} (${revision(options.forwarderDir)})\n` +
        `   its polling and rate settings: ${JSON.stringify(pacing)}\n` +
        `== fleet: ${options.clusters} clusters x ${options.hsms} HSMs = ${hsmStreams} HSM streams ` +
        `+ ${options.clusters} certificate streams under ${prefix}; ${initial.length} records to catch up on`,
    );
    const startedAt = Date.now();
    forwarder = spawn(
      process.execPath,
      ['--import', 'tsx', join(options.forwarderDir, 'src/cli.ts'), 'run'],
      { cwd: options.forwarderDir, env, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const child = forwarder;
    const alive = () => {
      if (child.exitCode !== null) throw new Error(`the forwarder exited (code ${child.exitCode})`);
    };

    const indexed = async (): Promise<number> => {
      try {
        return (await opensearch.count({ index: `${indexPrefix}-*` })).body.count;
      } catch {
        return 0; // no index yet
      }
    };
    let initialOnKafka = 0;
    const written = new Map<number, Written>();
    await consumer.connect();
    await waitUntil(
      async () => {
        alive();
        return (await indexed()) >= initial.length;
      },
      300_000,
      `${initial.length} initial records searchable in ${indexPrefix}-*`,
    );
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const time = (JSON.parse(message.value?.toString() ?? '{}') as { time?: number }).time;
        if (time === undefined) return Promise.resolve();
        if (initialTimes.delete(time)) initialOnKafka += 1;
        const record = written.get(time);
        if (record !== undefined && record.kafkaAt === undefined) record.kafkaAt = Date.now();
        return Promise.resolve();
      },
    });
    await waitUntil(
      () => initialOnKafka >= initial.length,
      120_000,
      `${initial.length} initial records on Kafka topic ${topic}`,
    );
    const caughtUpAt = Date.now();
    console.log(
      `== caught up after ${((caughtUpAt - startedAt) / 1000).toFixed(1)} s; idle for ${options.idleS} s`,
    );
    await sleep(caughtUpAt + options.idleS * 1000 - Date.now());
    alive();
    const idleRange: TimeRange = {
      from: caughtUpAt + options.settleS * 1000,
      to: caughtUpAt + options.idleS * 1000,
    };

    // Searchability: poll _search for the records not seen yet (no refresh forced: a refresh per
    // poll would make documents visible sooner than they are for a user).
    let searchStopped = false;
    const searchLoop = (async () => {
      while (!searchStopped) {
        const pending = [...written.entries()].filter(([, w]) => w.searchableAt === undefined);
        if (pending.length > 0) {
          try {
            const response = await opensearch.search({
              index: `${indexPrefix}-*`,
              body: {
                size: pending.length,
                _source: ['time'],
                query: { terms: { time: pending.map(([time]) => time) } },
              },
            });
            const seenAt = Date.now();
            for (const hit of response.body.hits.hits) {
              const time = (hit._source as { time?: number } | undefined)?.time;
              const record = time === undefined ? undefined : written.get(time);
              if (record !== undefined) record.searchableAt ??= seenAt;
            }
          } catch (error) {
            console.log(`search failed (retrying): ${String(error)}`);
          }
        }
        await sleep(options.pollMs);
      }
    })();

    console.log(
      `== writing ${actions.reduce((n, a) => n + a.records.length, 0)} records ` +
        `(${actions.length} actions) over ${options.windowS} s`,
    );
    const writeStart = Date.now();
    for (const action of actions) {
      await sleep(writeStart + action.atMs - Date.now());
      for (const [i, record] of action.records.entries()) {
        // Copies of one command land on the cluster's HSMs a few ms apart.
        if (i > 0) await sleep(2 + Math.floor(random() * 5));
        const { ts, putAt } = await put(record);
        written.set(ts, { kind: action.kind, copies: action.records.length, putAt });
      }
    }
    const lastWriteAt = Date.now();
    alive();
    try {
      await waitUntil(
        () =>
          [...written.values()].every(
            (w) => w.searchableAt !== undefined && w.kafkaAt !== undefined,
          ),
        options.deadlineS * 1000,
        'every record searchable and on Kafka',
      );
    } catch {
      // Reported below, with the figures of what did arrive.
    }
    searchStopped = true;
    await searchLoop;
    const runEnd = Date.now();

    const records = [...written.values()];
    const toSearch = records.flatMap((w) =>
      w.searchableAt === undefined ? [] : [(w.searchableAt - w.putAt) / 1000],
    );
    const toKafka = records.flatMap((w) =>
      w.kafkaAt === undefined ? [] : [(w.kafkaAt - w.putAt) / 1000],
    );
    const searchableWhen = (copied: boolean) =>
      records.flatMap((w) =>
        w.searchableAt === undefined || w.copies > 1 !== copied
          ? []
          : [(w.searchableAt - w.putAt) / 1000],
      );
    const calls = await proxy.calls();
    const idleCalls = callsPerStream(calls, 'GetLogEvents', idleRange);
    const idleTotal = [...idleCalls.values()].reduce((a, b) => a + b, 0);
    const idleHours = (idleRange.to - idleRange.from) / 3_600_000;
    const perStream = [...idleCalls.values()];
    while (perStream.length < allStreams) perStream.push(0);
    const whole = { from: startedAt, to: runEnd };
    const times = arrivals(calls, 'GetLogEvents', whole);
    const peak = peakPerSecond(times);
    const peakWriting = peakPerSecond(
      arrivals(calls, 'GetLogEvents', { from: writeStart, to: runEnd }),
    );
    const sortedSearch = [...toSearch].sort((a, b) => a - b);
    // Counted where AWS counts, on arrival: the client's scheduling jitter shows here, so a
    // limiter that spaces calls exactly can still put budget + 1 calls a few ms inside a second.
    // How many seconds overran, and where, tells rare jitter from a limiter letting too much by.
    const overBudget = Math.floor(budget) + 1;
    const over = secondsOverBudget(times, budget);
    const tightest = shortestSpans(times, overBudget, 5)
      .map((s) => `${s.span.toFixed(1)} ms at +${((s.from - startedAt) / 1000).toFixed(1)} s`)
      .join(', ');

    console.log(
      `== parameters: clusters=${options.clusters} hsms=${options.hsms} records=${records.length} ` +
        `actions=${actions.length} window=${options.windowS} s idle=${options.idleS} s ` +
        `settle=${options.settleS} s seed=${options.seed} GetLogEvents budget=${budget}/s ` +
        `(${options.rate === undefined ? "the forwarder's default" : '--rate'}) ` +
        `search poll=${options.pollMs} ms (the resolution of "searchable") ` +
        `deadline=${options.deadlineS} s after the last write (${new Date(lastWriteAt).toISOString()})`,
    );
    console.log(`PutLogEvents -> searchable in OpenSearch: ${summary(toSearch)}`);
    console.log(
      `  copied to every HSM (logins, user management): ${summary(searchableWhen(true))}`,
    );
    console.log(
      `  on one stream (key commands, certificate storage): ${summary(searchableWhen(false))}`,
    );
    console.log(`PutLogEvents -> message on Kafka:         ${summary(toKafka)}`);
    console.log(
      `idle cost: ${(idleTotal / allStreams / idleHours).toFixed(0)} GetLogEvents calls per idle ` +
        `stream per hour (${idleTotal} calls on ${allStreams} streams over ` +
        `${((idleRange.to - idleRange.from) / 1000).toFixed(0)} s, from ${options.settleS} s after ` +
        `catching up; per stream ${Math.min(...perStream)}..${Math.max(...perStream)})`,
    );
    console.log(
      `call rate: highest ${peak} GetLogEvents calls in any sliding second over the whole run ` +
        `(${peakWriting} while writing and after), budget ${budget}/s; seconds holding more than ` +
        `${budget} calls: ${over.over} of ${over.windows} (one second opening at each call); ` +
        `the 5 shortest spans holding ${overBudget} calls: ${tightest === '' ? 'none' : tightest} ` +
        `(arrival times at the proxy, a process of its own; +s from the forwarder's start); ` +
        `totals: ` +
        ['GetLogEvents', 'DescribeLogStreams', 'DescribeLogGroups']
          .map((op) => `${op} ${calls.filter((c) => c.operation === op).length}`)
          .join(', '),
    );
    const missingSearch = records.length - toSearch.length;
    const missingKafka = records.length - toKafka.length;
    if (missingSearch > 0 || missingKafka > 0) {
      keepDir = true;
      throw new Error(
        `FAILED: ${missingSearch} records never became searchable and ${missingKafka} never ` +
          `reached Kafka within ${options.deadlineS} s of the last write (index ${indexPrefix}-*, ` +
          `topic ${topic}, forwarder log above; its checkpoints and DLQ file kept in ${dir})`,
      );
    }
    printStackStillRunning();
    console.log(
      `freshness: p99 ${percentile(sortedSearch, 0.99).toFixed(1)} s to searchable ` +
        `(${hsmStreams} streams), highest ${peak} GetLogEvents calls/s`,
    );
  } finally {
    if (forwarder !== undefined) await stopChild(forwarder);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteTopics({ topics: [topic, `${topic}-dlq`] }))
      .catch(() => undefined) // a topic the run never created
      .finally(() => admin.disconnect());
    await proxy.close();
    await opensearch.indices
      .delete({ index: `${indexPrefix}-*` })
      .catch(() => undefined)
      .finally(() => opensearch.close());
    for (const cluster of clusters) {
      await cloudwatch
        .send(new DeleteLogGroupCommand({ logGroupName: cluster.logGroup }))
        .catch(() => undefined);
    }
    cloudwatch.destroy();
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  }
}
