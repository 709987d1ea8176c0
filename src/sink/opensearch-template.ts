/**
 * The index template installed at start-up (README "Delivery"). Mappings are explicit for the OCSF
 * fields the forwarder emits and `dynamic: false` everywhere else, so a new or unexpected field
 * is kept in `_source` but never creates a mapping by surprise. `unmapped.cloudhsm` and
 * `entity.data` are free-form: `flat_object` indexes their leaves as keywords without mapping
 * each key. ECS names are offered as `alias` fields (docs/ocsf-mapping.md), so the documents
 * stay byte-for-byte the OCSF events sent to Kafka.
 *
 * Bump TEMPLATE_VERSION whenever the mapping changes: start-up replaces an older template and
 * leaves a newer one alone (a newer forwarder may run beside this one during a rollout).
 */
import { OCSF_VERSION } from '../util/identity.js';

export const TEMPLATE_VERSION = 1;

const keyword = { type: 'keyword' } as const;
const keywordText = { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } } };
const integer = { type: 'integer' } as const;
const long = { type: 'long' } as const;
const epochMillis = { type: 'date', format: 'epoch_millis' } as const;

function object(properties: Record<string, unknown>): Record<string, unknown> {
  return { dynamic: false, properties };
}

const typed = (id: 'integer' | 'short' = 'integer'): Record<string, unknown> => ({
  type_id: { type: id },
  type: keyword,
});

const userMapping = object({ name: keyword, uid: keyword, ...typed() });
const endpoint = object({ uid: keyword, name: keyword, ip: { type: 'ip' }, hostname: keyword });

const mappings = {
  dynamic: false,
  properties: {
    time: epochMillis,
    timezone_offset: integer,
    class_uid: integer,
    class_name: keyword,
    category_uid: integer,
    category_name: keyword,
    activity_id: integer,
    activity_name: keyword,
    type_uid: long,
    type_name: keyword,
    severity_id: integer,
    severity: keyword,
    status_id: integer,
    status: keyword,
    status_code: keyword,
    status_detail: keywordText,
    message: keywordText,
    is_remote: { type: 'boolean' },
    raw_data: { type: 'text' },
    metadata: object({
      uid: keyword,
      version: keyword,
      event_code: keyword,
      sequence: long,
      original_time: keyword,
      logged_time: epochMillis,
      processed_time: epochMillis,
      log_name: keyword,
      log_provider: keyword,
      correlation_uid: keyword,
      profiles: keyword,
      labels: keyword,
      product: object({
        name: keyword,
        vendor_name: keyword,
        version: keyword,
        feature: object({ name: keyword }),
      }),
    }),
    cloud: object({
      provider: keyword,
      region: keyword,
      zone: keyword,
      account: object({ uid: keyword, name: keyword, ...typed() }),
    }),
    device: object({
      uid: keyword,
      name: keyword,
      ...typed(),
      region: keyword,
      zone: keyword,
      ip: { type: 'ip' },
      subnet: keyword,
      subnet_uid: keyword,
      vpc_uid: keyword,
      interface_uid: keyword,
      desc: keyword,
      hw_info: object({}),
      groups: object({ uid: keyword, name: keyword, type: keyword, desc: keywordText }),
    }),
    user: userMapping,
    actor: object({ user: userMapping, session: object({ uid: keyword }) }),
    session: object({ uid: keyword }),
    entity: object({ uid: keyword, name: keyword, type: keyword, data: { type: 'flat_object' } }),
    dst_endpoint: endpoint,
    service: object({ uid: keyword, name: keyword }),
    observables: object({ name: keyword, value: keyword, ...typed() }),
    confidence_id: integer,
    confidence: keyword,
    resources: object({ uid: keyword, name: keyword, type: keyword, region: keyword }),
    finding_info: object({
      uid: keyword,
      title: keywordText,
      desc: keywordText,
      types: keyword,
    }),
    unmapped: object({ cloudhsm: { type: 'flat_object' } }),
    // ECS names for dashboards and detection rules written against ECS (aliases, not copies).
    event: object({
      id: { type: 'alias', path: 'metadata.uid' },
      action: { type: 'alias', path: 'metadata.event_code' },
      code: { type: 'alias', path: 'metadata.event_code' },
      sequence: { type: 'alias', path: 'metadata.sequence' },
      severity: { type: 'alias', path: 'severity_id' },
    }),
    host: object({
      id: { type: 'alias', path: 'device.uid' },
      name: { type: 'alias', path: 'device.name' },
    }),
    error: object({
      code: { type: 'alias', path: 'status_code' },
      message: { type: 'alias', path: 'status_detail' },
    }),
  },
};

/**
 * The type the template maps `path` (dotted, e.g. `metadata.uid`) to, or undefined for a path it
 * does not map. A mapping error on a field the index maps otherwise comes from an index the
 * template did not create: a configuration problem, not a bad document.
 */
export function templateFieldType(path: string): string | undefined {
  let node: unknown = mappings;
  for (const name of path.split('.')) {
    const properties = (node as { properties?: Record<string, unknown> } | undefined)?.properties;
    const fields = (node as { fields?: Record<string, unknown> } | undefined)?.fields;
    node = properties?.[name] ?? fields?.[name];
    if (node === undefined) return undefined;
  }
  const type = (node as { type?: unknown }).type;
  return typeof type === 'string' ? type : 'object';
}

export function indexTemplate(indexPrefix: string): Record<string, unknown> {
  return {
    index_patterns: [`${indexPrefix}-*`],
    version: TEMPLATE_VERSION,
    priority: 100,
    template: {
      settings: { number_of_shards: 1, 'index.mapping.total_fields.limit': 2000 },
      mappings,
    },
    _meta: { managed_by: 'cloudhsm-audit-forwarder', ocsf_version: OCSF_VERSION },
  };
}

/** `<prefix>-YYYY.MM.DD` from the event's own time (UTC): a replay lands in the same index. */
export function dailyIndex(indexPrefix: string, time: number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return `${indexPrefix}-invalid-time`;
  const y = date.getUTCFullYear();
  const m = String(date.getUTCMonth() + 1).padStart(2, '0');
  const d = String(date.getUTCDate()).padStart(2, '0');
  return `${indexPrefix}-${y}.${m}.${d}`;
}

/**
 * `<prefix>-late-YYYY.MM`: where `opensearch.lateIndex` sends an event whose daily index refuses
 * writes (write block, closed). Inside the template's pattern, so it gets the same mappings;
 * monthly, so late events of a whole month share one small index.
 */
export function lateIndex(indexPrefix: string, time: number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return `${indexPrefix}-late-invalid-time`;
  const m = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${indexPrefix}-late-${date.getUTCFullYear()}.${m}`;
}
