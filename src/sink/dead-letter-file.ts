/**
 * Reading the dead-letter file back, for `dead-letter list` and `dead-letter replay` (the topic:
 * dead-letter-topic.ts). The file
 * stays append-only (the running forwarder appends to it meanwhile, opening it per write): a
 * replay never rewrites it. What a replay delivered is recorded beside it, in `<file>.replayed`
 * (one entry key per line, fsynced per batch), and skipped by later lists and replays; an entry
 * refused again stays pending, and an interrupted replay is run again from where it stopped.
 */
import { open, readFile } from 'node:fs/promises';

import { ForwarderError } from '../util/errors.js';
import type { DeadLetterEntry } from './dead-letter.js';

/** One entry of the file, with the key that names it in the replay ledger. */
export interface StoredDeadLetter {
  readonly key: string;
  readonly entry: DeadLetterEntry;
}

export interface DeadLetterFile {
  readonly entries: readonly StoredDeadLetter[];
  /** Lines that are not an entry (kept in the file as they are, counted, never replayed). */
  readonly unreadable: number;
}

/** An entry's identity: one event can be dead-lettered more than once (by each sink, on replays). */
export function deadLetterKey(entry: DeadLetterEntry): string {
  return JSON.stringify([entry.time, entry.sink, entry.uid]);
}

export function replayLedgerPath(file: string): string {
  return `${file}.replayed`;
}

function isEntry(value: unknown): value is DeadLetterEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.time === 'string' &&
    (v.sink === 'kafka' || v.sink === 'opensearch') &&
    typeof v.kind === 'string' &&
    typeof v.uid === 'string' &&
    isReplayableEvent(v.event)
  );
}

/** What a replay needs of the event: its uid, time and class (the rest is sent as it is). */
function isReplayableEvent(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as { time?: unknown; class_uid?: unknown; metadata?: { uid?: unknown } };
  return (
    typeof event.time === 'number' &&
    typeof event.class_uid === 'number' &&
    typeof event.metadata?.uid === 'string'
  );
}

function readError(file: string, cause: unknown): ForwarderError {
  return new ForwarderError('FWD_ERR_SINK', `cannot read ${file}: ${String(cause)}`, { cause });
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw readError(file, error);
  }
}

/** Entries from their JSON texts (lines of the file, values of the topic's messages). */
export function parseDeadLetters(texts: Iterable<string>): DeadLetterFile {
  const entries: StoredDeadLetter[] = [];
  let unreadable = 0;
  for (const text of texts) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      unreadable += 1;
      continue;
    }
    if (isEntry(value)) entries.push({ key: deadLetterKey(value), entry: value });
    else unreadable += 1;
  }
  return { entries, unreadable };
}

/** Every entry of the file (none when it does not exist), and how many lines are not one. */
export async function readDeadLetterFile(file: string): Promise<DeadLetterFile> {
  return parseDeadLetters(((await readText(file)) ?? '').split('\n'));
}

/** Keys of the entries earlier replays delivered. */
export async function readReplayLedger(file: string): Promise<Set<string>> {
  const text = (await readText(replayLedgerPath(file))) ?? '';
  return new Set(text.split('\n').filter((line) => line !== ''));
}

/** Records delivered entries, durably, before the replay reports them delivered. */
export async function appendReplayLedger(file: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const path = replayLedgerPath(file);
  try {
    const handle = await open(path, 'a', 0o600);
    try {
      // A leading newline: a line cut short by a crash cannot swallow the first key.
      await handle.appendFile(`\n${keys.join('\n')}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new ForwarderError('FWD_ERR_SINK', `cannot write ${path}: ${String(error)}`, {
      cause: error,
    });
  }
}
