/**
 * `cloudhsm-audit-forwarder backfill --from T1 --to T2 [--log-group G]... [--dry-run] [--rate N] [--state-dir D]`
 *
 * Reads [T1, T2) from every stream of the discovered (or named) log groups and delivers it to
 * the configured sinks, beside a live forwarder: its own checkpoints (`--state-dir`), its own
 * GetLogEvents rate, the same uids (OpenSearch keeps one document per record). Exit codes: 0 once
 * every stream is read, delivered and its checkpoint durable; 1 on a failure or when interrupted
 * (run the same command again: it resumes); 2 on a usage or configuration error, or when another
 * backfill holds the state directory.
 */
import { resolve } from 'node:path';

import {
  createBackfill,
  createLogger,
  lockStateDirectory,
  type Backfill,
  type Logger,
  type PlannedStream,
} from '../app.js';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../util/errors.js';
import { defaultStateDir, parseBackfillArgs, type BackfillArgs } from './backfill-args.js';
import { BackfillProgress } from './backfill-progress.js';

/** Progress log lines when stderr is not a terminal. */
const LOG_EVERY_MS = 10_000;
/** Redraws of the progress line on a terminal. */
const REDRAW_EVERY_MS = 1_000;

function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

function printPlan(streams: readonly PlannedStream[], from: number, to: number): void {
  const reading = streams.filter((s) => s.inRange);
  const lines = [
    `backfill range ${iso(from)} (inclusive) to ${iso(to)} (exclusive): ${reading.length} of ${streams.length} streams`,
    ...reading.map(
      (s) =>
        `  ${s.logGroup}/${s.logStreamName}  events ${iso(s.firstEventTimestamp)} .. ${iso(s.lastEventTimestamp)}`,
    ),
  ];
  const skipped = streams.length - reading.length;
  if (skipped > 0) {
    lines.push(`  (${skipped} streams skipped: DescribeLogStreams shows no events in the range)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function runBackfillCommand(args: string[]): Promise<number> {
  const options = parseBackfillArgs(args);
  // A dry run only lists what it would read; a real backfill writes, so it needs a sink.
  const config = loadConfig({ requireSink: !options.dryRun });
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const stateDir =
    options.stateDir ?? defaultStateDir(config.checkpoint.dir, options, config.source);
  if (resolve(stateDir) === resolve(config.checkpoint.dir)) {
    throw new UsageError(
      `--state-dir ${stateDir} is the live checkpoint directory (checkpoint.dir); a backfill must not move the live checkpoints: choose another directory or omit --state-dir`,
    );
  }
  const progress = new BackfillProgress(options, Date.now());
  const backfill = createBackfill(
    config,
    logger,
    {
      from: options.from,
      to: options.to,
      logGroups: options.logGroups,
      ratePerSecond: options.rate,
      stateDir,
    },
    progress,
  );

  const streams = await backfill.plan();
  if (options.dryRun) {
    printPlan(streams, options.from, options.to);
    return 0;
  }
  // One backfill per state directory: a second one on the same range stops here, naming this one.
  const lock = await lockStateDirectory(stateDir, 'backfill', logger);
  try {
    return await backfillLocked(backfill, progress, streams, options, stateDir, logger);
  } finally {
    await lock.release();
  }
}

async function backfillLocked(
  backfill: Backfill,
  progress: BackfillProgress,
  streams: readonly PlannedStream[],
  options: BackfillArgs,
  stateDir: string,
  logger: Logger,
): Promise<number> {
  // Before the line that says it started: a SIGTERM sent on seeing it must find the handler (a
  // signal without one kills the process at once; the end-to-end test hit that under load).
  const interrupted = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  progress.setStreams(streams.length);
  logger.info(
    { from: iso(options.from), to: iso(options.to), streams: streams.length, stateDir },
    'backfill starting',
  );

  const tty = process.stderr.isTTY;
  const show = (): void => {
    const line = `backfill: ${progress.line(Date.now())}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
  const timer = setInterval(show, tty ? REDRAW_EVERY_MS : LOG_EVERY_MS);
  try {
    progress.setStreams(await backfill.start(streams));
    const outcome = await Promise.race([backfill.whenDone().then(() => 'done'), interrupted]);
    clearInterval(timer);
    const drained = await backfill.stop();
    if (tty) process.stderr.write('\n');
    const summary = progress.summary(Date.now());
    if (outcome === 'done' && process.exitCode !== 1) {
      process.stderr.write(`backfill complete: ${summary}; state in ${stateDir}\n`);
      return 0;
    }
    process.stderr.write(
      `backfill interrupted (${outcome}, drained: ${drained}): ${summary}; run the same command again to resume from ${stateDir}\n`,
    );
    return 1;
  } catch (error) {
    clearInterval(timer);
    await backfill.stop().catch(() => undefined);
    throw error;
  }
}
