/**
 * Structured logging (README "Operating it"): pino NDJSON on stdout, ISO time, level
 * labels, `service` and `version` on every line, a fixed list of redacted paths, and one child
 * logger per component. Human-readable output only when `log.pretty` is set, stdout is a TTY and
 * the dev-only `pino-pretty` package is installed; otherwise JSON (with a warning).
 *
 * Logging rules for callers: errors as `{ err }`; never log per event at info (count in metrics,
 * log per batch at debug); never put untrusted data into bindings; never log an event, a request
 * or a response body (sizes and counts instead). Errors go through {@link serializeError}, which
 * keeps type, message, code and status only, and repeated warnings and errors are rate-limited
 * ({@link RepeatLimiter}), so an outage logs a line, a count and a recovery, not a flood.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { DestinationStream, Logger, LogFn, LoggerOptions as PinoOptions } from 'pino';
import { packageVersion } from '../config/package-info.js';
import type { LogLevel } from '../config/schema.js';
import { serializeError } from './error-serializer.js';
import { lineKind, RepeatLimiter } from './repeat-limiter.js';

export type { Logger } from 'pino';

export const SERVICE_NAME = 'cloudhsm-audit-forwarder';
export const REDACTED = '[redacted]';

/**
 * Paths whose values never reach the logs. Fixed at construction (never from input); explicit
 * paths up to three levels deep rather than deep wildcards, which are costly.
 */
export const REDACT_PATHS: readonly string[] = (() => {
  const secrets = [
    'password',
    'passwd',
    'secret',
    'token',
    'accessToken',
    'refreshToken',
    'sessionToken',
    'nextForwardToken',
    'nextBackwardToken',
    'nextToken',
    'secretAccessKey',
    'accessKeyId',
    'apiKey',
    'authorization',
    'Authorization',
    'cookie',
    'x-amz-security-token',
    'X-Amz-Security-Token',
  ];
  const key = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`);
  const join = (prefix: string, name: string): string =>
    key(name).startsWith('[') ? `${prefix}${key(name)}` : `${prefix}.${name}`;
  const paths = new Set<string>();
  for (const name of secrets) {
    paths.add(key(name));
    paths.add(join('*', name));
    paths.add(join('*.*', name));
    paths.add(join('*.*.*', name));
  }
  for (const extra of [
    'sasl',
    'kafka.sasl',
    'config.kafka.sasl.password',
    'config.opensearch.password',
    'credentials',
    '*.credentials',
    'auth',
    '*.auth',
    'headers.authorization',
    'headers.cookie',
    'req.headers.authorization',
    'req.headers.cookie',
  ]) {
    paths.add(extra);
  }
  return [...paths];
})();

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** Human-readable output; needs a TTY and the dev-only pino-pretty. */
  readonly pretty?: boolean;
  /** Where to write (default: stdout). Tests pass a stream; pretty output is then off. */
  readonly destination?: DestinationStream;
  /** Overrides the version from package.json. */
  readonly version?: string;
  /** Overrides `process.stdout.isTTY` (tests). */
  readonly isTty?: boolean;
  /** Identical warnings and errors within this window are counted, not written (ms). */
  readonly repeatWindowMs?: number;
  /** Clock of the repeat limit (tests). @default Date.now */
  readonly now?: () => number;
}

/** Default window of the repeat limit: one line per kind of warning or error per minute. */
export const REPEAT_WINDOW_MS = 60_000;

const WARN_LEVEL = 40;

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** The product's root logger. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const base: PinoOptions = {
    level: options.level,
    base: { service: SERVICE_NAME, version: options.version ?? packageVersion() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { err: serializeError },
    hooks: { logMethod: repeatLimitHook(options) },
  };
  let fallback: string | undefined;
  if (options.pretty === true) {
    const tty = options.isTty ?? process.stdout.isTTY === true;
    if (options.destination !== undefined) {
      fallback = 'log.pretty is ignored when logging to a custom destination';
    } else if (!tty) {
      fallback = 'log.pretty needs a terminal; stdout is not a TTY, writing JSON';
    } else if (!prettyAvailable()) {
      fallback =
        'log.pretty needs the dev-only package pino-pretty, which is not installed; writing JSON';
    } else {
      return pino({
        ...base,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: true } },
      });
    }
  }
  const logger = options.destination === undefined ? pino(base) : pino(base, options.destination);
  if (fallback !== undefined) logger.warn(fallback);
  return logger;
}

type LogMethodHook = (this: Logger, args: Parameters<LogFn>, method: LogFn, level: number) => void;

function repeatLimitHook(options: CreateLoggerOptions): LogMethodHook {
  const limiter = new RepeatLimiter({
    windowMs: options.repeatWindowMs ?? REPEAT_WINDOW_MS,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return function (this: Logger, args, method, level) {
    if (level < WARN_LEVEL) {
      method.apply(this, args);
      return;
    }
    const [first, ...rest] = args as unknown[];
    const fields =
      typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined;
    const message = fields === undefined ? first : rest[0];
    const verdict = limiter.admit(lineKind(level, this.bindings().component, fields, message));
    if (!verdict.write) return;
    if (verdict.suppressed === 0) {
      method.apply(this, args);
      return;
    }
    const withCount =
      fields === undefined
        ? [{ suppressed: verdict.suppressed }, ...args]
        : [{ ...fields, suppressed: verdict.suppressed }, ...rest];
    method.apply(this, withCount as Parameters<typeof method>);
  };
}

/** Bindings that would overwrite pino's own fields or the service identity. */
const RESERVED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'version', 'err']);

/**
 * A child logger for one component (`source.poller`, `sink.kafka`, ...) with extra context such
 * as `{ logGroup, logStream, cluster }`. Reserved field names in `bindings` are dropped.
 */
export function childLogger(
  logger: Logger,
  component: string,
  bindings: Readonly<Record<string, string | number | boolean>> = {},
): Logger {
  const safe: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(bindings)) {
    if (!RESERVED.has(key) && key !== 'component') safe[key] = value;
  }
  return logger.child({ component, ...safe });
}
