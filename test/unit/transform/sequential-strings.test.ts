// Every string of an event is sequential (or internalized): README "Performance" and
// src/util/flat-string.ts say why. V8 only tells with natives syntax, so the check runs in a
// child process started with --allow-natives-syntax (support/string-kinds-probe.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const probe = fileURLToPath(new URL('./support/string-kinds-probe.ts', import.meta.url));

describe('event strings', () => {
  it('holds no sliced or cons string, so JSON.stringify stays on its fast path', () => {
    const result = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', probe],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), []);
  });
});
