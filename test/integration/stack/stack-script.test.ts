/**
 * The stack script's contract: `up` is idempotent and restarts only what is not running, and
 * `status` tells what runs where. (Run last among the integration tests: it kills OpenSearch.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const STACK = join(import.meta.dirname, '../../stack/stack.sh');

function stack(...args: string[]): string {
  const result = spawnSync('bash', [STACK, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, `stack ${args.join(' ')}:\n${result.stderr}`);
  return result.stdout;
}

function pids(status: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of status.matchAll(/^(\w+)\s+running\s+pid (\d+)\s+healthy=yes/gm)) {
    out[match[1] ?? ''] = match[2] ?? '';
  }
  return out;
}

describe('test/stack/stack.sh', { timeout: 240_000 }, () => {
  it('restarts only OpenSearch after it was killed by hand', () => {
    const before = pids(stack('status'));
    assert.deepEqual(Object.keys(before).sort(), ['kafka', 'moto', 'opensearch']);
    process.kill(Number(before.opensearch), 'SIGKILL');
    assert.match(stack('status'), /^opensearch\s+stopped/m);

    const after = pids(stack('up'));
    assert.equal(after.moto, before.moto, 'moto untouched');
    assert.equal(after.kafka, before.kafka, 'kafka untouched');
    assert.notEqual(after.opensearch, before.opensearch, 'a new OpenSearch process');
    assert.ok(readFileSync(`/proc/${after.opensearch}/cmdline`, 'utf8').includes('opensearch'));
    // Up again with everything healthy: nothing to do.
    assert.deepEqual(pids(stack('up')), after);
  });
});
