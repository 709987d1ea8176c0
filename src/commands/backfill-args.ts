/**
 * Arguments of `cloudhsm-audit-forwarder backfill` (README "The two commands", "Backfill"). Pure, so every refusal is
 * unit-tested; the command itself is in backfill-command.ts.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

import { UsageError } from '../util/errors.js';
import { DEFAULT_BACKFILL_RATE } from '../util/cloudwatch-quotas.js';

export interface BackfillArgs {
  /** Inclusive start, epoch ms. */
  readonly from: number;
  /** Exclusive end, epoch ms (may lie in the future: each stream then ends at its end). */
  readonly to: number;
  /** Named log groups; empty: the groups of the discovery configuration. */
  readonly logGroups: readonly string[];
  readonly dryRun: boolean;
  /** GetLogEvents calls per second. */
  readonly rate: number;
  /** Explicit `--state-dir`, else undefined (see {@link defaultStateDir}). */
  readonly stateDir: string | undefined;
}

const OPTIONS = '--from T1 --to T2 [--log-group G]... [--dry-run] [--rate N] [--state-dir D]';

/** ISO-8601 (`2026-11-01T00:00:00Z`; a date alone is midnight UTC) or epoch milliseconds. */
export function parseTime(option: string, text: string): number {
  const time = /^\d+$/.test(text)
    ? Number(text)
    : /^\d{4}-\d{2}-\d{2}/.test(text)
      ? Date.parse(text)
      : Number.NaN;
  if (!Number.isSafeInteger(time)) {
    throw new UsageError(
      `${option}: invalid time "${text}"; give an ISO-8601 time such as 2026-11-01T00:00:00Z or epoch milliseconds such as 1793491200000`,
    );
  }
  return time;
}

export function parseBackfillArgs(args: readonly string[]): BackfillArgs {
  let from: number | undefined;
  let to: number | undefined;
  const logGroups: string[] = [];
  let dryRun = false;
  let rate: number = DEFAULT_BACKFILL_RATE;
  let stateDir: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new UsageError(`${name} needs a value; usage: backfill ${OPTIONS}`);
      }
      i += 1;
      return next;
    };
    switch (name) {
      case '--from':
        from = parseTime('--from', value());
        break;
      case '--to':
        to = parseTime('--to', value());
        break;
      case '--log-group': {
        const group = value();
        if (group === '') throw new UsageError('--log-group needs a log group name');
        logGroups.push(group);
        break;
      }
      case '--dry-run':
        if (eq >= 0) throw new UsageError('--dry-run takes no value');
        dryRun = true;
        break;
      case '--rate': {
        const text = value();
        rate = Number(text);
        if (!/^\d+(\.\d+)?$/.test(text) || !(rate > 0)) {
          throw new UsageError(
            `--rate: invalid value "${text}"; give GetLogEvents calls per second, a number above 0 (default ${DEFAULT_BACKFILL_RATE}: the headroom the live forwarder leaves)`,
          );
        }
        break;
      }
      case '--state-dir':
        stateDir = value();
        if (stateDir === '') throw new UsageError('--state-dir needs a directory');
        break;
      default:
        throw new UsageError(`unknown option "${arg}" for backfill; usage: backfill ${OPTIONS}`);
    }
  }
  if (from === undefined || to === undefined) {
    throw new UsageError(
      `backfill needs ${from === undefined ? '--from' : '--to'}; usage: backfill ${OPTIONS}`,
    );
  }
  if (from >= to) {
    throw new UsageError(
      `--from (${new Date(from).toISOString()}) must be before --to (${new Date(to).toISOString()}); the range is [from, to)`,
    );
  }
  return { from, to, logGroups: [...new Set(logGroups)].sort(), dryRun, rate, stateDir };
}

/**
 * `<checkpoint dir>/backfill/<hash>`: one state per range and set of groups, so running the same
 * command again resumes it and a different range starts afresh. `groups` is what the run reads:
 * the named groups, or the discovery configuration when none is named.
 */
export function defaultStateDir(
  checkpointDir: string,
  args: Pick<BackfillArgs, 'from' | 'to' | 'logGroups'>,
  discovery: {
    readonly logGroupPrefixes: readonly string[];
    readonly logGroups: readonly string[];
  },
): string {
  const groups =
    args.logGroups.length > 0
      ? { logGroups: args.logGroups }
      : {
          logGroupPrefixes: [...discovery.logGroupPrefixes].sort(),
          logGroups: [...discovery.logGroups].sort(),
        };
  const digest = createHash('sha256')
    .update(JSON.stringify({ from: args.from, to: args.to, ...groups }))
    .digest('hex')
    .slice(0, 16);
  return join(checkpointDir, 'backfill', digest);
}
