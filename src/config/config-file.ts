/** Reading configuration files: JSON, checked against the schema's shape before convict sees it. */
import { readFileSync } from 'node:fs';
import type convict from 'convict';
import { describeFsError, isPlainObject, keyLabel } from './problems.js';
import { isSchemaLeaf, schemaNode } from './schema.js';

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
  'fwd-rate': 'number',
};

/** The words a format takes in place of its JSON type (the rate's `auto`). */
const WORD_BY_FORMAT: Readonly<Record<string, string>> = {
  'fwd-rate': 'auto',
};

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/**
 * Settings of earlier versions: naming the way forward beats "unknown key" (in a file) or silence
 * (in the environment, which convict does not check).
 */
export const REMOVED_SETTINGS: Readonly<
  Record<string, { readonly env: string; readonly instead: string }>
> = {
  'source.pollMaxIntervalMs': {
    env: 'POLL_MAX_INTERVAL_MS',
    instead:
      'idle streams are now polled round-robin as often as source.rateLimits.getLogEvents allows (their longest wait is about streams / rate seconds). Remove it; to poll idle streams less often, raise source.pollMinIntervalMs (POLL_MIN_INTERVAL_MS) or lower the rate',
  },
};

/** Problems for removed settings still set in the environment. */
export function removedEnvironmentSettings(env: NodeJS.ProcessEnv): string[] {
  return Object.values(REMOVED_SETTINGS)
    .filter((setting) => env[setting.env] !== undefined)
    .map((setting) => `${setting.env} was removed: ${setting.instead}`);
}

/**
 * Names that are never configuration keys but that `JSON.parse` keeps as own keys. Looked up in
 * a plain object they find `Object.prototype` members (hence the old `"__proto__" was removed:
 * undefined`), and handed to a merge they are the prototype-pollution vector convict has had
 * advisories for; so they are refused by name and never passed on.
 */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function reservedProblem(source: string, key: string): string {
  return `${source}: "${key}" is not allowed: __proto__, constructor and prototype are reserved JavaScript names, never configuration keys; remove it`;
}

/** A configuration file split into what convict may load and what is wrong with the rest. */
export interface ScreenedFile {
  readonly problems: string[];
  /** Keys (or sections) given a value that was refused: cross-field checks must not judge them. */
  readonly unsettled: string[];
  /** The file without the refused parts; undefined when the file is not a JSON object. */
  readonly accepted: Record<string, unknown> | undefined;
}

/**
 * Structural check of a file against the schema before convict sees it: unknown keys, objects
 * where a single value belongs and scalars where a section belongs (convict's merge would crash
 * or silently accept those). Every problem of the file is reported, and the parts that passed are
 * kept so that the later stages can check them in the same run.
 */
export function screenFile(value: unknown, source: string): ScreenedFile {
  if (!isPlainObject(value)) {
    return {
      problems: [`${source}: must contain a JSON object`],
      unsettled: [],
      accepted: undefined,
    };
  }
  const problems: string[] = [];
  const unsettled: string[] = [];
  const refuse = (key: string, problem: string): void => {
    problems.push(problem);
    unsettled.push(key);
  };
  const walk = (object: Record<string, unknown>, path: string[]): Record<string, unknown> => {
    const accepted: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(object)) {
      const childPath = [...path, name];
      const key = childPath.join('.');
      if (RESERVED_NAMES.has(name)) {
        problems.push(reservedProblem(source, key));
        continue;
      }
      const node = schemaNode(childPath);
      // Own keys only: REMOVED_SETTINGS is a plain object.
      const removed = Object.hasOwn(REMOVED_SETTINGS, key) ? REMOVED_SETTINGS[key] : undefined;
      if (node === undefined && removed !== undefined) {
        problems.push(`${source}: "${key}" was removed: ${removed.instead}`);
      } else if (node === undefined) {
        const parent = path.length === 0 ? 'at the top level' : `under "${path.join('.')}"`;
        problems.push(
          `${source}: unknown key "${key}"; known keys ${parent}: ${sectionKeys(schemaNode(path)).join(', ')}`,
        );
      } else if (isSchemaLeaf(node)) {
        const problem = leafProblem(node, child, key, source);
        if (problem === null) accepted[name] = child;
        else refuse(key, problem);
      } else if (!isPlainObject(child)) {
        refuse(
          key,
          `${source}: "${key}" must be an object with keys: ${sectionKeys(node).join(', ')}`,
        );
      } else {
        accepted[name] = walk(child, childPath);
      }
    }
    return accepted;
  };
  const accepted = walk(value, []);
  return { problems, unsettled, accepted };
}

/** What is wrong with a file's value for one setting, judged by JSON type alone (or null). */
function leafProblem(
  node: convict.SchemaObj,
  child: unknown,
  key: string,
  source: string,
): string | null {
  if (node.format === 'fwd-labels') {
    if (!isPlainObject(child)) return null; // convict's format check words this one
    const reserved = Object.keys(child).find((label) => RESERVED_NAMES.has(label));
    if (reserved !== undefined) return reservedProblem(source, `${key}.${reserved}`);
    const bad = Object.keys(child).find((label) => typeof child[label] !== 'string');
    return bad === undefined
      ? null
      : `${source}: ${keyLabel(key)}: label "${bad}" must be a string`;
  }
  if (isPlainObject(child)) {
    return `${source}: ${keyLabel(key)}: is a single setting, not an object (${node.doc ?? ''})`;
  }
  const format = typeof node.format === 'string' ? node.format : '';
  const expected = JSON_TYPE_BY_FORMAT[format];
  const word = WORD_BY_FORMAT[format];
  if (expected === undefined || jsonType(child) === expected || child === word) return null;
  const shown = node.sensitive === true ? '' : `; got ${JSON.stringify(child)}`;
  const or = word === undefined ? '' : ` or "${word}"`;
  return `${source}: ${keyLabel(key)}: must be a JSON ${expected}${or}${shown}`;
}

/** A file's parsed JSON, or the one problem that keeps it from being read. */
export type JsonLayer = { readonly value: unknown } | { readonly problem: string };

export function readJsonLayer(path: string, what: string): JsonLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problem: `${what} "${path}" cannot be read: ${describeFsError(error)}` };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { problem: `${what} "${path}" is not valid JSON: ${detail}` };
  }
}

/** Convict's validation errors in our wording, with the keys they are about. */
export interface ConvictProblems {
  readonly problems: string[];
  readonly keys: string[];
}

/** Rewrites convict's `key: message: value was X` lines into our wording. */
export function convictProblems(message: string): ConvictProblems {
  const problems: string[] = [];
  const keys: string[] = [];
  for (const line of message.split('\n')) {
    if (line.trim() === '') continue;
    const undeclared = /^configuration param '([^']+)' not declared in the schema$/.exec(line);
    if (undeclared !== null) {
      problems.push(`unknown key "${undeclared[1] ?? ''}"`);
      continue;
    }
    const match = /^([A-Za-z0-9_.]+): (.*)$/s.exec(line);
    if (match === null) {
      problems.push(line);
      continue;
    }
    const key = match[1] ?? '';
    const rest = (match[2] ?? '').replace(/: value was (.*)$/s, '; got $1');
    problems.push(`${keyLabel(key)}: ${rest}`);
    keys.push(key);
  }
  return { problems, keys };
}
