/**
 * Sequence integrity of the HSM audit trail (docs/cloudhsm-audit-records.md, Sequence integrity).
 *
 * Why findings are OCSF Detection Findings (class 2004): a gap, a regression or a conflicting
 * duplicate is a conclusion the forwarder draws about the audit trail (possible loss or
 * tampering), not an activity the HSM performed, and Detection Finding is the class SOC tooling
 * already routes to alerting (Security Hub, Security Lake and OpenSearch detectors treat the
 * Findings category as alerts). Its required `finding_info` gives a stable uid and title to
 * deduplicate and triage on, while `device`, `resources` and `raw_data` point at the HSM stream
 * and the record that revealed the problem. Entity Management (3004) on the "audit log" entity
 * was the alternative, but it would hide findings among millions of routine key and user events.
 *
 * What is reported, per stream (`<log group>:<log stream>`), comparing with the last record:
 * - `gap`: same reboot counter, sequence > last + 1 (records missing: possible loss/tampering);
 * - `reboot`: higher reboot counter (the HSM rebooted; the sequence normally restarts at 0x0);
 * - `regression`: lower reboot counter (reported once, then the new counter is the baseline, so
 *   later records do not repeat it), or a lower sequence under the same counter that is not in
 *   the recent window (the state is not moved backwards by that one);
 * - `duplicate`: a sequence seen recently with the same text (re-delivery; informational);
 * - `conflicting_duplicate`: a sequence seen recently with different text.
 * The first record of a stream produces nothing, whatever its sequence: a stream whose earliest
 * retained record is not 0x0 only means retention expired or the forwarder started late,
 * and an alert for every stream at every fresh start would teach SOCs to ignore these findings.
 */

import { SEVERITY_CAPTIONS } from './mapping-table.js';
import {
  buildCloud,
  buildDevice,
  classify,
  eventTime,
  eventUid,
  isHsmStream,
  reorder,
} from './ocsf-builders.js';
import type { NormalizeContext } from './ocsf-builders.js';
import type { CloudHsmUnmapped, OcsfEvent, OcsfResource } from './ocsf-event.js';
import { parseRecord } from './parse.js';
import type { ParsedRecord } from './parsed-record.js';
import type { SourceRecord } from './source-record.js';
import { hexCounter, messageHash, OCSF_VERSION } from '../util/identity.js';

/** Kinds of integrity findings. */
export type IntegrityFindingKind =
  'gap' | 'reboot' | 'regression' | 'duplicate' | 'conflicting_duplicate';

interface FindingBase {
  /** `<log group>:<log stream>` (see {@link streamKeyOf}). */
  streamKey: string;
  /** Reboot counter and sequence of the record that triggered the finding, as printed. */
  rebootCounter: string;
  sequence: string;
}

/** One integrity finding; hex values are lower-case `0x…`, counts are decimal strings. */
export type IntegrityFinding =
  | (FindingBase & { kind: 'gap'; expected: string; missing: string })
  | (FindingBase & {
      kind: 'reboot';
      previousRebootCounter: string;
      previousSequence: string;
      sequenceRestarted: boolean;
    })
  | (FindingBase & {
      kind: 'regression';
      reason: 'reboot_counter_decreased' | 'sequence_decreased';
      previousRebootCounter: string;
      previousSequence: string;
    })
  | (FindingBase & { kind: 'duplicate' })
  | (FindingBase & { kind: 'conflicting_duplicate'; previousHash: string; hash: string });

/** Checkpointable per-stream state: plain JSON (hex strings), safe to persist and restore. */
export interface StreamIntegrityState {
  rebootCounter: string;
  lastSequence: string;
  /** Recent `[sequence hex, message hash]` pairs, oldest first. */
  recent: Array<[string, string]>;
}

/** Options of {@link IntegrityTracker}. */
export interface IntegrityTrackerOptions {
  /** How many recent sequence numbers per stream are remembered for duplicate checks. */
  windowSize?: number;
}

interface StreamState {
  reboot: bigint;
  last: bigint;
  recent: Map<bigint, string>;
}

/** The tracker's key for a record's stream. Log stream names cannot contain `:`. */
export function streamKeyOf(record: Pick<SourceRecord, 'logGroup' | 'logStream'>): string {
  return `${record.logGroup}:${record.logStream}`;
}

/** Length of the window's message hashes; persisted in checkpoints, so it must not change. */
const WINDOW_HASH_CHARS = 16;

/** Tracks `(stream) → {rebootCounter, lastSequence}` and reports integrity findings. */
export class IntegrityTracker {
  private readonly streams = new Map<string, StreamState>();
  private readonly windowSize: number;

  constructor(options: IntegrityTrackerOptions = {}) {
    this.windowSize = Math.max(1, Math.floor(options.windowSize ?? 256));
  }

  /**
   * Checks one record against its stream's state and advances the state. Records without a
   * valid sequence number and reboot counter (cert-storage, unparseable) are ignored.
   */
  observe(record: SourceRecord, parsed: ParsedRecord): IntegrityFinding[] {
    if (parsed.kind !== 'hsm') return [];
    const seq = parsed.sequenceNo?.value;
    const reboot = parsed.rebootCounter?.value;
    if (seq === undefined || reboot === undefined) return [];
    const streamKey = streamKeyOf(record);
    const base: FindingBase = {
      streamKey,
      rebootCounter: hexCounter(reboot),
      sequence: hexCounter(seq),
    };
    const state = this.streams.get(streamKey);
    const hash = messageHash(record.message, WINDOW_HASH_CHARS);
    if (state === undefined) {
      this.streams.set(streamKey, { reboot, last: seq, recent: new Map([[seq, hash]]) });
      return [];
    }
    const previous = {
      previousRebootCounter: hexCounter(state.reboot),
      previousSequence: hexCounter(state.last),
    };
    if (reboot > state.reboot) {
      state.reboot = reboot;
      state.last = seq;
      state.recent.clear();
      state.recent.set(seq, hash);
      return [{ ...base, kind: 'reboot', ...previous, sequenceRestarted: seq === 0n }];
    }
    if (reboot < state.reboot) {
      // Reported once, then the lower counter becomes the baseline: otherwise every later record
      // of the stream would repeat the same finding and flood the SOC with one alert per record.
      state.reboot = reboot;
      state.last = seq;
      state.recent.clear();
      state.recent.set(seq, hash);
      return [{ ...base, kind: 'regression', reason: 'reboot_counter_decreased', ...previous }];
    }
    if (seq > state.last) {
      const findings: IntegrityFinding[] = [];
      if (seq > state.last + 1n) {
        findings.push({
          ...base,
          kind: 'gap',
          expected: hexCounter(state.last + 1n),
          missing: String(seq - state.last - 1n),
        });
      }
      state.last = seq;
      this.remember(state, seq, hash);
      return findings;
    }
    const seen = state.recent.get(seq);
    if (seen === undefined) {
      return [{ ...base, kind: 'regression', reason: 'sequence_decreased', ...previous }];
    }
    if (seen === hash) return [{ ...base, kind: 'duplicate' }];
    return [{ ...base, kind: 'conflicting_duplicate', previousHash: seen, hash }];
  }

  private remember(state: StreamState, seq: bigint, hash: string): void {
    state.recent.set(seq, hash);
    if (state.recent.size > this.windowSize) {
      const oldest = state.recent.keys().next();
      if (oldest.done !== true) state.recent.delete(oldest.value);
    }
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

  snapshot(streamKey: string): StreamIntegrityState | undefined {
    const state = this.streams.get(streamKey);
    if (state === undefined) return undefined;
    return {
      rebootCounter: hexCounter(state.reboot),
      lastSequence: hexCounter(state.last),
      recent: [...state.recent].map(([seq, hash]): [string, string] => [hexCounter(seq), hash]),
    };
  }

  /** Restores a stream's state from {@link snapshot} output; throws on malformed input. */
  restore(streamKey: string, snapshot: StreamIntegrityState): void {
    const recent = new Map<bigint, string>();
    for (const [seq, hash] of snapshot.recent) recent.set(parseHexOrThrow(seq), hash);
    while (recent.size > this.windowSize) {
      const oldest = recent.keys().next();
      if (oldest.done === true) break;
      recent.delete(oldest.value);
    }
    this.streams.set(streamKey, {
      reboot: parseHexOrThrow(snapshot.rebootCounter),
      last: parseHexOrThrow(snapshot.lastSequence),
      recent,
    });
  }
}

function parseHexOrThrow(text: string): bigint {
  if (!/^0x[0-9a-f]+$/i.test(text)) throw new TypeError(`invalid hex counter in state: ${text}`);
  return BigInt(text);
}

// ---------------------------------------------------------------------------------------------
// Finding → OCSF Detection Finding.

const FINDING_SEVERITY: Readonly<Record<IntegrityFindingKind, number>> = {
  gap: 4,
  conflicting_duplicate: 4,
  regression: 3,
  reboot: 2,
  duplicate: 1,
};

const FINDING_TITLES: Readonly<Record<IntegrityFindingKind, string>> = {
  gap: 'CloudHSM audit log sequence gap',
  reboot: 'CloudHSM HSM reboot detected in audit log',
  regression: 'CloudHSM audit log sequence regression',
  duplicate: 'CloudHSM audit record delivered twice',
  conflicting_duplicate: 'CloudHSM audit records with the same sequence number differ',
};

function describe(finding: IntegrityFinding, hsm: string): string {
  const at = `on ${hsm} (reboot counter ${finding.rebootCounter})`;
  switch (finding.kind) {
    case 'gap':
      return `Sequence gap ${at}: expected ${finding.expected}, got ${finding.sequence} (${finding.missing} record(s) missing)`;
    case 'reboot':
      return `Reboot counter rose from ${finding.previousRebootCounter} to ${finding.rebootCounter} on ${hsm}; sequence ${finding.sequenceRestarted ? 'restarted at 0x0' : `continued at ${finding.sequence}`}`;
    case 'regression':
      return finding.reason === 'reboot_counter_decreased'
        ? `Reboot counter went back from ${finding.previousRebootCounter} to ${finding.rebootCounter} on ${hsm}`
        : `Sequence went back ${at}: ${finding.sequence} after ${finding.previousSequence}`;
    case 'duplicate':
      return `Record ${finding.sequence} delivered again ${at}`;
    case 'conflicting_duplicate':
      return `Two different records carry sequence ${finding.sequence} ${at}`;
  }
}

function findingDetails(finding: IntegrityFinding): CloudHsmUnmapped {
  switch (finding.kind) {
    case 'gap':
      return { expected_sequence: finding.expected, missing_count: finding.missing };
    case 'reboot':
      return {
        previous_reboot_counter: finding.previousRebootCounter,
        previous_sequence: finding.previousSequence,
        sequence_restarted: String(finding.sequenceRestarted),
      };
    case 'regression':
      return {
        reason: finding.reason,
        previous_reboot_counter: finding.previousRebootCounter,
        previous_sequence: finding.previousSequence,
      };
    case 'duplicate':
      return {};
    case 'conflicting_duplicate':
      return { previous_hash: finding.previousHash, hash: finding.hash };
  }
}

/**
 * The finding as an OCSF Detection Finding (2004). Deterministic: uid
 * `<record uid>:integrity:<kind>`, time = the triggering record's event time.
 */
export function findingToEvent(
  finding: IntegrityFinding,
  record: SourceRecord,
  context: NormalizeContext = {},
  parsed: ParsedRecord = parseRecord(record.message),
): OcsfEvent {
  const recordUid = eventUid(record, parsed);
  const uid = `${recordUid}:integrity:${finding.kind}`;
  const time = eventTime(record, parsed);
  const hsm = isHsmStream(record.logStream) || parsed.kind === 'hsm';
  const severityId = FINDING_SEVERITY[finding.kind];
  const title = FINDING_TITLES[finding.kind];
  const text = describe(finding, record.logStream);
  const resource: OcsfResource = {
    uid: record.logStream,
    name: record.logStream,
    type: 'CloudHSM audit log stream',
  };
  if (context.region !== undefined) resource.region = context.region;

  // Only what no attribute holds: the kind is `metadata.event_code` and `finding_info.types`, the
  // stream `resources[0].uid`, the cluster `metadata.log_name`.
  const unmapped: CloudHsmUnmapped = {
    reboot_counter: finding.rebootCounter,
    sequence_no: finding.sequence,
    related_event_uid: recordUid,
    ...findingDetails(finding),
  };
  if (time !== record.timestamp) unmapped.cloudwatch_timestamp = String(record.timestamp);
  if (record.eventId !== undefined) unmapped.cloudwatch_event_id = record.eventId;

  const event: OcsfEvent = {
    ...classify(2004, 1, 'Create'),
    time,
    timezone_offset: 0,
    severity_id: severityId,
    severity: SEVERITY_CAPTIONS[severityId] ?? 'Other',
    status_id: 1,
    status: 'New',
    message: text,
    metadata: {
      version: OCSF_VERSION,
      product: {
        name: 'CloudHSM',
        vendor_name: 'AWS',
        feature: { name: 'cloudhsm-audit-forwarder integrity check' },
      },
      profiles: hsm ? ['cloud', 'host'] : ['cloud'],
      uid,
      event_code: `integrity_${finding.kind}`,
      log_name: record.logGroup,
      log_provider: 'AWS CloudHSM',
    },
    cloud: buildCloud(context),
    finding_info: {
      uid,
      title,
      desc: text,
      types: ['CloudHSM audit integrity', finding.kind],
      first_seen_time: time,
      last_seen_time: time,
      analytic: { name: 'cloudhsm-sequence-integrity', type_id: 1, type: 'Rule' },
    },
    resources: [resource],
    confidence_id: 3,
    confidence: 'High',
    raw_data: record.message,
    unmapped: { cloudhsm: unmapped },
  };
  if (hsm) {
    event.device = buildDevice(record, context);
    event.observables = [
      { name: 'device.uid', type_id: 10, type: 'Resource UID', value: record.logStream },
    ];
  }
  if (record.ingestionTime !== undefined && Number.isFinite(record.ingestionTime)) {
    event.metadata.logged_time = Math.trunc(record.ingestionTime);
  }
  return reorder(event);
}
