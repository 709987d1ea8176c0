/**
 * One writer per checkpoint (or backfill state) directory. Two forwarders on one directory both
 * read every stream, publish everything twice and overwrite each other's checkpoints; so `run`
 * and `backfill` hold `<dir>/.lock` while they work, and a second process is refused, naming
 * the holder.
 *
 * The lock is a file created with O_EXCL holding who took it; the holder touches it every
 * {@link HEARTBEAT_MS}. A lock is stale, and is taken over, when its holder cannot still be
 * running: on this host, its pid is gone (or is our own pid: a previous container of this pod,
 * where the process had the same pid); on any host, it was not touched for {@link STALE_MS}.
 * Only one process may take a stale lock over: the takeover itself goes through a second O_EXCL
 * file, and the winner deletes the stale lock only if it still holds what was judged stale.
 */
import { hostname } from 'node:os';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import { ForwarderError } from '../util/errors.js';

export const LOCK_FILE = '.lock';
const TAKEOVER_FILE = '.lock.takeover';
/** How often the holder touches its lock. */
export const HEARTBEAT_MS = 10_000;
/** A lock untouched for this long has no live holder, wherever it ran. */
export const STALE_MS = 60_000;

/** Locks this process holds: a lock with our pid that is not among them is an earlier container's. */
const heldHere = new Set<string>();

/** Who holds a lock: written into the lock file, shown to the process that is refused. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly command: string;
  readonly startedAt: string;
}

export interface DirectoryLock {
  readonly path: string;
  /** Stops the heartbeat and deletes the lock if it is still ours. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** What the holder is doing (`run`, `backfill`): shown to a refused process. */
  readonly command: string;
  /** Called once if the heartbeat finds the lock taken by someone else (the holder must stop). */
  readonly onLost?: (holder: LockHolder | undefined) => void;
  /** For tests: the clock, the liveness probe and the heartbeat interval. */
  readonly now?: () => number;
  readonly isAlive?: (pid: number) => boolean;
  readonly heartbeatMs?: number;
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/** Signal 0 probes a pid without touching it; EPERM means it exists under another user. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.pid === 'number' &&
      typeof value.hostname === 'string' &&
      typeof value.command === 'string' &&
      typeof value.startedAt === 'string'
    ) {
      return value as LockHolder;
    }
  } catch {
    // A lock being written right now is empty for a moment: judged by its age below.
  }
  return undefined;
}

interface Observed {
  readonly text: string;
  readonly holder: LockHolder | undefined;
  readonly ageMs: number;
}

async function observe(path: string, now: number): Promise<Observed | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, holder: parseHolder(text), ageMs: now - info.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw lockIoError(`cannot read lock ${path}`, error);
  }
}

function describe(holder: LockHolder | undefined): string {
  return holder === undefined
    ? 'a process that is still writing the lock'
    : `pid ${holder.pid} on ${holder.hostname} (${holder.command}, since ${holder.startedAt})`;
}

function lockedError(dir: string, observed: Observed): ForwarderError {
  return new ForwarderError(
    'FWD_ERR_LOCKED',
    `${dir} is in use by ${describe(observed.holder)}: one forwarder per checkpoint directory ` +
      "(two would publish every record twice and overwrite each other's checkpoints). Stop that " +
      `process, or give this one its own directory (checkpoint.dir / --state-dir). A lock whose ` +
      `holder is gone is taken over by itself: on the same host at once, elsewhere after ` +
      `${STALE_MS / 1000} s without a heartbeat.`,
  );
}

function lockIoError(message: string, cause: unknown): ForwarderError {
  return new ForwarderError('FWD_ERR_CHECKPOINT_IO', `${message}: ${String(cause)}`, { cause });
}

/** Takes the lock of `dir` (which must exist), or throws `FWD_ERR_LOCKED` naming the holder. */
export async function lockDirectory(dir: string, options: LockOptions): Promise<DirectoryLock> {
  const now = options.now ?? Date.now;
  const isAlive = options.isAlive ?? processAlive;
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    command: options.command,
    startedAt: new Date(now()).toISOString(),
  };
  const mine = `${JSON.stringify(me)}\n`;

  const stale = (observed: Observed): boolean => {
    if (observed.ageMs > STALE_MS) return true;
    const holder = observed.holder;
    if (holder === undefined || holder.hostname !== me.hostname) return false;
    if (holder.pid === me.pid) return !heldHere.has(path);
    return !isAlive(holder.pid);
  };

  // Three rounds cover: a stale lock taken over, then a race lost to a live process.
  for (let round = 0; round < 3; round += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(mine, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      heldHere.add(path);
      return holdLock(path, mine, options, now);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw lockIoError(`cannot create lock ${path}`, error);
    }
    const observed = await observe(path, now());
    if (observed === undefined) continue; // released meanwhile
    if (!stale(observed)) throw lockedError(dir, observed);
    await takeOver(dir, path, observed, now);
  }
  const observed = await observe(path, now());
  throw lockedError(dir, observed ?? { text: '', holder: undefined, ageMs: 0 });
}

/** Deletes a stale lock, unless another process is doing so or the lock changed meanwhile. */
async function takeOver(dir: string, path: string, judged: Observed, now: () => number) {
  const takeover = join(dir, TAKEOVER_FILE);
  try {
    await (await open(takeover, 'wx', 0o600)).close();
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw lockIoError(`cannot create ${takeover}`, error);
    // A takeover left by a process that died in the middle of one is itself stale.
    const other = await observe(takeover, now());
    if (other !== undefined && other.ageMs > STALE_MS) await unlink(takeover).catch(() => {});
    return;
  }
  try {
    const current = await observe(path, now());
    if (current !== undefined && current.text === judged.text) await unlink(path);
  } finally {
    await unlink(takeover).catch(() => {});
  }
}

function holdLock(
  path: string,
  mine: string,
  options: LockOptions,
  now: () => number,
): DirectoryLock {
  let lost = false;
  const beat = async (): Promise<void> => {
    const observed = await observe(path, now()).catch(() => undefined);
    if (observed?.text !== mine) {
      if (!lost) {
        lost = true;
        heldHere.delete(path);
        clearInterval(timer);
        options.onLost?.(observed?.holder);
      }
      return;
    }
    const at = new Date(now());
    await utimes(path, at, at).catch(() => {});
  };
  const timer = setInterval(() => void beat(), options.heartbeatMs ?? HEARTBEAT_MS);
  timer.unref();
  return {
    path,
    async release() {
      clearInterval(timer);
      heldHere.delete(path);
      if (lost) return;
      const observed = await observe(path, now()).catch(() => undefined);
      if (observed?.text === mine) await unlink(path).catch(() => {});
    },
  };
}
