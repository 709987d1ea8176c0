#!/usr/bin/env node
/**
 * Command dispatch for the `cloudhsm-audit-forwarder` binary (README "The two commands").
 * Each command lives in src/commands/ and receives its own arguments; errors reaching this
 * level are printed as one line and mapped to the documented exit codes.
 */
import { helpRequested } from './commands/usage.js';
import { packageVersion } from './config/package-info.js';
import { exitCodeFor, UsageError } from './util/errors.js';

type CommandRunner = (args: string[]) => Promise<number>;

const USAGE = `Usage: cloudhsm-audit-forwarder <command> [options]

Commands:
  run                                   forward CloudHSM audit logs (the container's entry point)
  backfill --from T1 --to T2 [--log-group G]... [--dry-run] [--rate N] [--state-dir D]
                                        deliver the records of [T1, T2) (ISO-8601 or epoch ms)
                                        beside the live forwarder; resumable, own call rate
                                        (default 1 GetLogEvents/s)
  parse [--log-group G] [--log-stream S] [FILE...]
                                        print one OCSF event per line for raw records
  config validate | config print        check / print the effective configuration
  dead-letter list | dead-letter replay [--from-file F] [--since T] [--reason R]
              [--sink opensearch|kafka|both] [--dry-run]
                                        summarize / send again the events in the dead-letter file
  simulate [--clusters N] [--hsms N] [--records N] [--live]
                                        fill a local CloudWatch Logs emulator with a simulated
                                        fleet (loopback AWS_ENDPOINT_URL only)
  help, --help, -h                      show this text; '<command> --help' shows a command's options
  --version, -V                         print the version
`;

/** package.json engines: ^24.11.0 || ^26.0.0. */
function supportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return (major === 24 && minor >= 11) || major >= 26;
}

/** Commands load lazily so that `parse` never loads the Kafka or OpenSearch clients. */
const commands: Record<string, () => Promise<CommandRunner>> = {
  run: () => import('./commands/run-command.js').then((m) => m.runRunCommand),
  backfill: () => import('./commands/backfill-command.js').then((m) => m.runBackfillCommand),
  parse: () => import('./commands/parse-command.js').then((m) => m.runParseCommand),
  config: () => import('./commands/config-command.js').then((m) => m.runConfigCommand),
  simulate: () => import('./commands/simulate-command.js').then((m) => m.runSimulateCommand),
  'dead-letter': () =>
    import('./commands/dead-letter-command.js').then((m) => m.runDeadLetterCommand),
};

export async function main(argv: string[]): Promise<number> {
  // Before any command loads: on an older Node the failure would be some obscure API error.
  if (!supportedNode(process.versions.node)) {
    throw new UsageError(
      `Node.js ${process.versions.node} is not supported: this release needs Node ^24.11.0 or ^26 ` +
        '(package.json engines). From a clone, tools/forwarder.sh runs it on the pinned runtime ' +
        '(.nvmrc); the container image brings its own',
    );
  }
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`cloudhsm-audit-forwarder ${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    throw new UsageError(
      `unknown command "${name}"; expected one of: ${Object.keys(commands).join(', ')}, help, --version`,
    );
  }
  const usage = helpRequested(name, rest);
  if (usage !== undefined) {
    process.stdout.write(usage);
    return 0;
  }
  const run = await load();
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cloudhsm-audit-forwarder: ${message}\n`);
    process.exitCode = exitCodeFor(error);
  },
);
