/**
 * The parts every OCSF event of this forwarder is built from (docs/ocsf-mapping.md): identity, time, classification, metadata, cloud and device, and the canonical key order.
 * Pure: no I/O, no clock. Used by the normalizers of each record kind and by integrity findings.
 */
import { ACTIVITY_CAPTIONS, CLASS_INFO, SEVERITY_CAPTIONS } from './mapping-table.js';
import type { OcsfClassUid, OpcodeMapping } from './mapping-table.js';
import type {
  CloudHsmUnmapped,
  OcsfCloud,
  OcsfDevice,
  OcsfEvent,
  OcsfMetadata,
  OcsfProduct,
} from './ocsf-event.js';
import type { ParsedRecord } from './parsed-record.js';
import type { SourceRecord } from './source-record.js';
import { flat, join } from '../util/flat-string.js';
import { numberText } from '../util/number-text.js';
import { messageHash, OCSF_VERSION } from '../util/identity.js';

/** What the normalizer may know beyond the record itself; enrichment adds the rest later. */
export interface NormalizeContext {
  region?: string;
  accountId?: string;
}

const PRODUCT_NAME = 'CloudHSM';
const LOG_PROVIDER = 'AWS CloudHSM';
const MAX_MESSAGE = 1024;
export const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by integrity.ts for finding events).

/** Cluster id = last segment of `/aws/cloudhsm/<cluster-id>`. */
export function clusterIdOf(logGroup: string): string {
  if (logGroup === last.group) return last.clusterId;
  let id = CLUSTER_IDS.get(logGroup);
  if (id === undefined) {
    let end = logGroup.length;
    while (end > 0 && logGroup.charCodeAt(end - 1) === 47) end--;
    const start = logGroup.lastIndexOf('/', end - 1) + 1;
    // A sequential copy, not a view into the group's name: it goes into every event (flat-string).
    id = flat(logGroup.slice(start, end));
    if (CLUSTER_IDS.size < MAX_CLUSTER_IDS) CLUSTER_IDS.set(logGroup, id);
  }
  last.group = logGroup;
  last.clusterId = id;
  return id;
}

// Per log group, computed once: a forwarder sees a handful of groups. Bounded all the same.
const CLUSTER_IDS = new Map<string, string>();
const MAX_CLUSTER_IDS = 1024;

// The group and stream asked for last. A batch comes from one stream, so nearly every call asks
// for the same one again; comparing with it costs a fraction of a Map lookup, which hashes the
// name and compares it with the key (3 % of the parse benchmark for two or three lookups per
// record).
const last: { group?: string; clusterId: string; stream?: string; uidPrefix?: UidPrefix } = {
  clusterId: '',
};

/**
 * `metadata.uid` (README "What it emits", Identity). HSM records with a valid sequence and reboot counter:
 * `<hsm-id>:<reboot counter>:<sequence>`, both lower-case hex as printed. Everything else:
 * `<log-stream>:` + the first 32 hex chars of sha256 over the UTF-8 text
 * `${record.timestamp}\n${record.message}` — the CloudWatch timestamp in decimal ms, a newline,
 * and the raw message unchanged — which is stable across replays and replicas.
 */
export function eventUid(record: SourceRecord, parsed: ParsedRecord): string {
  const uid = plainUid(record, parsed);
  // The uid is OpenSearch's `_id`, at most 512 bytes: a stream name over about 480 bytes (AWS
  // allows 512) made every record of its stream a dead letter. Only such uids change: the stream
  // part becomes a readable head and a hash of the whole name. Both forms start with the stream.
  if (uid.length <= 128 || Buffer.byteLength(uid, 'utf8') <= MAX_ID_BYTES) return uid;
  const stream = record.logStream;
  return `${stream.slice(0, 64)}~${messageHash(stream)}${uid.slice(stream.length)}`;
}

/** OpenSearch's limit on `_id`, in UTF-8 bytes. */
const MAX_ID_BYTES = 512;

function plainUid(record: SourceRecord, parsed: ParsedRecord): string {
  if (
    parsed.kind === 'hsm' &&
    parsed.sequenceNo?.value !== undefined &&
    parsed.rebootCounter?.value !== undefined
  ) {
    const prefix = uidPrefix(record.logStream, parsed.rebootCounter.text);
    // One toLowerCase of the concatenation lowers the sequence and flattens the whole uid in one
    // pass (a third of a join's cost); it serves every prefix it leaves unchanged.
    return prefix.lower
      ? (prefix.text + parsed.sequenceNo.text).toLowerCase()
      : join(prefix.text, parsed.sequenceNo.text.toLowerCase());
  }
  return join(record.logStream, ':', hashUid(record));
}

// `<hsm-id>:<reboot counter>:` per stream: the reboot counter only changes when the HSM reboots,
// so each record only appends its sequence. Bounded like CLUSTER_IDS. `lower`: the prefix has no
// upper-case letter (HSM ids are lower case), so lowering prefix and sequence together leaves the
// prefix as it is.
interface UidPrefix {
  readonly reboot: string;
  readonly text: string;
  readonly lower: boolean;
}
const UID_PREFIXES = new Map<string, UidPrefix>();

function uidPrefix(logStream: string, reboot: string): UidPrefix {
  if (logStream === last.stream && last.uidPrefix?.reboot === reboot) return last.uidPrefix;
  let prefix = UID_PREFIXES.get(logStream);
  if (prefix?.reboot !== reboot) {
    const text = join(logStream, ':', reboot.toLowerCase(), ':');
    const known = prefix !== undefined;
    prefix = { reboot, text, lower: text.toLowerCase() === text };
    if (known || UID_PREFIXES.size < MAX_CLUSTER_IDS) UID_PREFIXES.set(logStream, prefix);
  }
  last.stream = logStream;
  last.uidPrefix = prefix;
  return prefix;
}

export function hashUid(record: SourceRecord): string {
  return messageHash(`${record.timestamp}\n${record.message}`);
}

/** Event time in ms: the HSM's `usecs`, the cert-store `timestamp`, else CloudWatch's timestamp. */
export function eventTime(record: SourceRecord, parsed: ParsedRecord): number {
  if (parsed.kind === 'hsm' && parsed.time.ms !== undefined) return parsed.time.ms;
  if (parsed.kind === 'certstore' && parsed.timestampMs !== undefined) return parsed.timestampMs;
  return safeMs(record.timestamp);
}

export function safeMs(value: number): number {
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

export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function clip(text: string): string {
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
export function classifyRow(mapping: OpcodeMapping, activityName: string): Classification {
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

export function severityCaption(id: number): string {
  return SEVERITY_CAPTIONS[id] ?? 'Other';
}

export const HSM_FEATURE = 'HSM audit log';
export const CERT_STORE_FEATURE = 'Certificate storage audit log';
export const OTHER_FEATURE = 'CloudHSM audit log';

/** `metadata` head; `host` adds the host profile (events with a `device`). */
export function baseMetadata(
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

export function finishMetadata(metadata: OcsfMetadata, record: SourceRecord): void {
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
export function cloudwatchFields(
  record: SourceRecord,
  event: OcsfEvent,
  out: CloudHsmUnmapped,
): void {
  if (event.time !== record.timestamp) out.cloudwatch_timestamp = numberText(record.timestamp);
  if (record.ingestionTime !== undefined && event.metadata.logged_time !== record.ingestionTime) {
    out.cloudwatch_ingestion_time = numberText(record.ingestionTime);
  }
  if (record.eventId !== undefined) out.cloudwatch_event_id = record.eventId;
}

// One canonical key order (docs/ocsf-mapping.md, Key order) so that golden files and humans read alike.
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
