/**
 * `cloudhsm-audit-forwarder simulate [--clusters N] [--hsms N] [--records N] [--live] ...`
 *
 * Fills a local CloudWatch Logs emulator with a realistic CloudHSM fleet (the demo's simulator),
 * so that the quick start has something to forward. It writes fake audit records, so it refuses
 * any endpoint but a loopback one: it can never write into a real AWS account.
 */
import { parseArgs } from 'node:util';

import { startSimulation } from '../app.js';
import { environmentEndpoint, environmentRegion } from '../config/environment.js';
import { UsageError } from '../util/errors.js';
import { USAGES } from './usage.js';

export const SIMULATE_USAGE = USAGES.simulate ?? '';

const LIVE_RECORDS_PER_HSM = 3600;

function count(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${value}"`);
  }
  return n;
}

/** Only an emulator on this machine: fake audit records must never reach a real account. */
function loopbackEndpoint(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new UsageError(
      'simulate writes to a local CloudWatch Logs emulator: set AWS_ENDPOINT_URL ' +
        '(npm run stack -- up; eval "$(npm run --silent stack -- env)")',
    );
  }
  let host: string;
  try {
    host = new URL(value).hostname;
  } catch {
    throw new UsageError(`AWS_ENDPOINT_URL "${value}" is not a URL`);
  }
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new UsageError(
      `simulate writes fake audit records and only to an emulator on this machine; AWS_ENDPOINT_URL ${value} is not a loopback address`,
    );
  }
  return value;
}

export async function runSimulateCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        clusters: { type: 'string' },
        hsms: { type: 'string' },
        records: { type: 'string' },
        'log-group-prefix': { type: 'string' },
        seed: { type: 'string' },
        gap: { type: 'boolean' },
        live: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see 'simulate --help'`);
  }
  if (values.help === true) {
    process.stdout.write(SIMULATE_USAGE);
    return 0;
  }
  const endpoint = loopbackEndpoint(environmentEndpoint());
  const live = values.live === true;
  const simulation = await startSimulation({
    endpoint,
    region: environmentRegion() ?? 'us-east-1',
    clusters: count('clusters', values.clusters, 1, 20),
    hsmsPerCluster: count('hsms', values.hsms, 2, 28),
    recordsPerHsm: count('records', values.records, 200, 100_000),
    logGroupPrefix: values['log-group-prefix'] ?? '/aws/cloudhsm/',
    seed: count('seed', values.seed, Date.now() % 2_000_000_000, 2 ** 31),
    gap: values.gap === true,
    liveRecordsPerHsm: live ? LIVE_RECORDS_PER_HSM : 0,
  });
  try {
    const written = await simulation.writeDue(Date.now());
    const { report } = simulation;
    const groups = [...new Set(simulation.streams.map((s) => s.logGroup))];
    process.stdout.write(
      [
        `wrote ${written} audit records to ${simulation.streams.length} log streams at ${endpoint}:`,
        ...groups.map(
          (group) =>
            `  ${group}  (${simulation.streams.filter((s) => s.logGroup === group).length} HSMs)`,
        ),
        ...(live
          ? []
          : [
              `  crypto-user logins ${report.cryptoUserLoginsOk} ok, ${report.cryptoUserLoginsFailed} failed; key deletions ${report.keyDeletionsOk}` +
                (report.gaps.length > 0 ? `; ${report.gaps.length} sequence gap` : ''),
            ]),
        '',
      ].join('\n'),
    );
    if (!live) return 0;
    process.stdout.write('writing one record per HSM per second; Ctrl-C to stop\n');
    let stop = false;
    const onSignal = (): void => {
      stop = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let total = written;
    while (!stop && simulation.pending > 0) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      total += await simulation.writeDue(Date.now());
    }
    process.stdout.write(`stopped after ${total} records\n`);
    return 0;
  } finally {
    simulation.close();
  }
}
