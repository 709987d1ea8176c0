import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

import { environmentRegion } from '../../../src/config/environment.js';
import { packageRoot } from '../../../src/config/package-info.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('environment', () => {
  it('names the AWS_REGION of the environment, and none for an empty value', () => {
    assert.equal(environmentRegion({ AWS_REGION: 'eu-central-1' }), 'eu-central-1');
    assert.equal(environmentRegion({ AWS_REGION: '' }), undefined);
    assert.equal(environmentRegion({}), undefined);
  });

  // One place reads the environment, so every setting is validated, documented and shown by
  // `config show`; a stray process.env read elsewhere bypasses all three.
  it('is read only under src/config', () => {
    const src = join(packageRoot(), 'src');
    const readers = sourceFiles(src)
      .map((file) => relative(src, file))
      .filter((file) => !file.startsWith('config'))
      .filter((file) => readFileSync(join(src, file), 'utf8').includes('process.env'));
    assert.deepEqual(readers, []);
  });
});
