/**
 * Enrichment of normalized events with CloudHSM metadata, account/region and static labels
 * (docs/enrichment.md). Pure: event + snapshot in, new event out; the input is never
 * mutated (only the touched parts — `metadata`, `cloud`, `device`, `unmapped.cloudhsm` — are
 * shallow-copied, everything else is shared).
 *
 * Where things go (OCSF 1.1.0 attributes only; `device` is an `endpoint`):
 * - `cloud.region`, `cloud.account` (`type_id 10`, `AWS Account`) from the snapshot; `cloud.zone`
 *   = the HSM's availability zone.
 * - `device.region`, `device.zone` (AZ), `device.ip` (ENI IPv4, else IPv6), `device.subnet_uid`,
 *   `device.interface_uid` (ENI id), `device.vpc_uid` (cluster VPC), `device.desc`
 *   (`AWS CloudHSM <hsm type>`: 1.1.0 has no model attribute and `hw_info` has no fitting one).
 * - `device.groups[]`: the cluster entry (`uid` cluster id, `type` `CloudHSM Cluster`) gets the
 *   `Name` tag as `name` and the tags as `desc` (`Tags: k=v, …`; group has no tags attribute).
 * - `metadata.labels` (array of strings): the static labels as `key=value`, then markers.
 * - `unmapped.cloudhsm.enrichment_*`: only the metadata no attribute above holds (state, mode,
 *   backup policy, subnet mapping, …; for events without a `device` also the cluster's name, HSM
 *   type, VPC and tags), as flat keys (strings; tags and subnet mapping as `[{key, value}]`).
 *
 * Markers in `metadata.labels` (format `enrichment:<state>`, distinct from `key=value` labels):
 * - `enrichment:none`: the cluster (and the HSM) is unknown to the snapshot, or there is no
 *   snapshot. The event is otherwise unchanged except for account/region and static labels,
 *   which come from configuration, not from the cluster.
 * - `enrichment:partial`: only one of cluster and HSM is known (typically a new HSM not yet
 *   listed, or an HSM whose cluster was forgotten).
 * - nothing: fully enriched.
 */
import { clusterIdOf } from './ocsf-builders.js';
import type {
  CloudHsmUnmapped,
  OcsfCloud,
  OcsfDevice,
  OcsfEvent,
  OcsfMetadata,
} from './ocsf-event.js';
import type { ClusterMetadata, HsmMetadata, MetadataSnapshot } from './cluster-metadata.js';
import { join } from '../util/flat-string.js';

/** Marker label: nothing known about the event's cluster/HSM. */
export const ENRICHMENT_NONE = 'enrichment:none';
/** Marker label: only the cluster or only the HSM is known. */
export const ENRICHMENT_PARTIAL = 'enrichment:partial';

export type EnrichmentStatus = 'full' | 'partial' | 'none';

/** `metadata` with OCSF 1.1.0's `labels` (not part of the shared OcsfMetadata type yet). */
export type LabelledMetadata = OcsfMetadata & { labels?: string[] };

/** `device` group entry with the optional `desc`. */
export interface EnrichedGroup {
  uid: string;
  name: string;
  type: string;
  desc?: string;
}

/** `device` with the endpoint attributes enrichment fills. */
export type EnrichedDevice = OcsfDevice & {
  zone?: string;
  ip?: string;
  subnet_uid?: string;
  interface_uid?: string;
  vpc_uid?: string;
  desc?: string;
  groups: EnrichedGroup[];
};

/** `cloud` with `zone`. */
export type EnrichedCloud = OcsfCloud & { zone?: string };

export interface EnrichOptions {
  /** Static labels; override the snapshot's labels with the same key. */
  readonly labels?: Readonly<Record<string, string>>;
}

const CLUSTER_GROUP_TYPE = 'CloudHSM Cluster';

/** The event's `metadata.labels` (empty when absent). */
export function labelsOf(event: OcsfEvent): readonly string[] {
  return (event.metadata as LabelledMetadata).labels ?? [];
}

/** Returns a copy of `event` with `labels` appended to `metadata.labels` (deduplicated). */
export function withLabels(event: OcsfEvent, labels: readonly string[]): OcsfEvent {
  const merged = mergeLabels(labelsOf(event), labels, false);
  return { ...event, metadata: { ...event.metadata, labels: merged } as LabelledMetadata };
}

function mergeLabels(
  existing: readonly string[],
  added: readonly string[],
  dropMarkers: boolean,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const label of existing) {
    if (dropMarkers && (label === ENRICHMENT_NONE || label === ENRICHMENT_PARTIAL)) continue;
    if (!seen.has(label)) {
      seen.add(label);
      out.push(label);
    }
  }
  for (const label of added) {
    if (!seen.has(label)) {
      seen.add(label);
      out.push(label);
    }
  }
  return out;
}

function staticLabels(
  snapshot: MetadataSnapshot | undefined,
  options: EnrichOptions | undefined,
): string[] {
  const merged: Record<string, string> = { ...snapshot?.labels, ...options?.labels };
  return Object.entries(merged).map(([key, value]) => join(key, '=', value));
}

function pairs(record: Readonly<Record<string, string>>): Array<{ key: string; value: string }> {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

function tagText(tags: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(tags);
  if (entries.length === 0) return undefined;
  return join('Tags: ', entries.map(([key, value]) => join(key, '=', value)).join(', '));
}

function enrichCloud(
  cloud: OcsfCloud,
  snapshot: MetadataSnapshot | undefined,
  zone: string | undefined,
): OcsfCloud {
  if (snapshot?.region === undefined && snapshot?.accountId === undefined && zone === undefined) {
    return cloud;
  }
  const out: EnrichedCloud = { ...cloud };
  if (snapshot?.region !== undefined) out.region = snapshot.region;
  if (snapshot?.accountId !== undefined) {
    out.account = { uid: snapshot.accountId, type_id: 10, type: 'AWS Account' };
  }
  if (zone !== undefined) out.zone = zone;
  return out;
}

function clusterGroup(cluster: ClusterMetadata): EnrichedGroup {
  const group: EnrichedGroup = {
    uid: cluster.id,
    name: cluster.name ?? cluster.id,
    type: CLUSTER_GROUP_TYPE,
  };
  const desc = tagText(cluster.tags);
  if (desc !== undefined) group.desc = desc;
  return group;
}

function enrichDevice(
  device: OcsfDevice,
  snapshot: MetadataSnapshot | undefined,
  cluster: ClusterMetadata | undefined,
  hsm: HsmMetadata | undefined,
): EnrichedDevice {
  const out: EnrichedDevice = { ...device };
  if (snapshot?.region !== undefined) out.region = snapshot.region;
  if (hsm !== undefined) {
    if (hsm.availabilityZone !== undefined) out.zone = hsm.availabilityZone;
    const ip = hsm.eniIp ?? hsm.eniIpV6;
    if (ip !== undefined) out.ip = ip;
    if (hsm.subnetId !== undefined) out.subnet_uid = hsm.subnetId;
    if (hsm.eniId !== undefined) out.interface_uid = hsm.eniId;
  }
  if (cluster?.vpcId !== undefined) out.vpc_uid = cluster.vpcId;
  const hsmType = hsm?.hsmType ?? cluster?.hsmType;
  if (hsmType !== undefined) out.desc = join('AWS CloudHSM ', hsmType);
  if (cluster !== undefined) {
    const group = clusterGroup(cluster);
    const groups: EnrichedGroup[] = [...device.groups];
    const index = groups.findIndex((g) => g.uid === cluster.id);
    if (index >= 0) groups[index] = group;
    else groups.push(group);
    out.groups = groups;
  }
  return out;
}

/**
 * The snapshot's data that the enriched event has no attribute for, as `enrichment_*` keys.
 * With a `device`, what `enrichDevice` wrote there (ids, name, AZ, subnet, ENI, IP, VPC, HSM type,
 * tags) is not repeated; without one (certificate storage) the cluster's descriptive data has no
 * other place. The enrichment status is the `enrichment:*` marker in `metadata.labels`.
 */
function enrichUnmapped(
  unmapped: CloudHsmUnmapped,
  snapshot: MetadataSnapshot,
  cluster: ClusterMetadata | undefined,
  hsm: HsmMetadata | undefined,
  device: EnrichedDevice | undefined,
): CloudHsmUnmapped {
  const out: CloudHsmUnmapped = { ...unmapped };
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined) out[`enrichment_${key}`] = value;
  };
  if (snapshot.refreshedAt !== undefined) set('refreshed_at', iso(snapshot.refreshedAt));
  if (cluster !== undefined) {
    if (device === undefined) {
      set('cluster_name', cluster.name);
      set('cluster_hsm_type', cluster.hsmType);
      set('cluster_vpc_id', cluster.vpcId);
    } else if (cluster.hsmType !== undefined && device.desc !== `AWS CloudHSM ${cluster.hsmType}`) {
      set('cluster_hsm_type', cluster.hsmType);
    }
    set('cluster_state', cluster.state);
    set('cluster_mode', cluster.mode);
    set('cluster_network_type', cluster.networkType);
    set('cluster_security_group', cluster.securityGroup);
    set('cluster_backup_policy', cluster.backupPolicy);
    set('cluster_backup_retention_type', cluster.backupRetention?.type);
    set('cluster_backup_retention_value', cluster.backupRetention?.value);
    set('cluster_present', String(cluster.present));
    if (device === undefined) out.enrichment_cluster_tags = pairs(cluster.tags);
    out.enrichment_cluster_subnet_mapping = pairs(cluster.subnetMapping);
  }
  if (hsm !== undefined) {
    set('hsm_state', hsm.state);
    set('hsm_state_message', hsm.stateMessage);
    // `device.ip` holds the IPv4 address when there is one; the IPv6 one has no other place then.
    if (device?.ip !== hsm.eniIpV6) set('hsm_eni_ip_v6', hsm.eniIpV6);
    set('hsm_present', String(hsm.present));
    set('hsm_first_seen', iso(hsm.firstSeen));
    set('hsm_last_seen', iso(hsm.lastSeen));
  }
  return out;
}

/** Which enrichment an event gets from `snapshot` (exported for metrics and tests). */
export function enrichmentStatusOf(
  event: OcsfEvent,
  snapshot: MetadataSnapshot | undefined,
): EnrichmentStatus {
  return lookup(event, snapshot).status;
}

function lookup(
  event: OcsfEvent,
  snapshot: MetadataSnapshot | undefined,
): { status: EnrichmentStatus; cluster?: ClusterMetadata; hsm?: HsmMetadata } {
  if (snapshot === undefined) return { status: 'none' };
  const clusterId =
    event.metadata.log_name === undefined ? undefined : clusterIdOf(event.metadata.log_name);
  const cluster = clusterId === undefined ? undefined : snapshot.clusters.get(clusterId);
  if (event.device === undefined) {
    return cluster === undefined ? { status: 'none' } : { status: 'full', cluster };
  }
  const hsm = snapshot.hsms.get(event.device.uid);
  if (cluster !== undefined && hsm !== undefined) return { status: 'full', cluster, hsm };
  if (cluster !== undefined) return { status: 'partial', cluster };
  if (hsm !== undefined) {
    // The HSM knows its cluster even when the log group name does not match (should not happen).
    const byHsm = snapshot.clusters.get(hsm.clusterId);
    return byHsm === undefined
      ? { status: 'partial', hsm }
      : { status: 'full', cluster: byHsm, hsm };
  }
  return { status: 'none' };
}

/**
 * Enriches one event. Never throws for a well-formed event; an unknown cluster/HSM gets the
 * `enrichment:none` / `enrichment:partial` marker instead of data (see the module comment).
 */
export function enrichEvent(
  event: OcsfEvent,
  snapshot: MetadataSnapshot | undefined,
  options?: EnrichOptions,
): OcsfEvent {
  const { status, cluster, hsm } = lookup(event, snapshot);
  const added = staticLabels(snapshot, options);
  if (status === 'none') added.push(ENRICHMENT_NONE);
  else if (status === 'partial') added.push(ENRICHMENT_PARTIAL);

  const out: OcsfEvent = { ...event };
  const labels = mergeLabels(labelsOf(event), added, true);
  // Copied without `labels` rather than `delete`d: a deleted key takes the object off V8's
  // fast JSON path.
  const { labels: _previous, ...rest } = event.metadata as LabelledMetadata;
  const metadata: LabelledMetadata = rest;
  if (labels.length > 0) metadata.labels = labels;
  out.metadata = metadata;
  out.cloud = enrichCloud(event.cloud, snapshot, hsm?.availabilityZone);
  if (status === 'none' || snapshot === undefined) return out;

  const device =
    event.device === undefined ? undefined : enrichDevice(event.device, snapshot, cluster, hsm);
  if (device !== undefined) out.device = device;
  out.unmapped = {
    ...event.unmapped,
    cloudhsm: enrichUnmapped(event.unmapped.cloudhsm, snapshot, cluster, hsm, device),
  };
  return out;
}
