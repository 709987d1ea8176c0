// Shared builders for the enrichment tests: audit records in the real text format and snapshots.
import type {
  ClusterMetadata,
  HsmMetadata,
  MetadataSnapshot,
} from '../../../src/transform/cluster-metadata.js';
import { toOcsfEvent } from '../../../src/transform/normalize.js';
import type { OcsfEvent } from '../../../src/transform/ocsf-event.js';
import type { SourceRecord } from '../../../src/transform/source-record.js';

export const CLUSTER_ID = 'cluster-likphkxygsn';
export const HSM_ID = 'hsm-abcde123456';
export const LOG_GROUP = `/aws/cloudhsm/${CLUSTER_ID}`;
export const T0 = 1_700_000_000_000;

export interface RecordSpec {
  seq: number;
  opcode: string;
  opcodeHex?: string;
  reboot?: string;
  session?: string;
  response?: string;
  user?: string;
  userType?: string;
  keyHandle?: string;
  hsmId?: string;
  logGroup?: string;
}

const USER_OPCODES = new Set([
  'CN_LOGIN',
  'CN_LOGOUT',
  'CN_APP_FINALIZE',
  'CN_CLOSE_SESSION',
  'CN_CREATE_USER',
  'CN_CREATE_CO',
  'CN_DELETE_USER',
  'CN_CHANGE_PSWD',
]);

/** One HSM audit record in the documented text format (docs/cloudhsm-audit-records.md). */
export function auditText(spec: RecordSpec): string {
  const usecs = BigInt(T0 + spec.seq * 1000) * 1000n;
  const lines = [
    `Time: 11/14/23 22:13:20.000000, usecs:${usecs}`,
    `Sequence No : 0x${spec.seq.toString(16)}`,
    `Reboot counter : ${spec.reboot ?? '0x107'}`,
    'Command Type(hex) : CN_MGMT_CMD (0x0)',
    `Opcode : ${spec.opcode} (${spec.opcodeHex ?? '0x0'})`,
    `Session Handle : ${spec.session ?? '0x7014006'}`,
    `Response : ${spec.response ?? '0:HSM Return: SUCCESS'}`,
  ];
  if (spec.user !== undefined || USER_OPCODES.has(spec.opcode)) {
    lines.push('Log type : MGMT_USER_DETAILS_LOG (2)');
    if (spec.user !== undefined) {
      lines.push(`User Name : ${spec.user}`);
      lines.push(`User Type : ${spec.userType ?? 'CN_CRYPTO_OFFICER (2)'}`);
    }
  } else if (spec.keyHandle !== undefined) {
    lines.push('Log type : MGMT_KEY_DETAILS_LOG (1)');
    lines.push(`Priv/Secret Key Handle : ${spec.keyHandle}`);
    lines.push('Public Key Handle : 0');
  } else {
    lines.push('Log type : MINIMAL_LOG_ENTRY (0)');
  }
  return lines.join('\n');
}

export function record(spec: RecordSpec): SourceRecord {
  return {
    logGroup: spec.logGroup ?? LOG_GROUP,
    logStream: spec.hsmId ?? HSM_ID,
    timestamp: T0 + spec.seq * 1000,
    ingestionTime: T0 + spec.seq * 1000 + 500,
    message: auditText(spec),
    eventId: `evt-${spec.seq}`,
  };
}

export function event(spec: RecordSpec): OcsfEvent {
  return toOcsfEvent(record(spec), { region: 'us-east-1' });
}

export function cluster(overrides: Partial<ClusterMetadata> = {}): ClusterMetadata {
  return {
    id: CLUSTER_ID,
    state: 'ACTIVE',
    hsmType: 'hsm2m.medium',
    mode: 'FIPS',
    networkType: 'IPV4',
    backupPolicy: 'DEFAULT',
    backupRetention: { type: 'DAYS', value: '90' },
    vpcId: 'vpc-0abc',
    subnetMapping: { 'us-east-1a': 'subnet-0aaa', 'us-east-1b': 'subnet-0bbb' },
    tags: { Name: 'payments-prod', costcenter: 'cc-42' },
    name: 'payments-prod',
    present: true,
    firstSeen: T0,
    lastSeen: T0,
    ...overrides,
  };
}

export function hsm(overrides: Partial<HsmMetadata> = {}): HsmMetadata {
  return {
    id: HSM_ID,
    clusterId: CLUSTER_ID,
    availabilityZone: 'us-east-1a',
    subnetId: 'subnet-0aaa',
    eniId: 'eni-0123456789abcdef0',
    eniIp: '10.0.1.25',
    state: 'ACTIVE',
    hsmType: 'hsm2m.medium',
    firstSeen: T0,
    lastSeen: T0,
    present: true,
    ...overrides,
  };
}

export function snapshot(
  init: {
    clusters?: ClusterMetadata[];
    hsms?: HsmMetadata[];
    labels?: Record<string, string>;
    accountId?: string;
  } = {},
): MetadataSnapshot {
  return {
    clusters: new Map((init.clusters ?? [cluster()]).map((c) => [c.id, c])),
    hsms: new Map((init.hsms ?? [hsm()]).map((h) => [h.id, h])),
    accountId: init.accountId ?? '111122223333',
    region: 'us-east-1',
    refreshedAt: T0 + 60_000,
    labels: init.labels ?? { environment: 'prod', team: 'payments' },
  };
}

/** Deep freeze, so that any mutation of an input throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
