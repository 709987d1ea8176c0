/**
 * The transform chain of one CloudWatch record, shared by the forwarder (`run`, per batch) and the
 * offline `parse` command, so both emit the same events: normalize → enrich → actor inference,
 * then the integrity findings the record reveals, each enriched too. Pure apart from the two
 * stateful trackers, which move in read order.
 */
import type { ActorInference } from './actor-inference.js';
import { findingToEvent } from './integrity.js';
import type { IntegrityFinding, IntegrityTracker } from './integrity.js';
import { normalize } from './normalize.js';
import type { NormalizeContext } from './ocsf-builders.js';
import type { OcsfEvent } from './ocsf-event.js';
import type { ParsedRecord } from './parsed-record.js';
import type { SourceRecord } from './source-record.js';

/** Post-normalization step (enrichment); identity when enrichment is off. */
export type EventEnricher = (event: OcsfEvent) => OcsfEvent;

export interface TransformChain {
  readonly integrity: IntegrityTracker;
  /** Optional: infers the acting user from the logins before an event (marked as inferred). */
  readonly actors?: ActorInference;
  readonly context: NormalizeContext;
  readonly enrich?: EventEnricher;
  /** Epoch ms: starts the repair window of a gap the record reveals. @default 0 */
  readonly now?: number;
}

export interface TransformedRecord {
  readonly event: OcsfEvent;
  readonly findings: readonly { readonly finding: IntegrityFinding; readonly event: OcsfEvent }[];
}

export function transformRecord(
  record: SourceRecord,
  parsed: ParsedRecord,
  chain: TransformChain,
): TransformedRecord {
  const { integrity, actors, context } = chain;
  const enrich = chain.enrich ?? ((event: OcsfEvent) => event);
  const enriched = enrich(normalize(record, parsed, context));
  const event = actors === undefined ? enriched : actors.observe(enriched, parsed);
  const findings = integrity.observe(record, parsed, chain.now).map((finding) => ({
    finding,
    event: enrich(findingToEvent(finding, record, context, parsed)),
  }));
  return { event, findings };
}
