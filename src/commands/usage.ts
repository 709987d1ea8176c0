/**
 * The `--help` text of every command and subcommand, in one place so that `cli.ts` can answer
 * `<command> --help` without loading the command (and its clients). A test checks that each text
 * names every option its command accepts.
 */

const RUN = `Usage: cloudhsm-audit-forwarder run [options]

Forwards CloudHSM audit logs from CloudWatch Logs to Kafka and OpenSearch until SIGTERM/SIGINT,
which stop polling, drain in-flight batches, commit checkpoints and exit 0. Configured through
environment variables and config files (see 'config --help' and the README's Configuration).

Options:
  --reset-checkpoints LOG_GROUP/LOG_STREAM
                           forget one stream's checkpoint before starting (repeatable)
  --reset-all-checkpoints  forget every checkpoint before starting (needs --yes)
  --yes                    confirm --reset-all-checkpoints
  -h, --help               show this text

Exit status: 0 stopped cleanly, 1 runtime failure (a sink that cannot start is named, with the
step and the fix), 2 usage or configuration error.
`;

const BACKFILL = `Usage: cloudhsm-audit-forwarder backfill --from T1 --to T2 [options]

Delivers the records of [T1, T2) beside a running forwarder, then exits 0; resumable (run the same
command again), with its own checkpoints and its own GetLogEvents rate.

Options:
  --from T1          start of the range, inclusive: ISO-8601 (a date alone is midnight UTC) or
                     epoch milliseconds (required)
  --to T2            end of the range, exclusive (required)
  --log-group G      read only this log group (repeatable; default: every discovered group).
                     A group that does not exist is an error (exit 2)
  --dry-run          list the streams it would read, and read nothing
  --rate N           GetLogEvents calls per second (default 1)
  --state-dir D      where its checkpoints live (default: beside checkpoint.dir, per range)
  -h, --help         show this text
`;

const PARSE = `Usage: cloudhsm-audit-forwarder parse [options] [FILE...]

Offline: prints one OCSF event per line (integrity findings included) for what each FILE, or
stdin without FILE ('-' for stdin among files), holds:
  - raw CloudHSM audit records, one or several (each starts with its "Time: " line);
  - NDJSON CloudWatch events ({"timestamp":..,"message":..} per line);
  - the JSON that 'aws logs get-log-events' or 'aws logs filter-log-events' print.

Options:
  --log-group G      log group of the records (default /aws/cloudhsm/cluster-unknown)
  --log-stream S     log stream of records that do not name theirs (default hsm-unknown)
  -h, --help         show this text

Exit status: 0 when at least one record was parsed, 1 when nothing could be or a FILE cannot be
read, 2 usage error.
`;

const CONFIG = `Usage: cloudhsm-audit-forwarder config <validate|print> [--file F]

  validate    check the configuration, every problem at once, including what 'run' checks at
              start-up; prints "configuration OK" (exit 0) or the problems (exit 2)
  print       print the effective configuration as JSON, secrets redacted

Options:
  -f, --file F       a configuration file (JSON), above config/default.json (or CONFIG_FILE)
  -h, --help         show this text

Sources, lowest to highest precedence: schema defaults, config/default.json, the file given by
--file (or the CONFIG_FILE environment variable), environment variables.
`;

const SIMULATE = `Usage: cloudhsm-audit-forwarder simulate [options]

Writes a simulated CloudHSM fleet (multi-line audit records, one log group per cluster, one log
stream per HSM) into the CloudWatch Logs emulator at AWS_ENDPOINT_URL, which must be a loopback
address (npm run stack -- up; eval "$(npm run --silent stack -- env)").

Options:
  --clusters N           clusters (log groups) to create             (default 1)
  --hsms N               HSMs (log streams) per cluster               (default 2)
  --records N            records per HSM written at once, in the past (default 200)
  --log-group-prefix P   prefix of the log group names                (default /aws/cloudhsm/)
  --seed N               makes the fleet reproducible                 (default: a new fleet each run)
  --gap                  leave out one record (a sequence gap the forwarder reports)
  --live                 then keep writing one record per HSM per second, for up to an hour,
                         until interrupted (Ctrl-C)
  -h, --help             show this text
`;

const DEAD_LETTER = `Usage: cloudhsm-audit-forwarder dead-letter <list|replay> [options]

  list      the pending entries of the dead-letter file (or topic), by reason and sink, with
            their time span
  replay    send the pending entries' events again, then report per reason what was delivered
            and what was refused again. Delivered entries are recorded in <file>.replayed and
            skipped from then on; the file itself is never rewritten (the forwarder appends to
            it meanwhile). Entries refused again stay pending; run an interrupted replay again.

Options:
  --from-file F      the dead-letter file (default: deadLetter.file / DEAD_LETTER_FILE)
  --from-topic       the dead-letter topic instead (deadLetter.topic; read from its beginning by
                     the consumer group <kafka.clientId>.dead-letter-replay, nothing committed;
                     what was replayed is recorded beside the dead-letter file)
  --since T          only entries dead-lettered at or after T (ISO-8601 or epoch ms)
  --reason R         only entries of this kind (mapping_error, too_large, invalid_event, rejected)
  --sink S           replay to opensearch, kafka or both (default: the sink that refused each)
  --dry-run          replay: show what would be sent, send nothing
  -h, --help         show this text

Exit status: 0 every selected entry delivered (or list), 1 some refused again, their sink not
enabled, or interrupted, 2 usage or configuration error.
`;

export const USAGES: Readonly<Record<string, string>> = {
  run: RUN,
  backfill: BACKFILL,
  parse: PARSE,
  config: CONFIG,
  'config validate': CONFIG,
  'config print': CONFIG,
  simulate: SIMULATE,
  'dead-letter': DEAD_LETTER,
  'dead-letter list': DEAD_LETTER,
  'dead-letter replay': DEAD_LETTER,
};

/** The usage text `args` ask for with `--help`/`-h`, if they do (none after a `--`). */
export function helpRequested(command: string, args: readonly string[]): string | undefined {
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  if (!options.some((arg) => arg === '--help' || arg === '-h')) return undefined;
  const sub = args[0];
  return USAGES[`${command} ${sub ?? ''}`] ?? USAGES[command];
}
