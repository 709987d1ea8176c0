/**
 * `cloudhsm-audit-forwarder dead-letter list|replay [options]` (README "Dead letters: the runbook").
 *
 * - `list`: the pending entries of the dead-letter file (or, `--from-topic`, of the dead-letter
 *   topic) by reason and sink, with their time span.
 * - `replay`: sends the pending entries' events again (by default to the sink that refused each;
 *   `--sink both` to every enabled sink), records what was delivered in `<file>.replayed`, and
 *   reports per reason what was delivered and what was refused again. Entries refused again stay
 *   pending; an interrupted replay is run again. Exit 0 when every selected entry was delivered,
 *   1 when some were refused again (or their sink is not enabled), 2 on a usage error.
 */
import { dirname, join } from 'node:path';

import {
  appendReplayLedger,
  createDeadLetterReplay,
  createLogger,
  readDeadLetterFile,
  readDeadLetterTopicEntries,
  readReplayLedger,
  replayLedgerPath,
  type SinkName,
  type StoredDeadLetter,
} from '../app.js';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../util/errors.js';

interface DeadLetterArgs {
  readonly subcommand: 'list' | 'replay';
  readonly file?: string;
  /** Read the dead-letter topic instead of the file. */
  readonly topic: boolean;
  readonly since?: number;
  readonly reason?: string;
  readonly sink: 'own' | SinkName | 'both';
  readonly dryRun: boolean;
}

const SINKS = ['opensearch', 'kafka', 'both'] as const;
/** Entries sent per request: bounded memory, and the ledger advances as they are delivered. */
const REPLAY_BATCH = 500;

function parseTime(flag: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new UsageError(`${flag}: "${value}" is not an ISO-8601 time or epoch milliseconds`);
  }
  return ms;
}

export function parseDeadLetterArgs(args: readonly string[]): DeadLetterArgs {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'list' && subcommand !== 'replay') {
    throw new UsageError(
      `dead-letter: ${subcommand === undefined ? 'missing subcommand' : `unknown subcommand "${subcommand}"`}; expected list or replay (see 'dead-letter --help')`,
    );
  }
  let file: string | undefined;
  let topic = false;
  let since: number | undefined;
  let reason: string | undefined;
  let sink: DeadLetterArgs['sink'] = 'own';
  let dryRun = false;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : rest[(i += 1)];
      if (v === undefined || v === '')
        throw new UsageError(`dead-letter ${subcommand}: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--from-file':
        file = value();
        break;
      case '--from-topic':
        if (eq > 0)
          throw new UsageError('--from-topic takes no value (the topic is deadLetter.topic)');
        topic = true;
        break;
      case '--since':
        since = parseTime('--since', value());
        break;
      case '--reason':
        reason = value();
        break;
      case '--sink': {
        const v = value();
        if (!(SINKS as readonly string[]).includes(v)) {
          throw new UsageError(`--sink: "${v}"; expected one of: ${SINKS.join(', ')}`);
        }
        sink = v as DeadLetterArgs['sink'];
        break;
      }
      case '--dry-run':
        if (eq > 0) throw new UsageError('--dry-run takes no value');
        dryRun = true;
        break;
      default:
        throw new UsageError(
          `unknown option "${flag}" for dead-letter ${subcommand}; see 'dead-letter --help'`,
        );
    }
  }
  if (topic && file !== undefined) {
    throw new UsageError('--from-file and --from-topic: choose one');
  }
  if (subcommand === 'list' && (sink !== 'own' || dryRun)) {
    throw new UsageError('dead-letter list takes --from-file, --since and --reason only');
  }
  return {
    subcommand,
    ...(file === undefined ? {} : { file }),
    topic,
    ...(since === undefined ? {} : { since }),
    ...(reason === undefined ? {} : { reason }),
    sink,
    dryRun,
  };
}

/** How the summaries group entries: `kind · sink`. */
function labelOf(entry: StoredDeadLetter['entry']): string {
  return `${entry.kind} · ${entry.sink}`;
}

/** `kind · sink` → count, for the summaries. */
function tally(entries: readonly StoredDeadLetter[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { entry } of entries)
    counts.set(labelOf(entry), (counts.get(labelOf(entry)) ?? 0) + 1);
  return counts;
}

function summary(entries: readonly StoredDeadLetter[]): string[] {
  const times = entries.map(({ entry }) => entry.time).sort();
  const lines = [...tally(entries)]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, count]) => `  ${String(count).padStart(7)}  ${label}`);
  if (times.length > 0) lines.push(`  from ${times[0] ?? ''} to ${times.at(-1) ?? ''}`);
  return lines;
}

export async function runDeadLetterCommand(args: string[]): Promise<number> {
  const options = parseDeadLetterArgs(args);
  const config = loadConfig({ requireSink: options.subcommand === 'replay' && !options.dryRun });
  // The ledger of the topic's replays lives beside the dead-letter file (a writable volume).
  const source = options.topic ? await readDeadLetterTopicEntries(config) : undefined;
  const file =
    source === undefined
      ? (options.file ?? config.deadLetter.file)
      : join(dirname(config.deadLetter.file), `dead-letter-topic-${source.topic}`);
  const { entries, unreadable } = source?.read ?? (await readDeadLetterFile(file));
  const replayed = await readReplayLedger(file);
  const pending = entries.filter(({ key }) => !replayed.has(key));
  const selected = pending.filter(
    ({ entry }) =>
      (options.since === undefined || Date.parse(entry.time) >= options.since) &&
      (options.reason === undefined || entry.kind === options.reason),
  );
  const out = process.stdout;
  const name = source === undefined ? file : `topic ${source.topic}`;
  out.write(
    `${name}: ${entries.length} entries, ${entries.length - pending.length} replayed before (${replayLedgerPath(file)}), ${pending.length} pending${unreadable > 0 ? `, ${unreadable} lines that are not entries (left as they are)` : ''}\n`,
  );
  if (options.subcommand === 'list' || options.dryRun) {
    out.write(`${options.dryRun ? 'would replay' : 'pending, selected'}: ${selected.length}\n`);
    for (const line of summary(selected)) out.write(`${line}\n`);
    return 0;
  }
  if (selected.length === 0) {
    out.write('nothing to replay\n');
    return 0;
  }

  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const replay = createDeadLetterReplay(config, logger);
  const abort = new AbortController();
  const interrupt = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const delivered = new Map<string, number>();
  const refused = new Map<string, { count: number; first: string }>();
  const noteRefused = (entry: StoredDeadLetter['entry'], why: string): void => {
    const seen = refused.get(labelOf(entry));
    refused.set(labelOf(entry), { count: (seen?.count ?? 0) + 1, first: seen?.first ?? why });
  };
  let interrupted = false;
  try {
    await replay.start();
    for (let i = 0; i < selected.length; i += REPLAY_BATCH) {
      const batch = selected.slice(i, i + REPLAY_BATCH);
      const groups = new Map<string, StoredDeadLetter[]>();
      for (const stored of batch) {
        const targets = options.sink === 'own' ? stored.entry.sink : options.sink;
        groups.set(targets, [...(groups.get(targets) ?? []), stored]);
      }
      for (const [targets, group] of groups) {
        const wanted: SinkName[] = targets === 'both' ? [...replay.sinks] : [targets as SinkName];
        const missing = wanted.filter((name) => !replay.sinks.includes(name));
        if (missing.length > 0 || wanted.length === 0) {
          const why = `sink ${missing.join(', ') || targets} is not enabled`;
          for (const { entry } of group) noteRefused(entry, why);
          continue;
        }
        const outcome = await replay.replay(group, wanted, abort.signal);
        await appendReplayLedger(file, outcome.delivered);
        const byKey = new Map(group.map((stored) => [stored.key, stored.entry]));
        for (const key of outcome.delivered) {
          const entry = byKey.get(key);
          if (entry !== undefined)
            delivered.set(labelOf(entry), (delivered.get(labelOf(entry)) ?? 0) + 1);
        }
        for (const { key, reason } of outcome.refused) {
          const entry = byKey.get(key);
          if (entry !== undefined) noteRefused(entry, reason);
        }
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    interrupted = true;
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await replay.stop().catch(() => undefined);
  }
  const labels = [...new Set([...delivered.keys(), ...refused.keys()])].sort();
  for (const label of labels) {
    const again = refused.get(label);
    out.write(
      `  ${label}: ${delivered.get(label) ?? 0} delivered, ${again?.count ?? 0} refused again${again === undefined ? '' : ` (first: ${again.first.slice(0, 200)})`}\n`,
    );
  }
  const total = [...delivered.values()].reduce((a, b) => a + b, 0);
  const again = [...refused.values()].reduce((a, b) => a + b.count, 0);
  if (interrupted) {
    out.write(
      `replay interrupted after ${total} delivered: run the same command again to go on (what was delivered is in ${replayLedgerPath(file)})\n`,
    );
    return 1;
  }
  out.write(`replayed ${selected.length}: ${total} delivered, ${again} still pending in ${file}\n`);
  return again === 0 ? 0 : 1;
}
