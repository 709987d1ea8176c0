/**
 * Loads, validates and resolves the configuration (config/README.md).
 *
 * Sources, lowest to highest precedence: schema defaults, `config/default.json` of the package,
 * the file named by `CONFIG_FILE` (or an explicit path), environment variables. Every problem is
 * reported as one `UsageError` (`FWD_ERR_CONFIG`, exit 2) that lists each offending key with its
 * env name, the bad value (never for secrets) and what is accepted.
 */ import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import convict from 'convict';
import { UsageError } from '../util/errors.js';
import type { Config } from './config.js';
import {
  convictProblems,
  readJsonLayer,
  removedEnvironmentSettings,
  screenFile,
} from './config-file.js';
import { packageRoot } from './package-info.js';
import { configError } from './problems.js';
import { optional, resolveConfig } from './resolve.js';
import { isSchemaLeaf, schema, schemaKeys, schemaNode } from './schema.js';
import type { RawConfig } from './schema.js';

export interface LoadConfigOptions {
  /** Environment to read (default `process.env`); also where `CONFIG_FILE` is looked up. */
  readonly env?: NodeJS.ProcessEnv;
  /** Configuration file to load instead of the one named by `CONFIG_FILE`. */
  readonly file?: string;
  /** Replaces the package's `config/default.json`; `false` skips it. */
  readonly defaultFile?: string | false;
  /** Base of relative paths (`CONFIG_FILE`, `*File` secrets). Default: `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Also make the check `run` makes at start-up: at least one sink enabled. Set by `run`, a
   * backfill that writes, and `config validate`, so validation answers what `run` would.
   */
  readonly requireSink?: boolean;
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
  'fwd-rate',
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
    // Every stage runs whatever the earlier ones found, so that one run reports every problem;
    // a value a stage refused is left at its default and named `unsettled`, so that the
    // cross-field checks do not judge the default in its place.
    const problems = removedEnvironmentSettings(env);
    const unsettled: string[] = [];
    // What a file that cannot be read sets is unknown: the cross-field checks wait for it
    // (otherwise "no sink is enabled" would be a guess).
    const unknown = Object.keys(schema);
    for (const layer of layers) {
      const read = readJsonLayer(layer.path, layer.what);
      if ('problem' in read) {
        problems.push(read.problem);
        unsettled.push(...unknown);
        continue;
      }
      const screened = screenFile(read.value, `${layer.what} "${layer.path}"`);
      problems.push(...screened.problems);
      unsettled.push(...screened.unsettled);
      if (screened.accepted === undefined) {
        unsettled.push(...unknown);
        continue;
      }
      conf.load(screened.accepted);
      files.push(layer.path);
    }

    try {
      conf.validate({ allowed: 'strict' });
    } catch (error) {
      const refused = convictProblems(error instanceof Error ? error.message : String(error));
      problems.push(...refused.problems);
      unsettled.push(...refused.keys);
      // The keys come from convict's own messages about this schema, so they are its paths.
      for (const key of refused.keys) conf.reset(key as convict.Path<RawConfig>);
    }

    const config = resolveConfig(conf.getProperties(), {
      cwd,
      problems,
      unsettled,
      requireSink: options.requireSink === true,
    });
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
