/**
 * Locates the package root at run time. The code runs from `src/` (tsx) and from `dist/src/`
 * (compiled), so relative URLs would differ: walk up to the nearest package.json instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'cloudhsm-audit-forwarder';

let cached: { root: string; version: string } | undefined;

function find(): { root: string; version: string } {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  let fallback: { root: string; version: string } | undefined;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
          name?: unknown;
          version?: unknown;
        };
        const found = {
          root: dir,
          version: typeof manifest.version === 'string' ? manifest.version : '0.0.0',
        };
        if (manifest.name === PACKAGE_NAME) {
          cached = found;
          return found;
        }
        fallback ??= found;
      } catch {
        // An unreadable manifest on the way up is not ours: keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  cached = fallback ?? { root: process.cwd(), version: '0.0.0' };
  return cached;
}

/** Absolute path of the directory holding the forwarder's package.json. */
export function packageRoot(): string {
  return find().root;
}

/** The forwarder's version from package.json. */
export function packageVersion(): string {
  return find().version;
}
