/**
 * Parsed CloudHSM record → OCSF 1.1.0 event (ocsf-mapping.md §3–§8, example events §7.6).
 * Pure: no I/O, no clock; the same input always gives the same event.
 *
 * `unmapped.cloudhsm` keeps only what the event has no attribute for, or what its attribute
 * loses (README "What it emits" lists the keys per record kind); `raw_data` keeps the whole text.
 *
 * Deliberate deviations from the §7.6 examples:
 * - `unmapped.cloudhsm` values are strings (`time_usecs` too), so the OpenSearch mapping has
 *   one stable type per key.
 * - `entity.data` carries handles as strings: hsm2m handles can exceed 2^53.
 */
import { createHash } from 'node:crypto';

import {
  ACTIVITY_CAPTIONS,
  CERT_STORE_MAPPINGS,
  CLASS_INFO,
  DEFAULT_CERT_STORE_MAPPING,
  DEFAULT_OPCODE_MAPPING,
  FAILURE_SEVERITY_ID,
  OPCODE_MAPPINGS,
  SEVERITY_CAPTIONS,
  STATUS_CAPTIONS,
  UNPARSEABLE_SEVERITY_ID,
  USER_TYPES,
} from './mapping-table.js';
import type { OcsfClassUid, OpcodeMapping, UserTypeMapping } from './mapping-table.js';
import type {
  CloudHsmUnmapped,
  OcsfCloud,
  OcsfDevice,
  OcsfEntity,
  OcsfEvent,
  OcsfMetadata,
  OcsfObservable,
  OcsfProduct,
  OcsfUser,
} from './ocsf-event.js';
import { parseRecord } from './parse.js';
import type {
  CertStoreRecord,
  HsmRecord,
  NameCode,
  ParsedRecord,
  UnparseableRecord,
} from './parsed-record.js';
import type { SourceRecord } from './source-record.js';
import { flat, internFlat, join } from '../util/flat-string.js';
import { numberText } from '../util/number-text.js';
import { OCSF_VERSION } from '../util/identity.js';

export type { OcsfEvent } from './ocsf-event.js';

/** What the normalizer may know beyond the record itself; enrichment adds the rest later. */
export interface NormalizeContext {
  region?: string;
  accountId?: string;
}

const PRODUCT_NAME = 'CloudHSM';
const LOG_PROVIDER = 'AWS CloudHSM';
const MAX_MESSAGE = 1024;
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

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
// Shared helpers (also used by integrity.ts for finding events).

/** Cluster id = last segment of `/aws/cloudhsm/<cluster-id>`. */
export function clusterIdOf(logGroup: string): string {
  let end = logGroup.length;
  while (end > 0 && logGroup.charCodeAt(end - 1) === 47) end--;
  const start = logGroup.lastIndexOf('/', end - 1) + 1;
  return internFlat(logGroup.slice(start, end));
}

/** HSM streams are named with the HSM id; the certificate-storage stream is named for the cluster. */
export function isHsmStream(logStream: string): boolean {
  return logStream.startsWith('hsm-');
}

/**
 * `metadata.uid` (design §3.3). HSM records with a valid sequence and reboot counter:
 * `<hsm-id>:<reboot counter>:<sequence>`, both lower-case hex as printed. Everything else:
 * `<log-stream>:` + the first 32 hex chars of sha256 over the UTF-8 text
 * `${record.timestamp}\n${record.message}` — the CloudWatch timestamp in decimal ms, a newline,
 * and the raw message unchanged — which is stable across replays and replicas.
 */
export function eventUid(record: SourceRecord, parsed: ParsedRecord): string {
  if (
    parsed.kind === 'hsm' &&
    parsed.sequenceNo?.value !== undefined &&
    parsed.rebootCounter?.value !== undefined
  ) {
    return join(
      record.logStream,
      ':',
      parsed.rebootCounter.text.toLowerCase(),
      ':',
      parsed.sequenceNo.text.toLowerCase(),
    );
  }
  return join(record.logStream, ':', hashUid(record));
}

function hashUid(record: SourceRecord): string {
  return createHash('sha256')
    .update(`${record.timestamp}\n${record.message}`)
    .digest('hex')
    .slice(0, 32);
}

/** Event time in ms: the HSM's `usecs`, the cert-store `timestamp`, else CloudWatch's timestamp. */
export function eventTime(record: SourceRecord, parsed: ParsedRecord): number {
  if (parsed.kind === 'hsm' && parsed.time.ms !== undefined) return parsed.time.ms;
  if (parsed.kind === 'certstore' && parsed.timestampMs !== undefined) return parsed.timestampMs;
  return safeMs(record.timestamp);
}

function safeMs(value: number): number {
  return Number.isFinite(value) ? Math.trunc(value) : 0;
}

// ---------------------------------------------------------------------------------------------
// Per-event parts. Every event gets its own `cloud`, `device` and product objects: an object
// shared between events, frozen or `delete`d takes JSON.stringify off V8's fast path (measured on
// Node 26: deep-frozen shared parts cost as much as the whole serialization of a plain event),
// and a consumer that changes one event must not change another.

/** `cloud`, minimal until enrichment: provider, plus region and account when known. */
export function buildCloud(context: NormalizeContext): OcsfCloud {
  const cloud: OcsfCloud = { provider: 'AWS' };
  if (context.region !== undefined) cloud.region = context.region;
  if (context.accountId !== undefined) {
    cloud.account = { uid: context.accountId, type_id: 10, type: 'AWS Account' };
  }
  return cloud;
}

/** `device`: the HSM, grouped under its cluster. */
export function buildDevice(record: SourceRecord, context: NormalizeContext): OcsfDevice {
  const { logStream } = record;
  const clusterId = clusterIdOf(record.logGroup);
  const groups = [{ uid: clusterId, name: clusterId, type: 'CloudHSM Cluster' }];
  // One literal per shape, so every device of a run has the same hidden class.
  return context.region === undefined
    ? { type_id: 99, type: 'HSM', uid: logStream, name: logStream, groups }
    : { type_id: 99, type: 'HSM', uid: logStream, name: logStream, region: context.region, groups };
}

function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? join(text.slice(0, MAX_MESSAGE - 1), '…') : text;
}

export interface Classification {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activity_id: number;
  activity_name: string;
  type_uid: number;
  type_name: string;
}

const rowClassifications = new WeakMap<OpcodeMapping, Classification>();

/** {@link classify} for a mapping-table row, computed once per row. */
function classifyRow(mapping: OpcodeMapping, activityName: string): Classification {
  if (activityName !== mapping.activityName) {
    return classify(mapping.classUid, mapping.activityId, activityName);
  }
  let c = rowClassifications.get(mapping);
  if (c === undefined) {
    c = classify(mapping.classUid, mapping.activityId, activityName);
    rowClassifications.set(mapping, c);
  }
  return c;
}

/** class/category/activity/type uids and captions; 99 keeps its source-specific name. */
export function classify(
  classUid: OcsfClassUid,
  activityId: number,
  activityName: string,
): Classification {
  const info = CLASS_INFO[classUid];
  const caption = ACTIVITY_CAPTIONS[classUid][activityId] ?? 'Other';
  return {
    class_uid: classUid,
    class_name: info.name,
    category_uid: info.categoryUid,
    category_name: info.categoryName,
    activity_id: activityId,
    activity_name: activityId === 99 ? activityName : caption,
    type_uid: classUid * 100 + activityId,
    // With 99 the activity name is source-specific, and so is the type name (OCSF server rule).
    type_name: join(info.name, ': ', activityId === 99 ? activityName : caption),
  };
}

/** An event with its mandatory head; callers add the rest, {@link reorder} fixes the key order. */
export function newEvent(
  c: Classification,
  time: number,
  severityId: number,
  metadata: OcsfMetadata,
  cloud: OcsfCloud,
): OcsfEvent {
  // No object spread here: spreading into a literal was the hot spot of normalize.
  return {
    class_uid: c.class_uid,
    class_name: c.class_name,
    category_uid: c.category_uid,
    category_name: c.category_name,
    activity_id: c.activity_id,
    activity_name: c.activity_name,
    type_uid: c.type_uid,
    type_name: c.type_name,
    time,
    timezone_offset: 0,
    severity_id: severityId,
    severity: severityCaption(severityId),
    metadata,
    cloud,
    unmapped: { cloudhsm: {} },
  };
}

function severityCaption(id: number): string {
  return SEVERITY_CAPTIONS[id] ?? 'Other';
}

const HSM_FEATURE = 'HSM audit log';
const CERT_STORE_FEATURE = 'Certificate storage audit log';
const OTHER_FEATURE = 'CloudHSM audit log';

/** `metadata` head; `host` adds the host profile (events with a `device`). */
function baseMetadata(
  record: SourceRecord,
  parsed: ParsedRecord,
  feature: string,
  host: boolean,
): OcsfMetadata {
  const product: OcsfProduct = {
    name: PRODUCT_NAME,
    vendor_name: 'AWS',
    feature: { name: feature },
  };
  return {
    version: OCSF_VERSION,
    product,
    profiles: host ? ['cloud', 'host'] : ['cloud'],
    uid: eventUid(record, parsed),
  };
}

function finishMetadata(metadata: OcsfMetadata, record: SourceRecord): void {
  if (record.ingestionTime !== undefined && Number.isFinite(record.ingestionTime)) {
    metadata.logged_time = Math.trunc(record.ingestionTime);
  }
  metadata.log_name = record.logGroup;
  metadata.log_provider = LOG_PROVIDER;
}

/**
 * CloudWatch's own fields, each only where the event has no attribute holding it: the timestamp
 * unless it became `time` (unparseable records, or a record whose own clock is unusable), the
 * ingestion time unless it is `metadata.logged_time`, and the event id always (OCSF 1.1.0 has no
 * attribute for the source's event id; `metadata.original_event_uid` arrives in a later version).
 */
function cloudwatchFields(record: SourceRecord, event: OcsfEvent, out: CloudHsmUnmapped): void {
  if (event.time !== record.timestamp) out.cloudwatch_timestamp = numberText(record.timestamp);
  if (record.ingestionTime !== undefined && event.metadata.logged_time !== record.ingestionTime) {
    out.cloudwatch_ingestion_time = numberText(record.ingestionTime);
  }
  if (record.eventId !== undefined) out.cloudwatch_event_id = record.eventId;
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
  if (name !== undefined) user.name = flat(name);
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
  const warnings = [...parsed.warnings];
  const { mapping, activityName } = hsmMapping(parsed);
  const hsmId = record.logStream;
  const clusterId = clusterIdOf(record.logGroup);
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
  metadata.original_time = flat(parsed.time.text);
  finishMetadata(metadata, record);

  const event = newEvent(
    classifyRow(mapping, activityName),
    eventTime(record, parsed),
    severityId,
    metadata,
    buildCloud(context),
  );
  event.status_id = statusId;
  event.status = STATUS_CAPTIONS[statusId] ?? 'Unknown';
  event.device = buildDevice(record, context);
  if (response?.code !== undefined) event.status_code = response.code;
  if (response !== undefined) {
    event.status_detail = statusId === 1 ? (mapping.statusDetail ?? response.text) : response.text;
  }

  const session = values.session_handle;
  const hasTarget = values.target_user_name !== undefined || values.target_user_type !== undefined;
  let subject: OcsfUser | undefined;
  let actorUser: OcsfUser | undefined;
  if (mapping.classUid === 3002) {
    subject = requiredUser(buildUser(values.user_name, parsed.userType, values.user_id), warnings);
    event.user = subject;
    if (session !== undefined) event.session = { uid: session };
    event.dst_endpoint = { uid: hsmId, name: hsmId };
    event.service = { name: 'AWS CloudHSM', uid: clusterId };
    event.is_remote = true;
  } else if (mapping.classUid === 3001) {
    // Newer firmware names the target separately; `User *` then describes the actor (§5.2).
    if (hasTarget) {
      subject = buildUser(values.target_user_name, parsed.targetUserType, values.target_user_id);
      actorUser = buildUser(values.user_name, parsed.userType, values.user_id);
    } else {
      subject = buildUser(values.user_name, parsed.userType, undefined);
      if (values.user_id !== undefined) actorUser = { uid: values.user_id };
    }
    subject = requiredUser(subject, warnings);
    event.user = subject;
  } else {
    actorUser = buildUser(values.user_name, parsed.userType, values.user_id);
    event.entity = hsmEntity(parsed, mapping, hsmId);
  }
  // A role alone identifies nobody, and OCSF requires a name or uid on a user (the role stays in
  // `unmapped.cloudhsm.user_type`).
  if (actorUser?.name === undefined && actorUser?.uid === undefined) actorUser = undefined;
  if (mapping.classUid !== 3002 && (session !== undefined || actorUser !== undefined)) {
    event.actor = {};
    if (session !== undefined) event.actor.session = { uid: session };
    if (actorUser !== undefined) event.actor.user = actorUser;
  }

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
  event.observables = observables;
  event.message = clip(hsmMessage(parsed, mapping, subject, event.entity, hsmId));
  event.raw_data = record.message;
  event.unmapped.cloudhsm = hsmUnmapped(
    record,
    parsed,
    event,
    mapping.classUid === 3001 && hasTarget,
    warnings,
  );
  return reorder(event);
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
          : { uid: flat(handle), name: join('key handle ', handle), type };
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
  const out: CloudHsmUnmapped = { time_usecs: flat(parsed.time.usecs) };
  if (v.version_no !== undefined) out.version_no = v.version_no;
  if (v.sequence_no !== undefined && event.metadata.sequence === undefined) {
    out.sequence_no = v.sequence_no;
  }
  // No OCSF attribute; only part of `metadata.uid`, and only when the sequence is valid too.
  if (v.reboot_counter !== undefined) out.reboot_counter = v.reboot_counter;
  if (v.command_type !== undefined) out.command_type = internFlat(v.command_type);
  // `metadata.event_code` is the name only; the printed code would be lost.
  if (v.opcode !== undefined && v.opcode !== event.metadata.event_code) {
    out.opcode = internFlat(v.opcode);
  }
  if (v.response !== undefined && !responseMapped(parsed, event)) out.response = v.response;
  if (v.log_type !== undefined) out.log_type = internFlat(v.log_type);
  // `type_id` merges roles (crypto officer and pre-officer are both 2 Admin) and drops the code.
  if (v.user_type !== undefined) out.user_type = internFlat(v.user_type);
  if (v.target_user_name !== undefined && !targetMapped) out.target_user_name = v.target_user_name;
  if (v.target_user_type !== undefined) out.target_user_type = internFlat(v.target_user_type);
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

// ---------------------------------------------------------------------------------------------
// Certificate-storage JSON records (§5.6).

function normalizeCertStore(
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
  if (parsed.response !== undefined) event.status_code = parsed.response;
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
// Unparseable records: still an event (design §5), Entity Management / Other on the stream.

function normalizeUnparseable(
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
  event.message = clip(`Unparseable CloudHSM audit record on ${record.logStream}: ${parsed.error}`);
  event.raw_data = record.message;
  // The stream is `entity.uid`, the CloudWatch timestamp is `time`.
  const out: CloudHsmUnmapped = { parse_error: parsed.error };
  cloudwatchFields(record, event, out);
  event.unmapped.cloudhsm = out;
  return reorder(event);
}

// Key order of the emitted JSON follows §7.6 so that golden files and humans read alike.
// Named stores in a fixed order keep every event on the same few hidden classes, which is
// what makes normalize + JSON.stringify fast (a keyed loop here cost ~10x).
/** Rebuilds the event with its keys in the canonical order. */
export function reorder(e: OcsfEvent): OcsfEvent {
  const out = {} as OcsfEvent;
  out.class_uid = e.class_uid;
  out.class_name = e.class_name;
  out.category_uid = e.category_uid;
  out.category_name = e.category_name;
  out.activity_id = e.activity_id;
  out.activity_name = e.activity_name;
  out.type_uid = e.type_uid;
  out.type_name = e.type_name;
  out.time = e.time;
  if (e.timezone_offset !== undefined) out.timezone_offset = e.timezone_offset;
  out.severity_id = e.severity_id;
  out.severity = e.severity;
  if (e.status_id !== undefined) out.status_id = e.status_id;
  if (e.status !== undefined) out.status = e.status;
  if (e.status_code !== undefined) out.status_code = e.status_code;
  if (e.status_detail !== undefined) out.status_detail = e.status_detail;
  if (e.message !== undefined) out.message = e.message;
  out.metadata = e.metadata;
  out.cloud = e.cloud;
  if (e.device !== undefined) out.device = e.device;
  if (e.user !== undefined) out.user = e.user;
  if (e.session !== undefined) out.session = e.session;
  if (e.actor !== undefined) out.actor = e.actor;
  if (e.entity !== undefined) out.entity = e.entity;
  if (e.dst_endpoint !== undefined) out.dst_endpoint = e.dst_endpoint;
  if (e.service !== undefined) out.service = e.service;
  if (e.is_remote !== undefined) out.is_remote = e.is_remote;
  if (e.finding_info !== undefined) out.finding_info = e.finding_info;
  if (e.resources !== undefined) out.resources = e.resources;
  if (e.confidence_id !== undefined) out.confidence_id = e.confidence_id;
  if (e.confidence !== undefined) out.confidence = e.confidence;
  if (e.observables !== undefined) out.observables = e.observables;
  if (e.raw_data !== undefined) out.raw_data = e.raw_data;
  out.unmapped = e.unmapped;
  return out;
}
