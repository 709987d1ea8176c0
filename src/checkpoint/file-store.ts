import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import type { StreamRef } from '../util/identity.js';
import { ForwarderError } from '../util/errors.js';
import {
  corruptCheckpointError,
  validateCheckpointRecord,
  type CheckpointRecord,
  type CheckpointScope,
  type CheckpointStore,
} from './checkpoint-store.js';

const SUFFIX = '.json';
/** Temp files start with a dot so that they can never be mistaken for a checkpoint. */
const TEMP_PREFIX = '.tmp-';

/**
 * File name for a stream (the same for version 1 and 2 records, so files written before issue 14
 * are found where they are and rewritten as version 2 by the stream's next commit). The scope is
 * not part of the name while a store holds one account and region; the record carries it.
 *
 * File name for a stream: a readable, sanitised prefix plus a hash of the exact names. Log group
 * and stream names may be 512 characters each and contain `/`, `#`, `:`; the hash keeps the name
 * unique and under the 255-byte limit of common file systems.
 */
export function checkpointFileName(stream: StreamRef): string {
  const readable = `${stream.logGroup}__${stream.logStream}`
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 150);
  const digest = createHash('sha256')
    .update(stream.logGroup, 'utf8')
    .update('\0')
    .update(stream.logStream, 'utf8')
    .digest('hex')
    .slice(0, 16);
  return `${readable}-${digest}${SUFFIX}`;
}

function isCheckpointFile(name: string): boolean {
  return name.endsWith(SUFFIX) && !name.startsWith('.');
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * The embedded checkpoint store: one JSON file per stream in `dir`. Writes are atomic (temp file,
 * fsync, rename, fsync of the directory), so a crash at any instant leaves the previous or the new
 * checkpoint, never a torn one.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly dir: string;
  readonly scope: CheckpointScope;

  constructor(options: { dir: string; scope: CheckpointScope }) {
    this.dir = options.dir;
    this.scope = options.scope;
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      // A crash between creating and renaming a temp file leaves it behind; it never held the
      // only copy of anything (the rename is the commit), so it is safe to delete.
      for (const name of await readdir(this.dir)) {
        if (name.startsWith(TEMP_PREFIX)) await unlink(join(this.dir, name)).catch(() => {});
      }
    } catch (error) {
      throw ioError(`cannot prepare checkpoint directory ${this.dir}`, error);
    }
  }

  async load(stream: StreamRef): Promise<CheckpointRecord | undefined> {
    const record = await this.readFile(join(this.dir, checkpointFileName(stream)));
    if (
      record !== undefined &&
      (record.logGroup !== stream.logGroup || record.logStream !== stream.logStream)
    ) {
      throw corruptCheckpointError(
        join(this.dir, checkpointFileName(stream)),
        `it belongs to ${record.logGroup}/${record.logStream}`,
      );
    }
    return record;
  }

  async loadAll(): Promise<CheckpointRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw ioError(`cannot list checkpoint directory ${this.dir}`, error);
    }
    const records: CheckpointRecord[] = [];
    for (const name of names.filter(isCheckpointFile).sort()) {
      const record = await this.readFile(join(this.dir, name));
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  async save(record: CheckpointRecord): Promise<void> {
    const target = join(this.dir, checkpointFileName(record));
    const temp = join(
      this.dir,
      `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-${checkpointFileName(record)}`,
    );
    const body = `${JSON.stringify(record, null, 2)}\n`;
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(body, 'utf8');
        // Data must be on disk before the rename makes it visible, or a power loss could
        // expose an empty file under the final name.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
      await this.syncDir();
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw ioError(`cannot write checkpoint ${target}`, error);
    }
  }

  async reset(streams?: readonly StreamRef[]): Promise<number> {
    return resetCheckpoints(this.dir, streams);
  }

  private async readFile(path: string): Promise<CheckpointRecord | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw corruptCheckpointError(
        path,
        `read failed: ${errnoCode(error) ?? String(error)}`,
        error,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw corruptCheckpointError(path, 'invalid JSON', error);
    }
    try {
      return validateCheckpointRecord(parsed, this.scope);
    } catch (error) {
      throw corruptCheckpointError(path, (error as Error).message, error);
    }
  }

  /** Makes the rename itself durable (the directory entry lives in the directory's data). */
  private async syncDir(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/**
 * Deletes checkpoints (the `--reset-checkpoints` option): only the named streams, or every
 * checkpoint in `dir` when `streams` is omitted. Also removes leftover temp files. Works on
 * corrupt files too, which is the point. Returns the number of checkpoints removed.
 */
export async function resetCheckpoints(
  dir: string,
  streams?: readonly StreamRef[],
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw ioError(`cannot list checkpoint directory ${dir}`, error);
  }
  const wanted =
    streams === undefined ? undefined : new Set(streams.map((s) => checkpointFileName(s)));
  let removed = 0;
  for (const name of names) {
    const temp = name.startsWith(TEMP_PREFIX);
    if (!temp && !isCheckpointFile(name)) continue;
    if (!temp && wanted !== undefined && !wanted.has(name)) continue;
    if (temp && wanted !== undefined) continue;
    try {
      await unlink(join(dir, name));
      if (!temp) removed += 1;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw ioError(`cannot delete ${join(dir, name)}`, error);
    }
  }
  return removed;
}

function ioError(message: string, cause: unknown): ForwarderError {
  return new ForwarderError('FWD_ERR_CHECKPOINT_IO', `${message}: ${String(cause)}`, {
    cause,
    retryable: true,
  });
}
