/**
 * The README's quick start, run as pasted: the block after the `quick-start` marker goes to bash
 * line by line, on a stack of its own (other ports, its own state directory: a fresh stack, an
 * empty broker, an empty emulator), from this clone. It must reach the query and the stop with
 * exit 0, find the 400 simulated records in OpenSearch, and leave no process behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const REPO = join(import.meta.dirname, '../../..');
const MARKER = '<!-- quick-start:';

export function quickStartBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, `README.md has no ${MARKER} marker`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block?.[1] !== undefined, 'a sh block follows the marker');
  return block[1];
}

describe('README quick start', { timeout: 600_000 }, () => {
  it('works as pasted on a fresh stack of its own', () => {
    const block = quickStartBlock(readFileSync(join(REPO, 'README.md'), 'utf8'));
    const work = mkdtempSync(join(tmpdir(), 'quick-start-'));
    // As root the stack runs OpenSearch as its own system user, which must reach the state dir.
    chmodSync(work, 0o755);
    const script = `set -euo pipefail\ncd ${JSON.stringify(REPO)}\n${block}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A stack of its own: nothing of the shared one is seen or stopped.
    for (const name of Object.keys(env)) {
      if (/^(AWS_|KAFKA_|OPENSEARCH_|STACK_)/.test(name)) delete env[name];
    }
    Object.assign(env, {
      STACK_STATE_DIR: join(work, 'stack'),
      STACK_MOTO_PORT: '14599',
      STACK_KAFKA_PORT: '19392',
      STACK_OPENSEARCH_PORT: '19250',
      ...(process.env.STACK_CACHE_DIR === undefined
        ? {}
        : { STACK_CACHE_DIR: process.env.STACK_CACHE_DIR }),
    });
    const started = Date.now();
    const result = spawnSync('bash', ['-c', script], { env, encoding: 'utf8', timeout: 540_000 });
    const stopped = spawnSync('bash', [join(REPO, 'test/stack/stack.sh'), 'status'], {
      env,
      encoding: 'utf8',
    });
    // Whatever the block did, its stack does not outlive the test.
    spawnSync('bash', [join(REPO, 'test/stack/stack.sh'), 'down'], { env, encoding: 'utf8' });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const output = `${result.stdout}\n${result.stderr}`;
    console.log(`quick start ran in ${seconds} s`);
    assert.equal(result.status, 0, output.slice(-4000));
    assert.match(result.stdout, /wrote 400 audit records to 2 log streams/);
    assert.match(result.stdout, /"failed_by_user"/, 'the query answered');
    const log = readFileSync(join(REPO, 'forwarder.log'), 'utf8');
    assert.match(log, /"msg":"stopped"/, 'the forwarder stopped cleanly');
    // The block's own last line stopped its stack: no service of it was still running.
    assert.doesNotMatch(stopped.stdout, /running/, stopped.stdout);
  });
});
