/**
 * The transform state of one stream as of the end of a batch. It travels with its batch to the
 * acknowledgement and is committed with the checkpoint that covers the batch (docs/architecture.md), so a
 * restart neither re-reports integrity findings nor forgets who is logged in.
 */
import type { ActorStreamState } from './actor-inference.js';
import type { StreamIntegrityState } from './integrity.js';
import type { RecentRecordsState } from './recent-records.js';

export interface SavedTransformState {
  readonly integrity?: StreamIntegrityState;
  readonly actor?: ActorStreamState;
  /** Records of a stream without sequence numbers delivered within the look-back window. */
  readonly recent?: RecentRecordsState;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntegrityState(value: unknown): value is StreamIntegrityState {
  return (
    isObject(value) &&
    typeof value['rebootCounter'] === 'string' &&
    typeof value['lastSequence'] === 'string' &&
    Array.isArray(value['recent'])
  );
}

function isActorState(value: unknown): value is ActorStreamState {
  return (
    isObject(value) &&
    typeof value['rebootCounter'] === 'string' &&
    typeof value['lastSequence'] === 'string' &&
    typeof value['complete'] === 'boolean' &&
    Array.isArray(value['logins'])
  );
}

/**
 * Reads persisted state leniently: a part of an unexpected shape is dropped, so that stream only
 * re-learns it (the trackers' `restore` checks the details and the pipeline logs what it
 * ignores). An unreadable transform state is never a reason to refuse to start.
 */
export function readSavedTransformState(value: unknown): SavedTransformState | null {
  if (!isObject(value)) return null;
  const integrity = value['integrity'];
  const actor = value['actor'];
  const recent = value['recent'];
  const state: SavedTransformState = {
    ...(isIntegrityState(integrity) ? { integrity } : {}),
    ...(isActorState(actor) ? { actor } : {}),
    ...(Array.isArray(recent) ? { recent: recent as RecentRecordsState } : {}),
  };
  return state.integrity === undefined && state.actor === undefined && state.recent === undefined
    ? null
    : state;
}
