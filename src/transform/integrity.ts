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
 *
 * Gap repair (`repairWindowMs` > 0): a record uploaded late lands in CloudWatch behind the reader's
 * forward token, where the reader never looks, and shows here as a gap. Such a gap is held back
 * as pending for the repair window and a re-read of the stream around it is requested
 * ({@link IntegrityTracker.takeRepairs}). A record that fills a pending gap is no regression and
 * no duplicate: it closes its part of the gap (a gap closed entirely counts as repaired). Only
 * what is still missing when the window ends is reported ({@link IntegrityTracker.expire}), as
 * the same finding (same uid) the record that revealed the gap would have raised at once.
 */

import { SEVERITY_CAPTIONS } from './mapping-table.js';
import {
  buildCloud,
  buildDevice,
  classify,
  eventTime,
  eventUid,
  reorder,
} from './ocsf-builders.js';
import type { NormalizeContext } from './ocsf-builders.js';
import type { CloudHsmUnmapped, OcsfEvent, OcsfResource } from './ocsf-event.js';
import { parseRecord } from './parse.js';
import { sequenceOf, type ParsedRecord } from './parsed-record.js';
import type { SourceRecord } from './source-record.js';
import { hexCounter, isHsmStream, messageHash, OCSF_VERSION } from '../util/identity.js';

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

/** A gap waiting for its repair window, as persisted. */
export interface PendingGapState {
  rebootCounter: string;
  /** Sequence numbers still missing, as inclusive `[from, to]` hex ranges. */
  missing: Array<[string, string]>;
  /** The first missing sequence number when the gap was seen (the finding's `expected`). */
  expected: string;
  /** When the finding is due if the gap is still open (epoch ms). */
  deadline: number;
  /** The time range to re-read (CloudWatch timestamps, inclusive). */
  fromTime?: number;
  toTime?: number;
  /** The record that revealed the gap: the finding is built from it. */
  record: { timestamp: number; ingestionTime?: number; message: string };
}

/** Checkpointable per-stream state: plain JSON (hex strings), safe to persist and restore. */
export interface StreamIntegrityState {
  rebootCounter: string;
  lastSequence: string;
  /** Recent `[sequence hex, message hash]` pairs, oldest first. */
  recent: Array<[string, string]>;
  /** CloudWatch timestamp of the record with `lastSequence` (where a repair re-read starts). */
  lastTimestamp?: number;
  pending?: PendingGapState[];
}

/** Options of {@link IntegrityTracker}. */
export interface IntegrityTrackerOptions {
  /** How many recent sequence numbers per stream are remembered for duplicate checks. */
  windowSize?: number;
  /** How long a gap may wait for its missing records before it is reported; 0: at once. */
  repairWindowMs?: number;
}

/** A re-read of a stream's time range that may deliver the records of a pending gap. */
export interface RepairRequest {
  readonly streamKey: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly fromTime: number;
  readonly toTime: number;
  /** When the gap is reported unless repaired: a last re-read is worth making just before. */
  readonly deadline: number;
}

/**
 * A re-read starts this long before the last record before the gap and ends this long after the
 * record after it: CloudWatch timestamps of neighbouring records can be out of order by a little.
 */
const REPAIR_MARGIN_MS = 60_000;

interface PendingGap {
  readonly reboot: bigint;
  missing: Array<[bigint, bigint]>;
  readonly expected: bigint;
  readonly deadline: number;
  readonly record: SourceRecord;
  readonly fromTime: number;
  readonly toTime: number;
}

interface StreamState {
  reboot: bigint;
  last: bigint;
  recent: Map<bigint, string>;
  lastTime: number | undefined;
  pending: PendingGap[];
}

function countMissing(gap: PendingGap): bigint {
  let count = 0n;
  for (const [from, to] of gap.missing) count += to - from + 1n;
  return count;
}

/** Removes `seq` from the gap's missing ranges; true if it was missing. */
function fillGap(gap: PendingGap, seq: bigint): boolean {
  const index = gap.missing.findIndex(([from, to]) => seq >= from && seq <= to);
  if (index < 0) return false;
  const [from, to] = gap.missing[index] as [bigint, bigint];
  const rest: Array<[bigint, bigint]> = [];
  if (from < seq) rest.push([from, seq - 1n]);
  if (seq < to) rest.push([seq + 1n, to]);
  gap.missing.splice(index, 1, ...rest);
  return true;
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
  private readonly repairWindowMs: number;
  private repairs: RepairRequest[] = [];
  private repaired = 0;

  constructor(options: IntegrityTrackerOptions = {}) {
    this.windowSize = Math.max(1, Math.floor(options.windowSize ?? 256));
    this.repairWindowMs = Math.max(0, options.repairWindowMs ?? 0);
  }

  /**
   * Checks one record against its stream's state and advances the state. Records without a
   * valid sequence number and reboot counter (cert-storage, unparseable) are ignored. `now`
   * (epoch ms) starts the repair window of a gap.
   */
  observe(record: SourceRecord, parsed: ParsedRecord, now = 0): IntegrityFinding[] {
    const place = sequenceOf(parsed);
    if (place === undefined) return [];
    const { seq, reboot } = place;
    const streamKey = streamKeyOf(record);
    const base: FindingBase = {
      streamKey,
      rebootCounter: hexCounter(reboot),
      sequence: hexCounter(seq),
    };
    const state = this.streams.get(streamKey);
    const hash = messageHash(record.message, WINDOW_HASH_CHARS);
    if (state === undefined) {
      this.streams.set(streamKey, {
        reboot,
        last: seq,
        recent: new Map([[seq, hash]]),
        lastTime: record.timestamp,
        pending: [],
      });
      return [];
    }
    // A record a pending gap waits for: late, but neither a regression nor a duplicate.
    const gap = state.pending.find((g) => g.reboot === reboot && fillGap(g, seq));
    if (gap !== undefined) {
      if (gap.missing.length === 0) {
        state.pending.splice(state.pending.indexOf(gap), 1);
        this.repaired += 1;
      }
      this.remember(state, seq, hash);
      return [];
    }
    const previous = {
      previousRebootCounter: hexCounter(state.reboot),
      previousSequence: hexCounter(state.last),
    };
    if (reboot > state.reboot) {
      state.reboot = reboot;
      state.last = seq;
      state.lastTime = record.timestamp;
      state.recent.clear();
      state.recent.set(seq, hash);
      return [{ ...base, kind: 'reboot', ...previous, sequenceRestarted: seq === 0n }];
    }
    if (reboot < state.reboot) {
      // Reported once, then the lower counter becomes the baseline: otherwise every later record
      // of the stream would repeat the same finding and flood the SOC with one alert per record.
      state.reboot = reboot;
      state.last = seq;
      state.lastTime = record.timestamp;
      state.recent.clear();
      state.recent.set(seq, hash);
      return [{ ...base, kind: 'regression', reason: 'reboot_counter_decreased', ...previous }];
    }
    if (seq > state.last) {
      const findings: IntegrityFinding[] = [];
      if (seq > state.last + 1n) {
        const expected = state.last + 1n;
        if (this.repairWindowMs > 0) {
          const gap: PendingGap = {
            reboot,
            missing: [[expected, seq - 1n]],
            expected,
            deadline: now + this.repairWindowMs,
            record,
            fromTime:
              Math.min(state.lastTime ?? record.timestamp, record.timestamp) - REPAIR_MARGIN_MS,
            toTime: record.timestamp + REPAIR_MARGIN_MS,
          };
          state.pending.push(gap);
          this.requestRepair(streamKey, gap);
        } else {
          findings.push({
            ...base,
            kind: 'gap',
            expected: hexCounter(expected),
            missing: String(seq - expected),
          });
        }
      }
      state.last = seq;
      state.lastTime = record.timestamp;
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

  /**
   * Whether the record would fill a pending gap of its stream: a re-read delivers only those,
   * since everything else it finds was delivered before.
   */
  fills(record: SourceRecord, parsed: ParsedRecord): boolean {
    const place = sequenceOf(parsed);
    if (place === undefined) return false;
    const { seq, reboot } = place;
    const state = this.streams.get(streamKeyOf(record));
    return (
      state?.pending.some(
        (gap) =>
          gap.reboot === reboot && gap.missing.some(([from, to]) => seq >= from && seq <= to),
      ) === true
    );
  }

  private requestRepair(streamKey: string, gap: PendingGap): void {
    this.repairs.push({
      streamKey,
      logGroup: gap.record.logGroup,
      logStream: gap.record.logStream,
      fromTime: gap.fromTime,
      toTime: gap.toTime,
      deadline: gap.deadline,
    });
  }

  /** Re-reads requested for gaps seen (or restored) since the last call. */
  takeRepairs(): RepairRequest[] {
    const repairs = this.repairs;
    this.repairs = [];
    return repairs;
  }

  /** Gaps closed entirely since the last call. */
  takeRepaired(): number {
    const repaired = this.repaired;
    this.repaired = 0;
    return repaired;
  }

  /** Gaps of the stream waiting for their repair window. */
  pendingGaps(streamKey: string): number {
    return this.streams.get(streamKey)?.pending.length ?? 0;
  }

  /**
   * Ends the repair window of the stream's pending gaps due by `now`: each becomes the gap
   * finding of the record that revealed it, counting what is still missing.
   */
  expire(
    streamKey: string,
    now: number,
  ): Array<{ readonly finding: IntegrityFinding; readonly record: SourceRecord }> {
    const state = this.streams.get(streamKey);
    if (state === undefined) return [];
    const due = state.pending.filter((gap) => gap.deadline <= now);
    if (due.length === 0) return [];
    state.pending = state.pending.filter((gap) => gap.deadline > now);
    return due.map((gap) => {
      const seq = sequenceOf(parseRecord(gap.record.message))?.seq;
      return {
        record: gap.record,
        finding: {
          streamKey,
          rebootCounter: hexCounter(gap.reboot),
          sequence: seq === undefined ? '' : hexCounter(seq),
          kind: 'gap',
          expected: hexCounter(gap.expected),
          missing: String(countMissing(gap)),
        },
      };
    });
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
    const snapshot: StreamIntegrityState = {
      rebootCounter: hexCounter(state.reboot),
      lastSequence: hexCounter(state.last),
      recent: [...state.recent].map(([seq, hash]): [string, string] => [hexCounter(seq), hash]),
    };
    if (state.lastTime !== undefined) snapshot.lastTimestamp = state.lastTime;
    if (state.pending.length > 0) {
      snapshot.pending = state.pending.map((gap) => ({
        rebootCounter: hexCounter(gap.reboot),
        missing: gap.missing.map(([from, to]): [string, string] => [
          hexCounter(from),
          hexCounter(to),
        ]),
        expected: hexCounter(gap.expected),
        deadline: gap.deadline,
        fromTime: gap.fromTime,
        toTime: gap.toTime,
        record: {
          timestamp: gap.record.timestamp,
          ...(gap.record.ingestionTime === undefined
            ? {}
            : { ingestionTime: gap.record.ingestionTime }),
          message: gap.record.message,
        },
      }));
    }
    return snapshot;
  }

  /**
   * Restores a stream's state from {@link snapshot} output; throws on malformed input. Pending
   * gaps ask for their re-reads again ({@link takeRepairs}).
   */
  restore(streamKey: string, snapshot: StreamIntegrityState): void {
    const recent = new Map<bigint, string>();
    for (const [seq, hash] of snapshot.recent) recent.set(parseHexOrThrow(seq), hash);
    while (recent.size > this.windowSize) {
      const oldest = recent.keys().next();
      if (oldest.done === true) break;
      recent.delete(oldest.value);
    }
    const [logGroup, logStream] = splitStreamKey(streamKey);
    const pending = (snapshot.pending ?? []).map((gap): PendingGap => ({
      reboot: parseHexOrThrow(gap.rebootCounter),
      missing: gap.missing.map(([from, to]): [bigint, bigint] => [
        parseHexOrThrow(from),
        parseHexOrThrow(to),
      ]),
      expected: parseHexOrThrow(gap.expected),
      deadline: Number(gap.deadline),
      fromTime: Number(gap.fromTime ?? Number(gap.record.timestamp) - REPAIR_MARGIN_MS),
      toTime: Number(gap.toTime ?? Number(gap.record.timestamp) + REPAIR_MARGIN_MS),
      record: {
        logGroup,
        logStream,
        timestamp: Number(gap.record.timestamp),
        ...(gap.record.ingestionTime === undefined
          ? {}
          : { ingestionTime: Number(gap.record.ingestionTime) }),
        message: String(gap.record.message),
      },
    }));
    this.streams.set(streamKey, {
      reboot: parseHexOrThrow(snapshot.rebootCounter),
      last: parseHexOrThrow(snapshot.lastSequence),
      recent,
      lastTime: typeof snapshot.lastTimestamp === 'number' ? snapshot.lastTimestamp : undefined,
      pending,
    });
    // The re-reads of a gap pending at the last checkpoint did not survive the restart.
    for (const gap of pending) this.requestRepair(streamKey, gap);
  }
}

/** Inverse of {@link streamKeyOf}: log groups may contain `:`, log stream names cannot. */
function splitStreamKey(key: string): [string, string] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
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
