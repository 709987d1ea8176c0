/** How configuration problems are worded: each names the key, its env variable and the fix. */
import { UsageError } from '../util/errors.js';
import { schemaKeys } from './schema.js';

const ENV_BY_KEY = new Map(schemaKeys().map((k) => [k.key, k.env]));

export function keyLabel(key: string): string {
  const env = ENV_BY_KEY.get(key);
  return env === undefined || env === '' ? key : `${key} (env ${env})`;
}

export function configError(problems: readonly string[]): UsageError {
  const message =
    problems.length === 1
      ? `invalid configuration: ${problems[0] ?? ''}`
      : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
  return new UsageError(message, 'FWD_ERR_CONFIG');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeFsError(error: unknown): string {
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
