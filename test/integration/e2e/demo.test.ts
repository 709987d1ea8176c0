/**
 * The demo's failure paths: it must never hang. With OpenSearch stopped in the middle of a run it
 * exits non-zero within 30 s, saying why, and its forwarder is gone; on Ctrl-C (SIGINT) likewise.
 * (`npm test` also runs `npm run demo` itself, end to end, as a step of its own.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { sleep, waitFor } from '../support/forwarder-process.js';
import { stackEnv } from '../support/stack-env.js';

stackEnv(); // fails loudly without the stack's settings
const REPO = join(import.meta.dirname, '../../..');
const STACK = join(REPO, 'test/stack/stack.sh');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startDemo() {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'tools/demo.ts')], {
    cwd: REPO,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, exited, output: () => output };
}

function forwarderPid(): number {
  return Number(readFileSync(join(REPO, '.demo/forwarder.pid'), 'utf8').trim());
}

after(() => {
  // Whatever happened, the shared stack's OpenSearch is back for the tests after this one.
  spawnSync('bash', [STACK, 'up', 'opensearch'], { stdio: 'inherit' });
});

describe('the demo cannot hang', { timeout: 300_000 }, () => {
  it('exits non-zero within 30 s when OpenSearch stops mid-run, leaving no process', async () => {
    const demo = startDemo();
    await waitFor(
      'the demo to wait for documents',
      () => Promise.resolve(/delivered to OpenSearch: [1-9]/.test(demo.output())),
      120_000,
      200,
    );
    const pid = forwarderPid();
    const down = spawnSync('bash', [STACK, 'down', 'opensearch'], { encoding: 'utf8' });
    assert.equal(down.status, 0, down.stderr);
    const stopped = Date.now();
    const { code, at } = await demo.exited;
    const seconds = (at - stopped) / 1000;
    console.log(`demo exited ${code} ${seconds.toFixed(1)} s after OpenSearch stopped`);
    assert.notEqual(code, 0, demo.output());
    assert.ok(seconds <= 30, `exited after ${seconds} s`);
    assert.match(demo.output(), /demo failed: OpenSearch at .* has not answered/);
    assert.equal(alive(pid), false, `the demo's forwarder (pid ${pid}) is still running`);
    const up = spawnSync('bash', [STACK, 'up', 'opensearch'], { encoding: 'utf8' });
    assert.equal(up.status, 0, up.stderr);
  });

  it('stops its forwarder and exits non-zero within seconds on Ctrl-C', async () => {
    const demo = startDemo();
    await waitFor(
      'the demo to start its forwarder',
      () => Promise.resolve(/running the forwarder/.test(demo.output())),
      120_000,
      200,
    );
    await sleep(1000);
    const pid = forwarderPid();
    const sent = Date.now();
    demo.child.kill('SIGINT');
    const { code, at } = await demo.exited;
    const seconds = (at - sent) / 1000;
    console.log(`demo exited ${code} ${seconds.toFixed(1)} s after SIGINT`);
    assert.notEqual(code, 0, demo.output());
    assert.ok(seconds <= 15, `exited after ${seconds} s`);
    assert.match(demo.output(), /demo failed: interrupted \(SIGINT\)/);
    assert.equal(alive(pid), false, `the demo's forwarder (pid ${pid}) is still running`);
  });
});
