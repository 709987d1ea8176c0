/**
 * The pure part of the pipeline for one batch: every raw event of a page becomes an OCSF event
 * (parse → normalize → enrich), integrity findings become events of their own, and everything is
 * serialized once for both sinks. No I/O; the tracker is the only state and it moves in read
 * order, which is why batches of one stream are transformed in the order they were read.
 */
import { toOutboundEvent } from '../sink/outbound-event.js';
import type { OutboundEvent } from '../sink/outbound-event.js';
import type { ActorInference } from '../transform/actor-inference.js';
import { findingToEvent, streamKeyOf } from '../transform/integrity.js';
import type {
  IntegrityFindingKind,
  IntegrityTracker,
  RepairRequest,
} from '../transform/integrity.js';
import type { RecentRecords } from '../transform/recent-records.js';
import type { NormalizeContext } from '../transform/ocsf-builders.js';
import { parseRecord } from '../transform/parse.js';
import { sequenceOf } from '../transform/parsed-record.js';
import type { SourceRecord } from '../transform/source-record.js';
import { transformRecord } from '../transform/transform-record.js';
import type { EventEnricher } from '../transform/transform-record.js';
import type { Batch } from '../source/batch.js';

export interface TransformedBatch {
  readonly events: OutboundEvent[];
  readonly parsed: number;
  readonly unparseable: number;
  readonly findings: Partial<Record<IntegrityFindingKind, number>>;
  /** Event times, for the end-to-end lag histogram. */
  readonly eventTimes: number[];
  /** Re-reads the integrity tracker asks for (gaps that may be repaired). */
  readonly repairs: RepairRequest[];
  /** Gaps closed entirely by this batch's records. */
  readonly repaired: number;
  /** Held gaps whose repair window ended with records still missing: reported as findings now. */
  readonly unrepaired: { readonly gaps: number; readonly missing: number };
  /** Records of a re-read page dropped because they were delivered before. */
  readonly replayDuplicates: number;
}

export interface TransformState {
  readonly integrity: IntegrityTracker;
  /** Optional: infers the acting user from the logins before an event (marked as inferred). */
  readonly actors?: ActorInference;
  /** What streams without sequence numbers delivered lately (look-back dedupe). */
  readonly recent?: RecentRecords;
}

/**
 * `now` (epoch ms) starts the repair window of new gaps and ends those of pending ones: a gap
 * still open when its window ends is reported with the batch that gets there first.
 */
export function transformBatch(
  batch: Batch,
  state: TransformState,
  context: NormalizeContext,
  enrich: EventEnricher = (event) => event,
  now = 0,
): TransformedBatch {
  const chain = { ...state, context, enrich, now };
  const events: OutboundEvent[] = [];
  const eventTimes: number[] = [];
  const findings: Partial<Record<IntegrityFindingKind, number>> = {};
  let unparseable = 0;
  let replayDuplicates = 0;
  const { logGroup, logStream } = batch.stream;
  const key = streamKeyOf(batch.stream);
  for (const raw of batch.events) {
    const record: SourceRecord = {
      logGroup,
      logStream,
      timestamp: raw.timestamp,
      ingestionTime: raw.ingestionTime,
      message: raw.message,
    };
    const parsed = parseRecord(raw.message);
    const sequenced = sequenceOf(parsed) !== undefined;
    // A re-read delivers only what the forward reader missed: records a pending gap waits for,
    // and records of a stream without sequence numbers not delivered within the window.
    if (batch.replay === true) {
      const missed = sequenced
        ? state.integrity.fills(record, parsed)
        : state.recent !== undefined && !state.recent.seen(key, record);
      if (!missed) {
        replayDuplicates += 1;
        continue;
      }
    }
    if (!sequenced) state.recent?.remember(key, record);
    if (parsed.kind === 'unparseable') unparseable += 1;
    const result = transformRecord(record, parsed, chain);
    events.push(toOutboundEvent(result.event, logStream));
    eventTimes.push(result.event.time);
    for (const { finding, event } of result.findings) {
      findings[finding.kind] = (findings[finding.kind] ?? 0) + 1;
      events.push(toOutboundEvent(event, logStream));
    }
  }
  state.recent?.prune(key, now);
  const unrepaired = { gaps: 0, missing: 0 };
  for (const { finding, record } of state.integrity.expire(key, now)) {
    findings[finding.kind] = (findings[finding.kind] ?? 0) + 1;
    if (finding.kind === 'gap') {
      unrepaired.gaps += 1;
      unrepaired.missing += Number(finding.missing);
    }
    events.push(toOutboundEvent(enrich(findingToEvent(finding, record, context)), logStream));
  }
  return {
    events,
    parsed: batch.events.length - replayDuplicates - unparseable,
    unparseable,
    findings,
    eventTimes,
    repairs: state.integrity.takeRepairs(),
    repaired: state.integrity.takeRepaired(),
    unrepaired,
    replayDuplicates,
  };
}
