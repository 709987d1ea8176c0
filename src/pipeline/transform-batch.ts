/**
 * The pure part of the pipeline for one batch: every raw event of a page becomes an OCSF event
 * (parse → normalize → enrich), integrity findings become events of their own, and everything is
 * serialized once for both sinks. No I/O; the tracker is the only state and it moves in read
 * order, which is why batches of one stream are transformed in the order they were read.
 */
import { toOutboundEvent } from '../sink/outbound-event.js';
import type { OutboundEvent } from '../sink/outbound-event.js';
import type { ActorInference } from '../transform/actor-inference.js';
import type { IntegrityFindingKind, IntegrityTracker } from '../transform/integrity.js';
import type { NormalizeContext } from '../transform/ocsf-builders.js';
import { parseRecord } from '../transform/parse.js';
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
}

export interface TransformState {
  readonly integrity: IntegrityTracker;
  /** Optional: infers the acting user from the logins before an event (marked as inferred). */
  readonly actors?: ActorInference;
}

export function transformBatch(
  batch: Batch,
  state: TransformState,
  context: NormalizeContext,
  enrich: EventEnricher = (event) => event,
): TransformedBatch {
  const chain = { ...state, context, enrich };
  const events: OutboundEvent[] = [];
  const eventTimes: number[] = [];
  const findings: Partial<Record<IntegrityFindingKind, number>> = {};
  let unparseable = 0;
  const { logGroup, logStream } = batch.stream;
  for (const raw of batch.events) {
    const record: SourceRecord = {
      logGroup,
      logStream,
      timestamp: raw.timestamp,
      ingestionTime: raw.ingestionTime,
      message: raw.message,
    };
    const parsed = parseRecord(raw.message);
    if (parsed.kind === 'unparseable') unparseable += 1;
    const result = transformRecord(record, parsed, chain);
    events.push(toOutboundEvent(result.event, logStream));
    eventTimes.push(result.event.time);
    for (const { finding, event } of result.findings) {
      findings[finding.kind] = (findings[finding.kind] ?? 0) + 1;
      events.push(toOutboundEvent(event, logStream));
    }
  }
  return {
    events,
    parsed: batch.events.length - unparseable,
    unparseable,
    findings,
    eventTimes,
  };
}
