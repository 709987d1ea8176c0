/**
 * Certificate-storage JSON records and records the parser does not understand, as OCSF events
 * (docs/ocsf-mapping.md, Per class; an unparseable record is still an event, never dropped).
 */

import {
  CERT_STORE_MAPPINGS,
  DEFAULT_CERT_STORE_MAPPING,
  FAILURE_SEVERITY_ID,
  STATUS_CAPTIONS,
  UNPARSEABLE_SEVERITY_ID,
} from './mapping-table.js';
import type { CloudHsmUnmapped, OcsfEntity, OcsfEvent } from './ocsf-event.js';
import type { CertStoreRecord, UnparseableRecord } from './parsed-record.js';
import type { SourceRecord } from './source-record.js';
import { flat, join, term } from '../util/flat-string.js';
import { isHsmStream } from '../util/identity.js';
import {
  baseMetadata,
  buildCloud,
  buildDevice,
  CERT_STORE_FEATURE,
  classify,
  clip,
  cloudwatchFields,
  clusterIdOf,
  eventTime,
  finishMetadata,
  HSM_FEATURE,
  lookup,
  newEvent,
  OTHER_FEATURE,
  reorder,
} from './ocsf-builders.js';
import type { NormalizeContext } from './ocsf-builders.js';

// ---------------------------------------------------------------------------------------------
// Certificate-storage JSON records.

export function normalizeCertStore(
  record: SourceRecord,
  parsed: CertStoreRecord,
  context: NormalizeContext,
): OcsfEvent {
  const clusterId = clusterIdOf(record.logGroup);
  const opCode = parsed.opCode;
  const mapping =
    (opCode === undefined ? undefined : lookup(CERT_STORE_MAPPINGS, opCode)) ??
    DEFAULT_CERT_STORE_MAPPING;
  const activityName =
    mapping === DEFAULT_CERT_STORE_MAPPING ? (opCode ?? 'Other') : mapping.activityName;
  let statusId = 0;
  if (parsed.response === 'OK') statusId = 1;
  else if (parsed.response !== undefined) statusId = 2;
  const severityId = statusId === 2 ? FAILURE_SEVERITY_ID : mapping.severityId;

  const metadata = baseMetadata(record, parsed, CERT_STORE_FEATURE, false);
  if (opCode !== undefined) metadata.event_code = opCode;
  if (parsed.timestamp !== undefined) metadata.original_time = flat(parsed.timestamp);
  finishMetadata(metadata, record);

  const handle = parsed.objectHandle;
  const entity: OcsfEntity =
    typeof handle === 'string'
      ? { uid: flat(handle), name: join('certificate object ', handle), type: 'Certificate' }
      : { name: 'certificate object', type: 'Certificate' };
  if (Array.isArray(parsed.attributes)) {
    entity.data = { modified_attributes: parsed.attributes };
  }

  const event = newEvent(
    classify(mapping.classUid, mapping.activityId, activityName),
    eventTime(record, parsed),
    severityId,
    metadata,
    buildCloud(context),
  );
  event.status_id = statusId;
  event.status = STATUS_CAPTIONS[statusId] ?? 'Unknown';
  event.entity = entity;
  if (parsed.response !== undefined) event.status_code = term(parsed.response);
  event.message = clip(
    join(
      opCode ?? 'unknown op_code',
      ' of ',
      entity.name,
      ' in ',
      clusterId,
      ': ',
      parsed.response ?? 'no response',
    ),
  );
  event.raw_data = record.message;

  // The stream has no attribute here (no `device`: the stream is named for the cluster).
  const out: CloudHsmUnmapped = { log_stream: record.logStream };
  // `null` and a missing handle both leave `entity.uid` out; keep which one it was.
  if (handle === null) out.object_handle = null;
  if (parsed.attributes === null) out.attributes = null;
  if (parsed.extraFields.length > 0) out.extra_fields = parsed.extraFields;
  if (parsed.warnings.length > 0) out.parse_warnings = parsed.warnings;
  cloudwatchFields(record, event, out);
  event.unmapped.cloudhsm = out;
  return reorder(event);
}

// ---------------------------------------------------------------------------------------------
// Unparseable records: still an event (nothing is dropped), Entity Management / Other on the stream.

export function normalizeUnparseable(
  record: SourceRecord,
  parsed: UnparseableRecord,
  context: NormalizeContext,
): OcsfEvent {
  const hsm = isHsmStream(record.logStream);
  const metadata = hsm
    ? baseMetadata(record, parsed, HSM_FEATURE, true)
    : baseMetadata(record, parsed, OTHER_FEATURE, false);
  finishMetadata(metadata, record);
  const event = newEvent(
    classify(3004, 99, 'Other'),
    eventTime(record, parsed),
    UNPARSEABLE_SEVERITY_ID,
    metadata,
    buildCloud(context),
  );
  event.status_id = 0;
  event.status = 'Unknown';
  event.entity = {
    uid: record.logStream,
    name: record.logStream,
    type: hsm ? 'HSM' : 'Log Stream',
  };
  if (hsm) event.device = buildDevice(record, context);
  event.message = clip(
    join('Unparseable CloudHSM audit record on ', record.logStream, ': ', parsed.error),
  );
  event.raw_data = record.message;
  // The stream is `entity.uid`, the CloudWatch timestamp is `time`.
  const out: CloudHsmUnmapped = { parse_error: flat(parsed.error) };
  cloudwatchFields(record, event, out);
  event.unmapped.cloudhsm = out;
  return reorder(event);
}
