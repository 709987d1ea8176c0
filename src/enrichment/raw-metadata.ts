/**
 * The CloudHSM API's raw cluster and HSM descriptions turned into the metadata the enricher
 * uses. Pure: the wire format's odd shapes (tags as lists, the subnet mapping, numbers or
 * strings) are settled here, once.
 */
import type { ClusterMetadata, HsmMetadata } from '../transform/cluster-metadata.js';
import type { RawCluster, RawHsm, RawTag } from './cloudhsm-port.js';

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return text(value);
}

/** Copies the defined values only (exactOptionalPropertyTypes-friendly). */
export function defined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = entry;
  return out as T;
}

export function tagsToRecord(tags: readonly RawTag[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags) {
    const key = text(tag.Key);
    if (key !== undefined) out[key] = typeof tag.Value === 'string' ? tag.Value : '';
  }
  return out;
}

function subnetMappingOf(raw: RawCluster): Record<string, string> {
  const out: Record<string, string> = {};
  const mapping = raw.SubnetMapping;
  if (mapping !== null && typeof mapping === 'object') {
    for (const [zone, subnet] of Object.entries(mapping)) {
      if (typeof subnet === 'string') out[zone] = subnet;
    }
  }
  return out;
}

/** Raw wire cluster → {@link ClusterMetadata} (pure). */
export function toClusterMetadata(
  raw: RawCluster,
  tags: Readonly<Record<string, string>>,
  seen: { firstSeen: number; lastSeen: number },
): ClusterMetadata | undefined {
  const id = text(raw.ClusterId);
  if (id === undefined) return undefined;
  const retention = raw.BackupRetentionPolicy;
  const backupRetention =
    retention !== null && typeof retention === 'object'
      ? defined<{ type?: string; value?: string }>({
          type: text(retention.Type),
          value: scalarText(retention.Value),
        })
      : undefined;
  return defined<ClusterMetadata>({
    id,
    state: text(raw.State),
    stateMessage: text(raw.StateMessage),
    hsmType: text(raw.HsmType),
    mode: text(raw.Mode),
    networkType: text(raw.NetworkType),
    backupPolicy: text(raw.BackupPolicy),
    backupRetention:
      backupRetention === undefined || Object.keys(backupRetention).length === 0
        ? undefined
        : backupRetention,
    vpcId: text(raw.VpcId),
    securityGroup: text(raw.SecurityGroup),
    subnetMapping: subnetMappingOf(raw),
    tags: { ...tags },
    name: text(tags.Name),
    present: true,
    firstSeen: seen.firstSeen,
    lastSeen: seen.lastSeen,
  });
}

/** Raw wire HSM → {@link HsmMetadata} (pure). */
export function toHsmMetadata(
  raw: RawHsm,
  clusterId: string,
  seen: { firstSeen: number; lastSeen: number },
): HsmMetadata | undefined {
  const id = text(raw.HsmId);
  if (id === undefined) return undefined;
  return defined<HsmMetadata>({
    id,
    clusterId: text(raw.ClusterId) ?? clusterId,
    availabilityZone: text(raw.AvailabilityZone),
    subnetId: text(raw.SubnetId),
    eniId: text(raw.EniId),
    eniIp: text(raw.EniIp),
    eniIpV6: text(raw.EniIpV6),
    state: text(raw.State),
    stateMessage: text(raw.StateMessage),
    hsmType: text(raw.HsmType),
    firstSeen: seen.firstSeen,
    lastSeen: seen.lastSeen,
    present: true,
  });
}
