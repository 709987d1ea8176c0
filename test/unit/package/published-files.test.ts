/**
 * What `npm pack` publishes: the built product and its configuration (the fleet simulator too:
 * the `simulate` command of the quick start runs it), not the sources of the tests. Needs `npm run build` first, as the
 * unit tests always run after it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { REPO_ROOT } from '../chart/chart-tools.js';

describe('published package', () => {
  it('holds the CLI, the simulate command and the default configuration, and no tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
    const paths = pack.files.map((f) => f.path);
    assert.ok(paths.includes('dist/src/cli.js'), 'the built CLI is published');
    assert.ok(paths.includes('config/default.json'));
    assert.ok(paths.includes('dist/src/simulator/fleet.js'), 'simulate needs the simulator');
    assert.deepEqual(
      paths.filter((p) => /(^|\/)test\//.test(p)),
      [],
      'no tests in the package',
    );
  });
});
