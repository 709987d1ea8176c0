/**
 * `cloudhsm-audit-forwarder config validate|print [--file F]` (README "The two commands", config/README.md).
 *
 * - `validate`: loads every source (defaults, config/default.json, `--file` or `CONFIG_FILE`,
 *   env), runs every check `run` makes before it connects (secret and PEM files read, a sink
 *   enabled, no credentials in clear text) and reports all problems at once; else prints
 *   `configuration OK`, exit 0.
 * - `print`: the effective configuration as JSON with every secret replaced by "[redacted]".
 * A configuration problem throws `UsageError` (exit 2) naming the key, the value and what is
 * accepted; the CLI prints it as one message, never with a stack trace.
 */
import { loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import type { LoadConfigOptions } from '../config/load.js';
import { UsageError } from '../util/errors.js';

const USAGE = `Usage: cloudhsm-audit-forwarder config <validate|print> [--file F]

  validate    check the configuration; prints "configuration OK" (exit 0) or the problems (exit 2)
  print       print the effective configuration as JSON, secrets redacted

Sources, lowest to highest precedence: schema defaults, config/default.json, the file given by
--file (or the CONFIG_FILE environment variable), environment variables.
`;

export interface ConfigCommandIo {
  readonly stdout?: { write(text: string): unknown };
  readonly env?: NodeJS.ProcessEnv;
}

interface ConfigArgs {
  readonly subcommand: 'validate' | 'print' | 'help';
  readonly file?: string;
}

function parseArgs(args: readonly string[]): ConfigArgs {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined) {
    throw new UsageError('config: missing subcommand; expected one of: validate, print');
  }
  if (subcommand === 'help' || subcommand === '--help' || subcommand === '-h') {
    return { subcommand: 'help' };
  }
  if (subcommand !== 'validate' && subcommand !== 'print') {
    throw new UsageError(
      `config: unknown subcommand "${subcommand}"; expected one of: validate, print`,
    );
  }
  let file: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag === '--file' || flag === '-f') {
      const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '') {
        throw new UsageError(`config ${subcommand}: ${flag} needs a file path`);
      }
      if (file !== undefined) throw new UsageError(`config ${subcommand}: --file given twice`);
      file = value;
    } else {
      throw new UsageError(`config ${subcommand}: unknown argument "${flag}"; accepted: --file F`);
    }
  }
  return file === undefined ? { subcommand } : { subcommand, file };
}

function execute(args: readonly string[], io: ConfigCommandIo): number {
  const stdout = io.stdout ?? process.stdout;
  const parsed = parseArgs(args);
  if (parsed.subcommand === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  const options: LoadConfigOptions = {
    // Without io.env, loadConfig reads the process environment itself (src/config only).
    ...(io.env === undefined ? {} : { env: io.env }),
    ...(parsed.file === undefined ? {} : { file: parsed.file }),
    // validate answers what `run` would: its start-up check (a sink enabled) included.
    requireSink: parsed.subcommand === 'validate',
  };
  const config = loadConfig(options);
  if (parsed.subcommand === 'validate') {
    stdout.write('configuration OK\n');
  } else {
    stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
  }
  return 0;
}

/** Runs `config <subcommand>`; resolves to the exit code, rejects with `UsageError` (exit 2). */
export function runConfigCommand(args: string[], io: ConfigCommandIo = {}): Promise<number> {
  try {
    return Promise.resolve(execute(args, io));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
