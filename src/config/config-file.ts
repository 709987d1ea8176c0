/** Reading configuration files: JSON, checked against the schema's shape before convict sees it. */
import { readFileSync } from 'node:fs';
import { configError, describeFsError, isPlainObject, keyLabel } from './problems.js';
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
 * Structural check of a file against the schema before convict sees it: unknown keys, objects
 * where a single value belongs and scalars where a section belongs (convict's merge would crash
 * or silently accept those).
 */
export function checkFileShape(value: unknown, source: string): string[] {
  if (!isPlainObject(value)) return [`${source}: must contain a JSON object`];
  const problems: string[] = [];
  const walk = (object: Record<string, unknown>, path: string[]): void => {
    for (const [name, child] of Object.entries(object)) {
      const childPath = [...path, name];
      const key = childPath.join('.');
      const node = schemaNode(childPath);
      const removed = REMOVED_SETTINGS[key];
      if (node === undefined && removed !== undefined) {
        problems.push(`${source}: "${key}" was removed: ${removed.instead}`);
        continue;
      }
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
          const format = typeof node.format === 'string' ? node.format : '';
          const expected = JSON_TYPE_BY_FORMAT[format];
          const word = WORD_BY_FORMAT[format];
          if (expected !== undefined && jsonType(child) !== expected && child !== word) {
            const shown = node.sensitive === true ? '' : `; got ${JSON.stringify(child)}`;
            const or = word === undefined ? '' : ` or "${word}"`;
            problems.push(`${source}: ${keyLabel(key)}: must be a JSON ${expected}${or}${shown}`);
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

export function readJsonFile(path: string, what: string): unknown {
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

/** Rewrites convict's `key: message: value was X` lines into our wording. */
export function convictProblems(message: string): string[] {
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
