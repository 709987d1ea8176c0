/**
 * What `npm pack` publishes: the built product and its configuration, not the fleet simulator
 * (a test and demo tool) and not the sources of the tests. Needs `npm run build` first, as the
 * unit tests always run after it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { REPO_ROOT } from '../chart/chart-tools.js';

describe('published package', () => {
  it('holds the CLI and the default configuration, and no simulator or tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
    const paths = pack.files.map((f) => f.path);
    assert.ok(paths.includes('dist/src/cli.js'), 'the built CLI is published');
    assert.ok(paths.includes('config/default.json'));
    assert.deepEqual(
      paths.filter((p) => /simulator|(^|\/)test\//.test(p)),
      [],
      'no simulator and no tests in the package',
    );
  });
});
