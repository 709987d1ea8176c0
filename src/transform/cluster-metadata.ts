/**
 * What the forwarder knows about the CloudHSM clusters and HSMs it reads logs from
 * (docs/enrichment.md, docs/cloudwatch-logs.md). Plain immutable data: built by the metadata provider from the
 * CloudHSM v2 API, read by the pure enricher (src/transform/enrich.ts).
 */

/** `Mode` of a cluster. Older SDKs drop it; `undefined` when the API did not send it. */
export type ClusterMode = 'FIPS' | 'NON_FIPS' | (string & {});

/** One CloudHSM cluster as last seen by DescribeClusters. */
export interface ClusterMetadata {
  /** `ClusterId` (`cluster-…` on AWS; a bare UUID on moto). */
  readonly id: string;
  /** `State`, e.g. ACTIVE, DEGRADED; kept as text because newer states keep appearing. */
  readonly state?: string;
  readonly stateMessage?: string;
  /** `HsmType` of the cluster, e.g. hsm1.medium, hsm2m.medium. */
  readonly hsmType?: string;
  /** `Mode` (FIPS | NON_FIPS), read from the raw JSON because SDK 3.332.0 drops it. */
  readonly mode?: ClusterMode;
  /** `NetworkType` (IPV4 | DUALSTACK), raw JSON only. */
  readonly networkType?: string;
  /** `BackupPolicy` (DEFAULT). */
  readonly backupPolicy?: string;
  /** `BackupRetentionPolicy`, e.g. `{ type: 'DAYS', value: '90' }`. */
  readonly backupRetention?: { readonly type?: string; readonly value?: string };
  readonly vpcId?: string;
  readonly securityGroup?: string;
  /** `SubnetMapping`: availability zone → subnet id. */
  readonly subnetMapping: Readonly<Record<string, string>>;
  /** Cluster tags (inline `TagList` or `ListTags`). */
  readonly tags: Readonly<Record<string, string>>;
  /** The `Name` tag, if any. */
  readonly name?: string;
  /** False once DescribeClusters stopped listing the cluster (deleted); last data is kept. */
  readonly present: boolean;
  /** When the provider first / last saw the cluster in a successful refresh (epoch ms). */
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** One HSM (= one audit log stream, named after `HsmId`). */
export interface HsmMetadata {
  /** `HsmId` (`hsm-…`), equal to its log stream name. */
  readonly id: string;
  readonly clusterId: string;
  readonly availabilityZone?: string;
  readonly subnetId?: string;
  readonly eniId?: string;
  readonly eniIp?: string;
  /** Raw JSON only (dual-stack clusters). */
  readonly eniIpV6?: string;
  readonly state?: string;
  readonly stateMessage?: string;
  /** Per-HSM `HsmType` (raw JSON only; differs from the cluster's during a type migration). */
  readonly hsmType?: string;
  /**
   * When the provider first / last saw the HSM listed (epoch ms). These are observation times
   * of this process, not the HSM's creation time (the API does not return one).
   */
  readonly firstSeen: number;
  readonly lastSeen: number;
  /**
   * False once the HSM is no longer listed (deleted or replaced): its old stream can still be
   * read, so its last known metadata is kept.
   */
  readonly present: boolean;
}

/** An immutable view of everything known, handed to the enricher with every batch. */
export interface MetadataSnapshot {
  readonly clusters: ReadonlyMap<string, ClusterMetadata>;
  readonly hsms: ReadonlyMap<string, HsmMetadata>;
  /** AWS account id (configured, or STS GetCallerIdentity); undefined until known. */
  readonly accountId?: string;
  /** AWS region the forwarder reads (configuration). */
  readonly region?: string;
  /** Last successful refresh (epoch ms); undefined before the first one. */
  readonly refreshedAt?: number;
  /** Static labels from configuration, e.g. `{ environment: 'prod', team: 'payments' }`. */
  readonly labels: Readonly<Record<string, string>>;
}

/** A snapshot that knows nothing yet (before the first successful refresh). */
export function emptySnapshot(
  init: { accountId?: string; region?: string; labels?: Record<string, string> } = {},
): MetadataSnapshot {
  return {
    clusters: new Map(),
    hsms: new Map(),
    ...(init.accountId === undefined ? {} : { accountId: init.accountId }),
    ...(init.region === undefined ? {} : { region: init.region }),
    labels: { ...init.labels },
  };
}
