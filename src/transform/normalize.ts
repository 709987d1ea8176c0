/**
 * Parsed CloudHSM record → OCSF 1.1.0 event (docs/ocsf-mapping.md).
 * Pure: no I/O, no clock; the same input always gives the same event.
 *
 * `unmapped.cloudhsm` keeps only what the event has no attribute for, or what its attribute
 * loses (README "What it emits" lists the keys per record kind); `raw_data` keeps the whole text.
 *
 * Deliberate deviations from a field-for-field mapping:
 * - `unmapped.cloudhsm` values are strings (`time_usecs` too), so the OpenSearch mapping has
 *   one stable type per key.
 * - `entity.data` carries handles as strings: hsm2m handles can exceed 2^53.
 */

import {
  DEFAULT_OPCODE_MAPPING,
  FAILURE_SEVERITY_ID,
  OPCODE_MAPPINGS,
  STATUS_CAPTIONS,
  USER_TYPES,
} from './mapping-table.js';
import type { OpcodeMapping, UserTypeMapping } from './mapping-table.js';
import type {
  CloudHsmUnmapped,
  OcsfEntity,
  OcsfEvent,
  OcsfObservable,
  OcsfUser,
} from './ocsf-event.js';
import { parseRecord } from './parse.js';
import type { HsmRecord, NameCode, ParsedRecord } from './parsed-record.js';
import type { SourceRecord } from './source-record.js';
import { join } from '../util/flat-string.js';
import {
  baseMetadata,
  buildCloud,
  buildDevice,
  classifyRow,
  clip,
  cloudwatchFields,
  clusterIdOf,
  eventTime,
  finishMetadata,
  HSM_FEATURE,
  lookup,
  MAX_SAFE_BIGINT,
  severityCaption,
} from './ocsf-builders.js';
import type { NormalizeContext } from './ocsf-builders.js';
import { normalizeCertStore, normalizeUnparseable } from './normalize-other-records.js';

export type { OcsfEvent } from './ocsf-event.js';
export type { NormalizeContext } from './ocsf-builders.js';

/** Parse and normalize one CloudWatch event. Never throws for any message. */
export function toOcsfEvent(record: SourceRecord, context: NormalizeContext = {}): OcsfEvent {
  return normalize(record, parseRecord(record.message), context);
}

/** Map one parsed record to its OCSF event. */
export function normalize(
  record: SourceRecord,
  parsed: ParsedRecord,
  context: NormalizeContext,
): OcsfEvent {
  switch (parsed.kind) {
    case 'hsm':
      return normalizeHsm(record, parsed, context);
    case 'certstore':
      return normalizeCertStore(record, parsed, context);
    case 'unparseable':
      return normalizeUnparseable(record, parsed, context);
  }
}

// ---------------------------------------------------------------------------------------------
// HSM text records.

function userTypeOf(type: NameCode | undefined): UserTypeMapping | undefined {
  if (type === undefined) return undefined;
  return lookup(USER_TYPES, type.name) ?? { typeId: 99, type: type.name, short: type.name };
}

function buildUser(
  name: string | undefined,
  type: NameCode | undefined,
  uid: string | undefined,
): OcsfUser | undefined {
  if (name === undefined && uid === undefined && type === undefined) return undefined;
  const user: OcsfUser = {};
  if (name !== undefined) user.name = name;
  const mapped = userTypeOf(type);
  if (mapped !== undefined) {
    user.type_id = mapped.typeId;
    user.type = mapped.type;
  }
  if (uid !== undefined) user.uid = uid;
  return user;
}

/** `user` is required by 3001/3002; a record without one still needs a valid object. */
function requiredUser(user: OcsfUser | undefined, warnings: string[]): OcsfUser {
  if (user !== undefined && (user.name !== undefined || user.uid !== undefined)) return user;
  warnings.push('no user name or id in a user record');
  return { ...user, name: 'unknown' };
}

function hsmMapping(parsed: HsmRecord): { mapping: OpcodeMapping; activityName: string } {
  const opcode = parsed.opcode?.name;
  const mapping = opcode === undefined ? undefined : lookup(OPCODE_MAPPINGS, opcode);
  if (mapping !== undefined) return { mapping, activityName: mapping.activityName };
  const name = opcode ?? parsed.commandType?.name ?? DEFAULT_OPCODE_MAPPING.activityName;
  return { mapping: DEFAULT_OPCODE_MAPPING, activityName: name };
}

function normalizeHsm(
  record: SourceRecord,
  parsed: HsmRecord,
  context: NormalizeContext,
): OcsfEvent {
  const { values } = parsed;
  // A copy: requiredUser may add one, and the event must not share the parsed record's array.
  const warnings = parsed.warnings.length === 0 ? [] : parsed.warnings.slice();
  const { mapping, activityName } = hsmMapping(parsed);
  const hsmId = record.logStream;
  const opcodeName = parsed.opcode?.name;
  const response = parsed.response;

  let statusId = 0;
  if (response?.success === true) statusId = 1;
  else if (response?.success === false) statusId = 2;
  const severityId = statusId === 2 ? FAILURE_SEVERITY_ID : mapping.severityId;

  const metadata = baseMetadata(record, parsed, HSM_FEATURE, true);
  if (opcodeName !== undefined) metadata.event_code = opcodeName;
  const seq = parsed.sequenceNo?.value;
  if (seq !== undefined && seq <= MAX_SAFE_BIGINT) {
    metadata.sequence = Number(seq);
  }
  metadata.original_time = parsed.time.text;
  finishMetadata(metadata, record);

  const session = values.session_handle;
  const hasTarget = values.target_user_name !== undefined || values.target_user_type !== undefined;
  let subject: OcsfUser | undefined;
  let actorUser: OcsfUser | undefined;
  let entity: OcsfEntity | undefined;
  if (mapping.classUid === 3002) {
    subject = requiredUser(buildUser(values.user_name, parsed.userType, values.user_id), warnings);
  } else if (mapping.classUid === 3001) {
    // Newer firmware names the target separately; `User *` then describes the actor.
    if (hasTarget) {
      subject = buildUser(values.target_user_name, parsed.targetUserType, values.target_user_id);
      actorUser = buildUser(values.user_name, parsed.userType, values.user_id);
    } else {
      subject = buildUser(values.user_name, parsed.userType, undefined);
      if (values.user_id !== undefined) actorUser = { uid: values.user_id };
    }
    subject = requiredUser(subject, warnings);
  } else {
    actorUser = buildUser(values.user_name, parsed.userType, values.user_id);
    entity = hsmEntity(parsed, mapping, hsmId);
  }
  // A role alone identifies nobody, and OCSF requires a name or uid on a user (the role stays in
  // `unmapped.cloudhsm.user_type`).
  if (actorUser?.name === undefined && actorUser?.uid === undefined) actorUser = undefined;

  const observables: OcsfObservable[] = [
    { name: 'device.uid', type_id: 10, type: 'Resource UID', value: hsmId },
  ];
  if (subject?.name !== undefined && subject.name !== 'unknown') {
    observables.push({ name: 'user.name', type_id: 4, type: 'User Name', value: subject.name });
  }
  if (actorUser?.name !== undefined) {
    observables.push({
      name: 'actor.user.name',
      type_id: 4,
      type: 'User Name',
      value: actorUser.name,
    });
  }

  // Built in the canonical key order ({@link reorder}) straight away: copying a finished event
  // into a second object in that order cost ~7 % of the whole parse benchmark. The head is one
  // literal (its keys in-object); the rest follow in order, each only when present.
  const c = classifyRow(mapping, activityName);
  const event = {
    class_uid: c.class_uid,
    class_name: c.class_name,
    category_uid: c.category_uid,
    category_name: c.category_name,
    activity_id: c.activity_id,
    activity_name: c.activity_name,
    type_uid: c.type_uid,
    type_name: c.type_name,
    time: eventTime(record, parsed),
    timezone_offset: 0,
    severity_id: severityId,
    severity: severityCaption(severityId),
    status_id: statusId,
    status: STATUS_CAPTIONS[statusId] ?? 'Unknown',
  } as OcsfEvent;
  if (response?.code !== undefined) event.status_code = response.code;
  if (response !== undefined) {
    event.status_detail = statusId === 1 ? (mapping.statusDetail ?? response.text) : response.text;
  }
  event.message = clip(hsmMessage(parsed, mapping, subject, entity, hsmId));
  event.metadata = metadata;
  event.cloud = buildCloud(context);
  event.device = buildDevice(record, context);
  if (subject !== undefined) event.user = subject;
  if (mapping.classUid === 3002) {
    if (session !== undefined) event.session = { uid: session };
  } else if (session !== undefined || actorUser !== undefined) {
    const actor: NonNullable<OcsfEvent['actor']> = {};
    if (session !== undefined) actor.session = { uid: session };
    if (actorUser !== undefined) actor.user = actorUser;
    event.actor = actor;
  }
  if (entity !== undefined) event.entity = entity;
  if (mapping.classUid === 3002) {
    event.dst_endpoint = { uid: hsmId, name: hsmId };
    event.service = { name: 'AWS CloudHSM', uid: clusterIdOf(record.logGroup) };
    event.is_remote = true;
  }
  event.observables = observables;
  event.raw_data = record.message;
  event.unmapped = {
    cloudhsm: hsmUnmapped(record, parsed, event, mapping.classUid === 3001 && hasTarget, warnings),
  };
  return event;
}

function hsmEntity(parsed: HsmRecord, mapping: OpcodeMapping, hsmId: string): OcsfEntity {
  const { values } = parsed;
  const type = mapping.entityType ?? 'HSM';
  const data: Record<string, unknown> = {};
  const handle = values.priv_secret_key_handle ?? values.key_handle;
  if (handle !== undefined) data.key_handle = handle;
  if (values.key_handle !== undefined && values.key_handle !== handle) {
    data.single_key_handle = values.key_handle;
  }
  const publicHandle = values.public_key_handle;
  if (publicHandle !== undefined && publicHandle !== '0') data.public_key_handle = publicHandle;
  if (values.mechanism !== undefined) data.mechanism = values.mechanism;
  if (parsed.operation !== undefined) data.operation = parsed.operation.name;
  if (values.number_of_users !== undefined) data.number_of_users = values.number_of_users;
  if (values.user_ids !== undefined) data.user_ids = values.user_ids;

  let entity: OcsfEntity;
  switch (type) {
    case 'Key':
      entity =
        handle === undefined
          ? { name: 'key (handle not logged)', type }
          : { uid: handle, name: join('key handle ', handle), type };
      break;
    case 'HSM':
    case 'Log Stream':
      entity = { uid: hsmId, name: hsmId, type };
      break;
    case 'Quorum Token':
      entity = { name: 'quorum token', type };
      break;
    case 'Quorum Policy':
      entity = { name: 'quorum policy', type };
      break;
    case 'Certificate':
      entity = { name: 'cluster certificate', type };
      break;
  }
  if (Object.keys(data).length > 0) entity.data = data;
  return entity;
}

function hsmMessage(
  parsed: HsmRecord,
  mapping: OpcodeMapping,
  subject: OcsfUser | undefined,
  entity: OcsfEntity | undefined,
  hsmId: string,
): string {
  const opcode = parsed.opcode?.name ?? parsed.commandType?.name ?? 'unknown opcode';
  const outcome = parsed.response?.text ?? 'no response';
  let who = '';
  if (subject?.name !== undefined) {
    const short = userTypeOf(mapping.classUid === 3001 ? targetType(parsed) : parsed.userType);
    const role = short === undefined ? '' : ` (${short.short})`;
    who = `${mapping.classUid === 3002 ? ' by' : ' for'} ${subject.name}${role}`;
  } else if (entity?.type === 'Key' && entity.uid !== undefined) {
    who = ` key ${entity.uid}`;
  }
  return join(opcode, who, ' on ', hsmId, ': ', outcome);
}

function targetType(parsed: HsmRecord): NameCode | undefined {
  return parsed.values.target_user_name !== undefined || parsed.targetUserType !== undefined
    ? parsed.targetUserType
    : parsed.userType;
}

/**
 * `unmapped.cloudhsm` of an HSM record: only the source fields the event has no attribute for,
 * or whose attribute loses part of them; `raw_data` keeps the whole text. Which fields that is
 * follows from what this event actually holds (e.g. key handles are in `entity.data` only for
 * Entity Management events, and a sequence beyond 2^53 has no `metadata.sequence`).
 * Fixed key order, so every event of one shape shares a hidden class.
 */
function hsmUnmapped(
  record: SourceRecord,
  parsed: HsmRecord,
  event: OcsfEvent,
  targetMapped: boolean,
  warnings: string[],
): CloudHsmUnmapped {
  const v = parsed.values;
  const entityMapped = event.entity !== undefined;
  // `time` has milliseconds, the HSM prints microseconds.
  const out: CloudHsmUnmapped = { time_usecs: parsed.time.usecs };
  if (v.version_no !== undefined) out.version_no = v.version_no;
  if (v.sequence_no !== undefined && event.metadata.sequence === undefined) {
    out.sequence_no = v.sequence_no;
  }
  // No OCSF attribute; only part of `metadata.uid`, and only when the sequence is valid too.
  if (v.reboot_counter !== undefined) out.reboot_counter = v.reboot_counter;
  if (v.command_type !== undefined) out.command_type = v.command_type;
  // `metadata.event_code` is the name only; the printed code would be lost.
  if (v.opcode !== undefined && v.opcode !== event.metadata.event_code) {
    out.opcode = v.opcode;
  }
  if (v.response !== undefined && !responseMapped(parsed, event)) out.response = v.response;
  if (v.log_type !== undefined) out.log_type = v.log_type;
  // `type_id` merges roles (crypto officer and pre-officer are both 2 Admin) and drops the code.
  if (v.user_type !== undefined) out.user_type = v.user_type;
  if (v.target_user_name !== undefined && !targetMapped) out.target_user_name = v.target_user_name;
  if (v.target_user_type !== undefined) out.target_user_type = v.target_user_type;
  if (v.target_user_id !== undefined && !targetMapped) out.target_user_id = v.target_user_id;
  if (!entityMapped) {
    if (v.priv_secret_key_handle !== undefined) {
      out.priv_secret_key_handle = v.priv_secret_key_handle;
    }
    if (v.key_handle !== undefined) out.key_handle = v.key_handle;
    if (v.mechanism !== undefined) out.mechanism = v.mechanism;
    if (v.number_of_users !== undefined) out.number_of_users = v.number_of_users;
    if (v.user_ids !== undefined) out.user_ids = v.user_ids;
  }
  // `0` means "no public key" and is left out of `entity.data`.
  if (v.public_key_handle !== undefined && (!entityMapped || v.public_key_handle === '0')) {
    out.public_key_handle = v.public_key_handle;
  }
  if (v.mfa_enabled !== undefined) out.mfa_enabled = v.mfa_enabled;
  if (v.operation !== undefined && (!entityMapped || v.operation !== parsed.operation?.name)) {
    out.operation = v.operation;
  }
  if (v.local_time !== undefined) out.local_time = v.local_time;
  if (v.host_time !== undefined) out.host_time = v.host_time;
  if (v.propagation_delay !== undefined) out.propagation_delay = v.propagation_delay;
  if (parsed.extraFields.length > 0) out.extra_fields = parsed.extraFields;
  if (parsed.strayLines.length > 0) out.stray_lines = parsed.strayLines;
  if (warnings.length > 0) out.parse_warnings = warnings;
  cloudwatchFields(record, event, out);
  return out;
}

/**
 * True when `status_code`, `status_detail` and `status_id` say all the `Response` line says:
 * code, text, and `HSM Return` for success / `HSM Error` for failure.
 */
function responseMapped(parsed: HsmRecord, event: OcsfEvent): boolean {
  const r = parsed.response;
  if (r?.code === undefined || r.kind === undefined) return false;
  if (event.status_code !== r.code || event.status_detail !== r.text) return false;
  return r.kind === 'Return' ? event.status_id === 1 : event.status_id === 2;
}
