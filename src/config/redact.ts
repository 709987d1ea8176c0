/** A printable copy of the configuration with every secret replaced. */
import type { Config } from './config.js';
import { isPlainObject } from './problems.js';

export const REDACTED = '[redacted]';

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
