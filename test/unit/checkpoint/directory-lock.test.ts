import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { LOCK_FILE, STALE_MS, lockDirectory } from '../../../src/checkpoint/directory-lock.js';
import { ForwarderError } from '../../../src/util/errors.js';

const root = mkdtempSync(join(tmpdir(), 'fwd-lock-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function freshDir(): string {
  const dir = join(root, `dir-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The pid of a process that has exited (its pid is free, as after a crash). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function writeLock(dir: string, holder: Record<string, unknown>, ageMs = 0): void {
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, `${JSON.stringify(holder)}\n`);
  const at = new Date(Date.now() - ageMs);
  utimesSync(path, at, at);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ForwarderError, String(error));
    assert.equal(error.code, 'FWD_ERR_LOCKED');
    return error.message;
  }
  assert.fail('expected the lock to be refused');
}

describe('lockDirectory', () => {
  it('refuses a second holder, naming the first, and is free again once released', async () => {
    const dir = freshDir();
    const first = await lockDirectory(dir, { command: 'run' });
    const message = await refusal(lockDirectory(dir, { command: 'backfill' }));
    assert.match(
      message,
      new RegExp(`in use by pid ${process.pid} on ${hostname()} \\(run, since `),
    );
    assert.match(message, /checkpoint\.dir/);
    await first.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const again = await lockDirectory(dir, { command: 'run' });
    await again.release();
  });

  it('takes over the lock of a process on this host that is gone', async () => {
    const dir = freshDir();
    const pid = deadPid();
    writeLock(dir, { pid, hostname: hostname(), command: 'run', startedAt: 'earlier' });
    const lock = await lockDirectory(dir, { command: 'run' });
    const holder = JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number };
    assert.equal(holder.pid, process.pid);
    await lock.release();
  });

  it('takes over a lock left by an earlier container with our own pid', async () => {
    const dir = freshDir();
    writeLock(dir, { pid: process.pid, hostname: hostname(), command: 'run', startedAt: 'x' });
    const lock = await lockDirectory(dir, { command: 'run' });
    await lock.release();
  });

  it('respects a live process on this host', async () => {
    const dir = freshDir();
    // The parent of this test runner is alive and is not us.
    writeLock(dir, { pid: process.ppid, hostname: hostname(), command: 'run', startedAt: 'x' });
    assert.match(await refusal(lockDirectory(dir, { command: 'run' })), /pid \d+ on /);
  });

  it('respects another host until the lock misses its heartbeat for STALE_MS', async () => {
    const dir = freshDir();
    const other = { pid: 1, hostname: 'forwarder-0.elsewhere', command: 'run', startedAt: 'x' };
    writeLock(dir, other, 5_000);
    assert.match(await refusal(lockDirectory(dir, { command: 'run' })), /forwarder-0\.elsewhere/);
    writeLock(dir, other, STALE_MS + 5_000);
    const lock = await lockDirectory(dir, { command: 'run' });
    await lock.release();
  });

  it('tells its holder when the lock was taken, and then leaves it alone', async () => {
    const dir = freshDir();
    let told: (holder: unknown) => void = () => undefined;
    const lost = new Promise((resolve) => (told = resolve));
    const lock = await lockDirectory(dir, { command: 'run', heartbeatMs: 20, onLost: told });
    // Another process judged it stale (a frozen holder) and took it.
    const thief = { pid: 4242, hostname: 'other-host', command: 'run', startedAt: 'x' };
    writeLock(dir, thief);
    assert.deepEqual(await lost, thief);
    await lock.release();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')), thief);
  });

  it('keeps a held lock fresh with its heartbeat', async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_FILE);
    const lock = await lockDirectory(dir, { command: 'run', heartbeatMs: 20 });
    const old = new Date(Date.now() - STALE_MS * 2);
    utimesSync(path, old, old);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const age = Date.now() - statSync(path).mtimeMs;
    assert.ok(age < STALE_MS, `lock is ${age} ms old`);
    await lock.release();
  });
});
