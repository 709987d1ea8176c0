/**
 * What a per-item `_bulk` answer means for the event. Only a refusal of the document itself
 * (mapping or parse error, a document too large) is permanent and goes to the dead letter. An
 * answer about the index or the caller (permissions, an index missing with auto-create off, a
 * write block, a closed index, an invalid index name, an alias without a write index, a missing
 * ingest pipeline, a limiting index setting, an index mapped otherwise than the template) says
 * nothing about the event: the write is
 * retried until someone fixes the cluster, so no event is dead-lettered for a configuration
 * problem (README "Delivery").
 */
import { templateFieldType } from './opensearch-template.js';
import type { RefusalReason, RejectionKind } from './sink.js';

export type ItemVerdict =
  | { readonly action: 'delivered' }
  | { readonly action: 'duplicate' }
  | { readonly action: 'retry' }
  | { readonly action: 'reject' }
  | { readonly action: 'refused'; readonly reason: RefusalReason; readonly redirectable: boolean };

/** Error types that name a problem of the index or the caller, whatever the status says. */
const REFUSAL_TYPES: Readonly<Record<string, RefusalReason>> = {
  security_exception: 'forbidden',
  index_not_found_exception: 'index_not_found',
  cluster_block_exception: 'index_blocked',
  index_closed_exception: 'index_closed',
  invalid_index_name_exception: 'invalid_index_name',
};

/**
 * 400s that name the index's configuration, not the document: told apart by the node's reason
 * text (the error type, `illegal_argument_exception`, is the same as for a bad field value).
 * Reasons as OpenSearch 2.19 words them, checked against the stack's node.
 */
const CONFIGURATION_REASONS: ReadonlyArray<readonly [RegExp, RefusalReason]> = [
  [/no write index is defined for alias/i, 'no_write_index'],
  [/alias \[[^\]]*\] has more than one ind(ex|ices) associated/i, 'no_write_index'],
  [/pipeline with id \[[^\]]*\] does not exist/i, 'pipeline_missing'],
  // "Limit of total fields [1000] has been exceeded", "Limit of mapping depth [20] …".
  [/limit of [a-z ]+\[\d+\] (has been )?exceeded/i, 'index_setting'],
];

/** `failed to parse field [time] of type [boolean]`: the field and the type the index maps. */
const FIELD_OF_TYPE = /failed to parse field \[([^\]]+)\] of type \[([^\]]+)\]/;

/**
 * Whether a 400 is about the index rather than the document. A mapping error is the document's
 * fault only where the index maps the field as the forwarder's template does: a field the index
 * maps otherwise (or a strict mapping, which the template never sets) means an index that the
 * template did not create, such as one created in advance.
 */
export function configurationRefusal(
  errorType: string | undefined,
  reason: string | undefined,
): RefusalReason | undefined {
  if (errorType === 'strict_dynamic_mapping_exception') return 'mapping_conflict';
  if (reason === undefined) return undefined;
  for (const [pattern, refusal] of CONFIGURATION_REASONS) {
    if (pattern.test(reason)) return refusal;
  }
  if (errorType === 'mapper_parsing_exception' || errorType === 'document_parsing_exception') {
    const field = FIELD_OF_TYPE.exec(reason);
    if (field !== null && templateFieldType(field[1] ?? '') !== field[2]) {
      return 'mapping_conflict';
    }
  }
  return undefined;
}

export function classifyItem(
  status: number,
  errorType: string | undefined,
  reason?: string,
): ItemVerdict {
  if (status === 200 || status === 201) return { action: 'delivered' };
  if (status === 409) return { action: 'duplicate' };
  if (status === 400) {
    const refusal = configurationRefusal(errorType, reason);
    if (refusal !== undefined) return { action: 'refused', reason: refusal, redirectable: false };
  }
  const known = errorType === undefined ? undefined : REFUSAL_TYPES[errorType];
  if (known !== undefined) {
    // A flood-stage disk block answers 429 and lifts itself once space is freed; a write block
    // (ISM read_only, index.blocks.write) or a closed index stays until someone acts, so only
    // those may be routed to the late index.
    const redirectable = (known === 'index_blocked' && status !== 429) || known === 'index_closed';
    return { action: 'refused', reason: known, redirectable };
  }
  if (status === 429 || status >= 500) return { action: 'retry' };
  // 400 is a document the index cannot take (mapper_parsing_exception, document_parsing_exception,
  // illegal_argument_exception on a field) and 413 a document too large: the event is at fault.
  if (status === 400 || status === 413) return { action: 'reject' };
  if (status === 401 || status === 403)
    return { action: 'refused', reason: 'forbidden', redirectable: false };
  if (status === 404) return { action: 'refused', reason: 'index_not_found', redirectable: false };
  // An answer this code does not know is not proof that the event is bad: hold it.
  return { action: 'refused', reason: 'other', redirectable: false };
}

/** Error types of a document that does not fit the index mapping. */
const MAPPING_TYPES = new Set([
  'mapper_parsing_exception',
  'document_parsing_exception',
  'strict_dynamic_mapping_exception',
  'illegal_argument_exception',
]);

/** Error types of a document that is not valid JSON to the node. */
const PARSE_TYPES = new Set([
  'parse_exception',
  'x_content_parse_exception',
  'json_parse_exception',
]);

/** The kind of an item {@link classifyItem} rejects, from what the node said about it. */
export function itemRejectionKind(status: number, errorType: string | undefined): RejectionKind {
  if (status === 413) return 'too_large';
  if (errorType !== undefined && MAPPING_TYPES.has(errorType)) return 'mapping_error';
  if (errorType !== undefined && PARSE_TYPES.has(errorType)) return 'invalid_event';
  return 'rejected';
}

/** What to fix, per reason, for the error log and the readiness detail. */
export function refusalHint(reason: RefusalReason, prefix: string): string {
  switch (reason) {
    case 'forbidden':
      return `check the credentials and grant the forwarder's role create_index and write (index, create) on ${prefix}-*`;
    case 'index_not_found':
      return `automatic index creation is off: allow ${prefix}-* in the cluster setting action.auto_create_index, or create the index`;
    case 'index_blocked':
      return 'the index has a write block (index.blocks.write / read_only, e.g. set by ISM on an old index, or a full disk): lift it, or set opensearch.lateIndex=true to send such events to the late index';
    case 'index_closed':
      return 'the index is closed: open it (POST <index>/_open), or set opensearch.lateIndex=true to send such events to the late index';
    case 'invalid_index_name':
      return 'the index name is invalid: fix opensearch.indexPrefix';
    case 'no_write_index':
      return `the day's index name is an alias without a write index: mark one of its indices is_write_index, or remove the alias so that the template creates ${prefix}-YYYY.MM.DD`;
    case 'pipeline_missing':
      return 'the index names an ingest pipeline that does not exist (index.default_pipeline or index.final_pipeline, set on the index or by another template): create the pipeline, or remove the setting';
    case 'index_setting':
      return `an index setting limits the document (e.g. index.mapping.total_fields.limit): raise it, or let the index be created from the forwarder's template (${prefix}-template)`;
    case 'mapping_conflict':
      return `the index maps a field otherwise than the forwarder's template (${prefix}-template): it was created in advance or by another template of higher priority. Delete or reindex it so that the template creates it, or fix the other template`;
    case 'other':
      return 'OpenSearch refused the write for a reason that is not the document: check the index settings and the permissions';
  }
}
