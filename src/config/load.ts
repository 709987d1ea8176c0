/**
 * Loads, validates and resolves the configuration (design §3.2).
 *
 * Sources, lowest to highest precedence: schema defaults, `config/default.json` of the package,
 * the file named by `CONFIG_FILE` (or an explicit path), environment variables. Every problem is
 * reported as one `UsageError` (`FWD_ERR_CONFIG`, exit 2) that lists each offending key with its
 * env name, the bad value (never for secrets) and what is accepted.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import convict from 'convict';
import { UsageError } from '../util/errors.js';
import { packageRoot } from './package-info.js';
import {
  isSchemaLeaf,
  schema,
  schemaKeys,
  schemaNode,
  type KafkaCompression,
  type LogLevel,
  type RawConfig,
  type SaslMechanism,
  type Sigv4Service,
} from './schema.js';

/** The resolved, validated, frozen configuration. Unset optional strings are `null`. */
export interface Config {
  readonly aws: {
    readonly region: string | null;
    readonly endpoint: string | null;
    readonly accountId: string | null;
  };
  readonly source: {
    readonly logGroupPrefixes: readonly string[];
    readonly logGroups: readonly string[];
    /** `beginning`, `end` or an ISO-8601 time (validated); see `parseStartPosition`. */
    readonly startPosition: string;
    readonly discoveryIntervalMs: number;
    readonly pollMinIntervalMs: number;
    readonly pollMaxIntervalMs: number;
    readonly retiredCheckpointRetentionMs: number;
    readonly pageLimit: number;
    /** Calls per second per API operation (shared by all streams). */
    readonly rateLimits: {
      readonly getLogEvents: number;
      readonly describeLogStreams: number;
      readonly describeLogGroups: number;
    };
  };
  readonly pipeline: {
    readonly maxInFlightBatches: number;
    readonly maxInFlightBatchesPerStream: number;
    readonly maxInFlightEvents: number;
    readonly maxInFlightBytes: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly checkpoint: { readonly dir: string };
  readonly kafka: {
    /** Derived: brokers is not empty. */
    readonly enabled: boolean;
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly clientId: string;
    readonly createTopic: boolean;
    readonly topicPartitions: number;
    /** -1: broker default. */
    readonly topicReplicationFactor: number;
    readonly compression: KafkaCompression;
    readonly idempotent: boolean;
    readonly requestTimeoutMs: number;
    readonly ssl: {
      readonly enabled: boolean;
      readonly caFile: string | null;
      readonly certFile: string | null;
      readonly keyFile: string | null;
      readonly rejectUnauthorized: boolean;
    };
    readonly sasl: {
      readonly mechanism: SaslMechanism;
      readonly username: string | null;
      /** From `password` or read from `passwordFile`. Secret: print only via redactConfig. */
      readonly password: string | null;
      readonly passwordFile: string | null;
    };
  };
  readonly opensearch: {
    /** Derived: url is set. */
    readonly enabled: boolean;
    readonly url: string | null;
    readonly indexPrefix: string;
    readonly username: string | null;
    /** From `password` or read from `passwordFile`. Secret. */
    readonly password: string | null;
    readonly passwordFile: string | null;
    readonly tls: { readonly caFile: string | null; readonly rejectUnauthorized: boolean };
    readonly sigv4: {
      readonly enabled: boolean;
      readonly service: Sigv4Service;
      /** Resolved: opensearch.sigv4.region, else aws.region. */
      readonly region: string | null;
    };
    readonly bulkMaxDocs: number;
    readonly compression: KafkaCompression;
    readonly requestTimeoutMs: number;
    readonly lateIndex: boolean;
  };
  readonly deadLetter: {
    readonly topic: string;
    /** -1: the broker default. */
    readonly topicPartitions: number;
    /** -1: the broker default. */
    readonly topicReplicationFactor: number;
    readonly file: string;
  };
  readonly enrichment: {
    readonly enabled: boolean;
    /** Resolved: enrichment.endpoint, else aws.endpoint, else null (SDK default). */
    readonly endpoint: string | null;
    /** Resolved: aws.region, else us-east-1 (the CloudHSM and STS clients need one). */
    readonly region: string;
    readonly refreshIntervalMs: number;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly http: { readonly host: string; readonly port: number; readonly readySinkDownMs: number };
  readonly log: { readonly level: LogLevel; readonly pretty: boolean };
}

export interface LoadConfigOptions {
  /** Environment to read (default `process.env`); also where `CONFIG_FILE` is looked up. */
  readonly env?: NodeJS.ProcessEnv;
  /** Configuration file to load instead of the one named by `CONFIG_FILE`. */
  readonly file?: string;
  /** Replaces the package's `config/default.json`; `false` skips it. */
  readonly defaultFile?: string | false;
  /** Base of relative paths (`CONFIG_FILE`, `*File` secrets). Default: `process.cwd()`. */
  readonly cwd?: string;
}

/** Dotted paths of the secret values in {@link Config}. */
export const SECRET_PATHS = ['kafka.sasl.password', 'opensearch.password'] as const;

export const REDACTED = '[redacted]';

const ENV_BY_KEY = new Map(schemaKeys().map((k) => [k.key, k.env]));

function keyLabel(key: string): string {
  const env = ENV_BY_KEY.get(key);
  return env === undefined || env === '' ? key : `${key} (env ${env})`;
}

function configError(problems: readonly string[]): UsageError {
  const message =
    problems.length === 1
      ? `invalid configuration: ${problems[0] ?? ''}`
      : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
  return new UsageError(message, 'FWD_ERR_CONFIG');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sectionKeys(node: unknown): string[] {
  return isPlainObject(node) ? Object.keys(node) : [];
}

/**
 * JSON types files must use. Environment strings are converted by the formats' coercion; in a
 * file, `"8"` for a number or `"yes"` for a boolean is a type error, not something to guess at.
 */
const JSON_TYPE_BY_FORMAT: Readonly<Record<string, string>> = {
  'fwd-integer': 'number',
  'fwd-number': 'number',
  'fwd-boolean': 'boolean',
  'fwd-string-list': 'array',
  'fwd-broker-list': 'array',
};

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/**
 * Structural check of a file against the schema before convict sees it: unknown keys, objects
 * where a single value belongs and scalars where a section belongs (convict's merge would crash
 * or silently accept those).
 */
function checkFileShape(value: unknown, source: string): string[] {
  if (!isPlainObject(value)) return [`${source}: must contain a JSON object`];
  const problems: string[] = [];
  const walk = (object: Record<string, unknown>, path: string[]): void => {
    for (const [name, child] of Object.entries(object)) {
      const childPath = [...path, name];
      const key = childPath.join('.');
      const node = schemaNode(childPath);
      if (node === undefined) {
        const parent = path.length === 0 ? 'at the top level' : `under "${path.join('.')}"`;
        problems.push(
          `${source}: unknown key "${key}"; known keys ${parent}: ${sectionKeys(schemaNode(path)).join(', ')}`,
        );
      } else if (isSchemaLeaf(node)) {
        if (node.format === 'fwd-labels') {
          if (isPlainObject(child)) {
            const bad = Object.keys(child).find((k) => typeof child[k] !== 'string');
            if (bad !== undefined) {
              problems.push(`${source}: ${keyLabel(key)}: label "${bad}" must be a string`);
            }
          }
        } else if (isPlainObject(child)) {
          problems.push(
            `${source}: ${keyLabel(key)}: is a single setting, not an object (${node.doc ?? ''})`,
          );
        } else {
          const expected =
            typeof node.format === 'string' ? JSON_TYPE_BY_FORMAT[node.format] : undefined;
          if (expected !== undefined && jsonType(child) !== expected) {
            const shown = node.sensitive === true ? '' : `; got ${JSON.stringify(child)}`;
            problems.push(`${source}: ${keyLabel(key)}: must be a JSON ${expected}${shown}`);
          }
        }
      } else if (!isPlainObject(child)) {
        problems.push(
          `${source}: "${key}" must be an object with keys: ${sectionKeys(node).join(', ')}`,
        );
      } else {
        walk(child, childPath);
      }
    }
  };
  walk(value, []);
  return problems;
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError([`${what} "${path}" cannot be read: ${describeFsError(error)}`]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw configError([`${what} "${path}" is not valid JSON: ${detail}`]);
  }
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (ENOENT)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EISDIR':
      return 'is a directory (EISDIR)';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** Rewrites convict's `key: message: value was X` lines into our wording. */
function convictProblems(message: string): string[] {
  return message
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const undeclared = /^configuration param '([^']+)' not declared in the schema$/.exec(line);
      if (undeclared !== null) return `unknown key "${undeclared[1] ?? ''}"`;
      const match = /^([A-Za-z0-9_.]+): (.*)$/s.exec(line);
      if (match === null) return line;
      const key = match[1] ?? '';
      const rest = (match[2] ?? '').replace(/: value was (.*)$/s, '; got $1');
      return `${keyLabel(key)}: ${rest}`;
    });
}

function optional(value: string): string | null {
  return value === '' ? null : value;
}

interface Context {
  readonly cwd: string;
  readonly problems: string[];
}

function readSecret(
  ctx: Context,
  passwordKey: string,
  password: string,
  fileKey: string,
  file: string,
): string | null {
  if (password !== '' && file !== '') {
    ctx.problems.push(`${keyLabel(passwordKey)} and ${keyLabel(fileKey)} are both set; set one`);
    return null;
  }
  if (file === '') return optional(password);
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    ctx.problems.push(
      `${keyLabel(fileKey)}: cannot read secret file "${path}": ${describeFsError(error)}`,
    );
    return null;
  }
  const secret = text.trim();
  if (secret === '') {
    ctx.problems.push(`${keyLabel(fileKey)}: secret file "${path}" is empty`);
    return null;
  }
  return secret;
}

function checkReadable(ctx: Context, key: string, file: string): void {
  if (file === '') return;
  const path = resolve(ctx.cwd, file);
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    ctx.problems.push(`${keyLabel(key)}: cannot read file "${path}": ${describeFsError(error)}`);
  }
}

function resolveConfig(raw: RawConfig, ctx: Context): Config {
  const { problems } = ctx;
  const { source, pipeline, kafka, opensearch } = raw;

  if (source.pollMinIntervalMs > source.pollMaxIntervalMs) {
    problems.push(
      `${keyLabel('source.pollMinIntervalMs')} (${source.pollMinIntervalMs}) must not exceed ${keyLabel('source.pollMaxIntervalMs')} (${source.pollMaxIntervalMs})`,
    );
  }
  if (pipeline.maxInFlightBatchesPerStream > pipeline.maxInFlightBatches) {
    problems.push(
      `${keyLabel('pipeline.maxInFlightBatchesPerStream')} (${pipeline.maxInFlightBatchesPerStream}) must not exceed ${keyLabel('pipeline.maxInFlightBatches')} (${pipeline.maxInFlightBatches})`,
    );
  }
  if (source.logGroupPrefixes.length === 0 && source.logGroups.length === 0) {
    problems.push(
      `${keyLabel('source.logGroupPrefixes')} and ${keyLabel('source.logGroups')} are both empty: nothing to read`,
    );
  }

  // Kafka TLS and SASL.
  const ssl = kafka.ssl;
  if (!ssl.enabled) {
    for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
      if (ssl[name] !== '') {
        problems.push(
          `${keyLabel(`kafka.ssl.${name}`)} is set but ${keyLabel('kafka.ssl.enabled')} is false; enable TLS or remove it`,
        );
      }
    }
  }
  if ((ssl.certFile === '') !== (ssl.keyFile === '')) {
    problems.push(
      `${keyLabel('kafka.ssl.certFile')} and ${keyLabel('kafka.ssl.keyFile')} go together: set both for mutual TLS, or neither`,
    );
  }
  checkReadable(ctx, 'kafka.ssl.caFile', ssl.caFile);
  checkReadable(ctx, 'kafka.ssl.certFile', ssl.certFile);
  checkReadable(ctx, 'kafka.ssl.keyFile', ssl.keyFile);

  const sasl = kafka.sasl;
  const saslPassword = readSecret(
    ctx,
    'kafka.sasl.password',
    sasl.password,
    'kafka.sasl.passwordFile',
    sasl.passwordFile,
  );
  if (sasl.mechanism === 'none') {
    if (sasl.username !== '' || sasl.password !== '' || sasl.passwordFile !== '') {
      problems.push(
        `${keyLabel('kafka.sasl.mechanism')} is "none" but SASL credentials are set; choose one of: plain, scram-sha-256, scram-sha-512`,
      );
    }
  } else {
    if (sasl.username === '') {
      problems.push(
        `${keyLabel('kafka.sasl.username')}: required when kafka.sasl.mechanism is "${sasl.mechanism}"`,
      );
    }
    if (sasl.password === '' && sasl.passwordFile === '') {
      problems.push(
        `${keyLabel('kafka.sasl.passwordFile')} (or ${keyLabel('kafka.sasl.password')}): required when kafka.sasl.mechanism is "${sasl.mechanism}"`,
      );
    }
  }

  // OpenSearch authentication and TLS.
  const osPassword = readSecret(
    ctx,
    'opensearch.password',
    opensearch.password,
    'opensearch.passwordFile',
    opensearch.passwordFile,
  );
  const hasPassword = opensearch.password !== '' || opensearch.passwordFile !== '';
  if (opensearch.username !== '' && !hasPassword) {
    problems.push(
      `${keyLabel('opensearch.passwordFile')} (or ${keyLabel('opensearch.password')}): required with opensearch.username`,
    );
  }
  if (opensearch.username === '' && hasPassword) {
    problems.push(`${keyLabel('opensearch.username')}: required with an OpenSearch password`);
  }
  if (opensearch.sigv4.enabled && (opensearch.username !== '' || hasPassword)) {
    problems.push(
      `${keyLabel('opensearch.sigv4.enabled')} is true and basic-auth credentials are set; use one authentication method`,
    );
  }
  const sigv4Region = optional(opensearch.sigv4.region) ?? optional(raw.aws.region);
  if (opensearch.sigv4.enabled && sigv4Region === null) {
    problems.push(
      `${keyLabel('opensearch.sigv4.region')}: SigV4 signing needs a region; set it or ${keyLabel('aws.region')}`,
    );
  }
  checkReadable(ctx, 'opensearch.tls.caFile', opensearch.tls.caFile);

  return {
    aws: {
      region: optional(raw.aws.region),
      endpoint: optional(raw.aws.endpoint),
      accountId: optional(raw.aws.accountId),
    },
    source: {
      ...source,
      rateLimits: { ...source.rateLimits },
    },
    pipeline: { ...pipeline },
    checkpoint: { dir: raw.checkpoint.dir },
    kafka: {
      enabled: kafka.brokers.length > 0,
      brokers: kafka.brokers,
      topic: kafka.topic,
      clientId: kafka.clientId,
      createTopic: kafka.createTopic,
      topicPartitions: kafka.topicPartitions,
      topicReplicationFactor: kafka.topicReplicationFactor,
      compression: kafka.compression,
      idempotent: kafka.idempotent,
      requestTimeoutMs: kafka.requestTimeoutMs,
      ssl: {
        enabled: ssl.enabled,
        caFile: optional(ssl.caFile),
        certFile: optional(ssl.certFile),
        keyFile: optional(ssl.keyFile),
        rejectUnauthorized: ssl.rejectUnauthorized,
      },
      sasl: {
        mechanism: sasl.mechanism,
        username: optional(sasl.username),
        password: saslPassword,
        passwordFile: optional(sasl.passwordFile),
      },
    },
    opensearch: {
      enabled: opensearch.url !== '',
      url: optional(opensearch.url),
      indexPrefix: opensearch.indexPrefix,
      username: optional(opensearch.username),
      password: osPassword,
      passwordFile: optional(opensearch.passwordFile),
      tls: {
        caFile: optional(opensearch.tls.caFile),
        rejectUnauthorized: opensearch.tls.rejectUnauthorized,
      },
      sigv4: {
        enabled: opensearch.sigv4.enabled,
        service: opensearch.sigv4.service,
        region: sigv4Region,
      },
      bulkMaxDocs: opensearch.bulkMaxDocs,
      compression: opensearch.compression,
      requestTimeoutMs: opensearch.requestTimeoutMs,
      lateIndex: opensearch.lateIndex,
    },
    deadLetter: { ...raw.deadLetter },
    enrichment: {
      ...raw.enrichment,
      endpoint: optional(raw.enrichment.endpoint) ?? optional(raw.aws.endpoint),
      region: optional(raw.aws.region) ?? 'us-east-1',
      labels: { ...raw.enrichment.labels },
    },
    http: { ...raw.http },
    log: { ...raw.log },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Formats for which an empty env string carries no value (lists and strings keep `''`). */
const BLANK_MEANS_UNSET = new Set([
  'fwd-integer',
  'fwd-number',
  'fwd-boolean',
  'fwd-enum',
  'fwd-start-position',
]);
const BLANK_UNSET_ENV = new Set(
  schemaKeys()
    .filter((key) => {
      const node = schemaNode(key.key.split('.'));
      return (
        isSchemaLeaf(node) && typeof node.format === 'string' && BLANK_MEANS_UNSET.has(node.format)
      );
    })
    .map((key) => key.env),
);

/**
 * Drops env variables set to an empty string for numbers, booleans and enumerations (a Helm
 * template rendering `""` for "not set"), so that the lower layers apply instead of an error.
 */
function withoutBlankScalars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (!(BLANK_UNSET_ENV.has(name) && value !== undefined && value.trim() === '')) {
      copy[name] = value;
    }
  }
  return copy;
}

/** Where each layer of the effective configuration came from (for `config validate`). */
export interface LoadedConfig {
  readonly config: Config;
  readonly files: readonly string[];
}

/** {@link loadConfig}, also reporting which files were read. */
export function loadConfigWithSources(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  try {
    const conf = convict(schema, { env: withoutBlankScalars(env), args: [] });
    const files: string[] = [];

    const defaultFile =
      options.defaultFile === undefined
        ? join(packageRoot(), 'config', 'default.json')
        : options.defaultFile;
    const layers: Array<{ path: string; what: string }> = [];
    if (defaultFile !== false && existsSync(defaultFile)) {
      layers.push({ path: defaultFile, what: 'default configuration file' });
    }
    const explicit = options.file ?? optional(env.CONFIG_FILE ?? '');
    if (explicit !== null) {
      layers.push({
        path: resolve(cwd, explicit),
        what: options.file === undefined ? 'CONFIG_FILE' : 'configuration file',
      });
    }
    for (const layer of layers) {
      const content = readJsonFile(layer.path, layer.what);
      const problems = checkFileShape(content, `${layer.what} "${layer.path}"`);
      if (problems.length > 0) throw configError(problems);
      conf.load(content);
      files.push(layer.path);
    }

    try {
      conf.validate({ allowed: 'strict' });
    } catch (error) {
      throw configError(convictProblems(error instanceof Error ? error.message : String(error)));
    }

    const problems: string[] = [];
    const config = resolveConfig(conf.getProperties(), { cwd, problems });
    if (problems.length > 0) throw configError(problems);
    return { config: deepFreeze(config), files };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Anything else (a convict internal error on odd input) is still a configuration problem.
    throw configError([error instanceof Error ? error.message : String(error)]);
  }
}

/** Loads and validates the configuration; throws `UsageError('FWD_ERR_CONFIG')` (exit 2). */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  return loadConfigWithSources(options).config;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = REDACTED;
    return parsed.toString();
  } catch {
    return url;
  }
}

const SECRET_NAME = /password$|secret|token|credential/i;

/**
 * A printable deep copy with every secret replaced by `"[redacted]"` (also any other key whose
 * name looks secret, and credentials embedded in URLs). Unset secrets stay `null`.
 */
export function redactConfig(config: Config): Config {
  const scrub = (value: unknown, name: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => scrub(item, ''));
    if (isPlainObject(value)) {
      const copy: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) copy[key] = scrub(child, key);
      return copy;
    }
    if (typeof value !== 'string') return value;
    if (SECRET_NAME.test(name) && !name.endsWith('File')) return REDACTED;
    if (name === 'url' || name === 'endpoint') return redactUrl(value);
    return value;
  };
  return scrub(config, '') as Config;
}
