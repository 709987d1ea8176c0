/**
 * Actor inference for user-management and key events (docs/enrichment.md, section 4;
 * docs/cloudhsm-audit-records.md, Who did it). The HSM does not log who created/deleted a user or
 * generated a key; AWS's advice is to read the CN_LOGIN/CN_LOGOUT events around it in the same
 * stream. This class keeps that per-stream login state and sets `actor.user` only when the
 * answer is unambiguous, marking it with the label `actor:inferred`.
 *
 * Rules (per HSM stream and reboot epoch, events observed in stream order):
 * - A successful `CN_LOGIN` with a user name adds that user (name, type, session handle) to the
 *   active logins; a newer login of the same user replaces the older one.
 * - `CN_LOGOUT` (successful), `CN_APP_FINALIZE` and `CN_CLOSE_SESSION` remove the user they name;
 *   when they name no user, the one whose login session handle matches is removed, and when
 *   nothing matches every login is forgotten (we cannot tell whose session ended).
 * - An Account Change (3001) or Entity Management (3004) event without an `actor.user` gets the
 *   active user only when exactly one distinct user is active. Two or more overlapping logins →
 *   no inference (a session handle match is not used as a tie-breaker: the AWS examples show
 *   commands and logouts under handles other than the login's).
 * - The state must be complete: the epoch was observed from sequence 0x0 (or restored from such
 *   a state). Starting mid-stream, a sequence gap, a new reboot counter not starting at 0x0 or a
 *   restored incomplete state all mean earlier logins may be unknown → no inference, unless
 *   `trustPartialHistory` is set. Duplicates and out-of-order records change nothing and are not
 *   inferred.
 * - Known limitation: CN_LOGIN is replicated to every HSM stream of the cluster while CN_LOGOUT
 *   is not, so logins from other HSMs linger; that can only suppress inference (more users
 *   active), never make it wrong for a single user, unless the user who acted logged in before
 *   the state became complete, which the completeness rule excludes.
 *
 * Pure apart from its own state (no I/O, no clock); `snapshot`/`restore` give plain JSON for the
 * checkpoint, keyed like the integrity tracker (`<log group>:<log stream>`).
 */
import type { CloudHsmUnmapped, OcsfEvent, OcsfUser } from './ocsf-event.js';
import { withLabels } from './enrich.js';
import type { HsmRecord, ParsedRecord } from './parsed-record.js';
import { hexCounter } from '../util/identity.js';

/** Label marking an inferred `actor.user`. */
export const ACTOR_INFERRED = 'actor:inferred';

const CLEARING_OPCODES = new Set(['CN_LOGOUT', 'CN_APP_FINALIZE', 'CN_CLOSE_SESSION']);
const INFERRED_CLASSES = new Set([3001, 3004]);

/** One active login in a checkpointed state. */
export interface ActiveLoginState {
  name: string;
  typeId?: number;
  type?: string;
  /** Session handle of the CN_LOGIN, as printed. */
  session?: string;
  /** Sequence of the CN_LOGIN (`0x…`). */
  sequence: string;
}

/** Checkpointable per-stream state: plain JSON. */
export interface ActorStreamState {
  rebootCounter: string;
  lastSequence: string;
  /** True when every record of this epoch since 0x0 was observed. */
  complete: boolean;
  logins: ActiveLoginState[];
}

export interface ActorInferenceOptions {
  /**
   * Infer even when the epoch was not observed from sequence 0x0 (e.g. first start in the middle
   * of a stream). Less sound: a user who logged in earlier is unknown. @default false
   */
  readonly trustPartialHistory?: boolean;
}

interface Login {
  user: OcsfUser & { name: string };
  session: string | undefined;
  sequence: bigint;
}

interface StreamState {
  reboot: bigint;
  last: bigint;
  complete: boolean;
  /** Keyed by user name + type. */
  logins: Map<string, Login>;
}

function parseHexOrThrow(text: string): bigint {
  if (!/^0x[0-9a-f]+$/i.test(text)) throw new TypeError(`invalid hex counter in state: ${text}`);
  return BigInt(text);
}

/** The inference key of an HSM-stream event, `<log group>:<hsm id>`; undefined for others. */
export function actorStreamKeyOf(event: OcsfEvent): string | undefined {
  if (event.device === undefined || event.metadata.log_name === undefined) return undefined;
  return `${event.metadata.log_name}:${event.device.uid}`;
}

function userKey(user: OcsfUser & { name: string }): string {
  return `${user.name}\u0000${user.type ?? ''}`;
}

function sessionOf(event: OcsfEvent, parsed: HsmRecord): string | undefined {
  const session = event.session?.uid ?? event.actor?.session?.uid ?? parsed.values.session_handle;
  return session === '' ? undefined : session;
}

/** Per-stream login tracker that fills `actor.user` where the inference is sound. */
export class ActorInference {
  private readonly streams = new Map<string, StreamState>();
  private readonly trustPartial: boolean;

  constructor(options: ActorInferenceOptions = {}) {
    this.trustPartial = options.trustPartialHistory === true;
  }

  /**
   * Observes one event (in stream order) with the parsed record it was made from, and returns
   * it with an inferred `actor.user` when sound. Counters and the session come from the parsed
   * record, not from the event's `unmapped`, which keeps only what OCSF has no place for.
   * The input is never mutated; events that are not HSM-stream records pass unchanged.
   */
  observe(event: OcsfEvent, parsed: ParsedRecord): OcsfEvent {
    const key = actorStreamKeyOf(event);
    if (key === undefined || event.class_uid === 2004 || parsed.kind !== 'hsm') return event;
    const reboot = parsed.rebootCounter?.value;
    const seq = parsed.sequenceNo?.value;
    if (reboot === undefined || seq === undefined) return event;

    let state = this.streams.get(key);
    if (state === undefined) {
      state = { reboot, last: seq, complete: seq === 0n, logins: new Map() };
      this.streams.set(key, state);
    } else if (reboot > state.reboot) {
      // New epoch: logins do not survive a reboot.
      state.reboot = reboot;
      state.last = seq;
      state.complete = seq === 0n;
      state.logins.clear();
    } else if (reboot < state.reboot || seq <= state.last) {
      return event; // old epoch, duplicate or out of order: neither state change nor inference
    } else {
      if (seq > state.last + 1n) {
        // Records are missing: a login or logout may be among them.
        state.complete = false;
        state.logins.clear();
      }
      state.last = seq;
    }

    const result = this.infer(event, state);
    this.apply(event, parsed, state, seq);
    return result;
  }

  private infer(event: OcsfEvent, state: StreamState): OcsfEvent {
    if (!INFERRED_CLASSES.has(event.class_uid)) return event;
    if (event.actor?.user !== undefined) return event;
    if (!state.complete && !this.trustPartial) return event;
    if (state.logins.size !== 1) return event;
    const login = state.logins.values().next().value;
    if (login === undefined) return event;

    const user: OcsfUser = { ...login.user };
    const out: OcsfEvent = { ...event, actor: { ...event.actor, user } };
    const observables = event.observables ?? [];
    out.observables = [
      ...observables,
      { name: 'actor.user.name', type_id: 4, type: 'User Name', value: login.user.name },
    ];
    const unmapped: CloudHsmUnmapped = {
      ...event.unmapped.cloudhsm,
      actor_inference: state.complete ? 'single_active_login' : 'single_active_login_partial',
      actor_login_sequence_no: hexCounter(login.sequence),
    };
    if (login.session !== undefined) unmapped.actor_login_session_handle = login.session;
    out.unmapped = { ...event.unmapped, cloudhsm: unmapped };
    return withLabels(out, [ACTOR_INFERRED]);
  }

  private apply(event: OcsfEvent, parsed: HsmRecord, state: StreamState, seq: bigint): void {
    const opcode = event.metadata.event_code;
    if (opcode === 'CN_LOGIN') {
      const name = event.user?.name;
      if (event.status_id !== 1 || name === undefined || name === 'unknown') return;
      const user: OcsfUser & { name: string } = { name };
      if (event.user?.type_id !== undefined) user.type_id = event.user.type_id;
      if (event.user?.type !== undefined) user.type = event.user.type;
      state.logins.set(userKey(user), { user, session: sessionOf(event, parsed), sequence: seq });
      return;
    }
    if (opcode === undefined || !CLEARING_OPCODES.has(opcode)) return;
    if (opcode === 'CN_LOGOUT' && event.status_id === 2) return; // still logged in
    const name = event.user?.name;
    if (name !== undefined && name !== 'unknown') {
      for (const [key, login] of state.logins) {
        if (login.user.name === name) state.logins.delete(key);
      }
      return;
    }
    const session = sessionOf(event, parsed);
    let matched = false;
    for (const [key, login] of state.logins) {
      if (session !== undefined && login.session === session) {
        state.logins.delete(key);
        matched = true;
      }
    }
    if (!matched) state.logins.clear();
  }

  /** Keys of every stream seen so far. */
  streamKeys(): string[] {
    return [...this.streams.keys()];
  }

  /** The stream's state for a checkpoint, or undefined when the stream has not been seen. */
  /** Drops a retired stream's state (its checkpoint still holds it, should the stream return). */
  forget(streamKey: string): void {
    this.streams.delete(streamKey);
  }

  snapshot(streamKey: string): ActorStreamState | undefined {
    const state = this.streams.get(streamKey);
    if (state === undefined) return undefined;
    return {
      rebootCounter: hexCounter(state.reboot),
      lastSequence: hexCounter(state.last),
      complete: state.complete,
      logins: [...state.logins.values()].map((login) => {
        const out: ActiveLoginState = {
          name: login.user.name,
          sequence: hexCounter(login.sequence),
        };
        if (login.user.type_id !== undefined) out.typeId = login.user.type_id;
        if (login.user.type !== undefined) out.type = login.user.type;
        if (login.session !== undefined) out.session = login.session;
        return out;
      }),
    };
  }

  /** Restores a stream's state from {@link snapshot} output; throws on malformed input. */
  restore(streamKey: string, snapshot: ActorStreamState): void {
    const logins = new Map<string, Login>();
    for (const entry of snapshot.logins) {
      if (typeof entry.name !== 'string' || entry.name === '') {
        throw new TypeError('invalid login in actor state: missing name');
      }
      const user: OcsfUser & { name: string } = { name: entry.name };
      if (entry.typeId !== undefined) user.type_id = entry.typeId;
      if (entry.type !== undefined) user.type = entry.type;
      logins.set(userKey(user), {
        user,
        session: entry.session,
        sequence: parseHexOrThrow(entry.sequence),
      });
    }
    this.streams.set(streamKey, {
      reboot: parseHexOrThrow(snapshot.rebootCounter),
      last: parseHexOrThrow(snapshot.lastSequence),
      complete: snapshot.complete === true,
      logins,
    });
  }
}
