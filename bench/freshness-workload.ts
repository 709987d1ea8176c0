// What the freshness benchmark writes, as a CloudHSM cluster writes it: logins and user management
// are copied to EVERY HSM of the cluster (each HSM with its own continuing sequence numbers),
// key commands land on ONE HSM, and the cluster's certificate-storage stream gets an occasional
// record. Pure and seeded: the plan says what to write and when; the bench renders each record
// with the time it is actually written.
import { formatAuditRecord, formatCertStoreRecord } from '../src/simulator/audit-record.js';
import type { AuditRecordSpec, UserType } from '../src/simulator/audit-record.js';

interface HsmState {
  readonly logStream: string;
  sequence: bigint;
  readonly rebootCounter: number;
  sessionHandle: number;
}

export interface ClusterLayout {
  readonly logGroup: string;
  /** The certificate-storage stream, named after the cluster as CloudHSM names it. */
  readonly certStream: string;
  readonly hsms: HsmState[];
}

/** One record to write; `render` takes the event time (epoch ms) it is written with. */
export interface PlannedRecord {
  readonly logGroup: string;
  readonly logStream: string;
  readonly render: (timestampMs: number) => string;
}

/** One thing that happens on a cluster: its records, written a few ms apart. */
export interface PlannedAction {
  /** Offset from the start of the write window, ms. */
  readonly atMs: number;
  readonly kind: ActionKind;
  readonly records: PlannedRecord[];
}

export type ActionKind =
  'login' | 'login-failed' | 'create-user' | 'delete-user' | 'key-command' | 'cert';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const CRYPTO_USERS = ['app_signer', 'payments_cu', 'kmsuser', 'tls_offload'];
const OFFICERS = ['admin', 'secops_co'];

function resourceId(prefix: string, random: () => number): string {
  let id = `${prefix}-`;
  for (let i = 0; i < 11; i += 1) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
  return id;
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

export function layoutFleet(options: {
  readonly clusters: number;
  readonly hsmsPerCluster: number;
  readonly logGroupPrefix: string;
  readonly random: () => number;
}): ClusterLayout[] {
  const clusters: ClusterLayout[] = [];
  for (let c = 0; c < options.clusters; c += 1) {
    const clusterId = resourceId('cluster', options.random);
    const hsms: HsmState[] = [];
    for (let h = 0; h < options.hsmsPerCluster; h += 1) {
      hsms.push({
        logStream: resourceId('hsm', options.random),
        sequence: 0n,
        rebootCounter: 0x100 + Math.floor(options.random() * 0x40),
        sessionHandle: 0x1004000 + h * 0x10000,
      });
    }
    clusters.push({
      logGroup: `${options.logGroupPrefix}${clusterId}`,
      certStream: clusterId,
      hsms,
    });
  }
  return clusters;
}

type Command = Omit<AuditRecordSpec, 'usecs' | 'sequence' | 'rebootCounter' | 'sessionHandle'>;

/** The next record of one HSM: the sequence number is taken now, in plan order. */
function hsmRecord(
  random: () => number,
  logGroup: string,
  hsm: HsmState,
  command: Command,
): PlannedRecord {
  const sequence = hsm.sequence;
  hsm.sequence += 1n;
  const { rebootCounter, sessionHandle } = hsm;
  const micros = BigInt(Math.floor(random() * 1000));
  return {
    logGroup,
    logStream: hsm.logStream,
    // usecs within the written millisecond, so the OCSF `time` equals the CloudWatch timestamp.
    render: (timestampMs) =>
      formatAuditRecord({
        ...command,
        usecs: BigInt(timestampMs) * 1000n + micros,
        sequence,
        rebootCounter,
        sessionHandle,
      }),
  };
}

function certRecord(random: () => number, cluster: ClusterLayout): PlannedRecord {
  const opCode = pick(random, ['CreateObject', 'SetAttributeValues', 'DestroyObject'] as const);
  const handle = String(0x66d8a2c3_000_000_000 + Math.floor(random() * 1_000_000));
  return {
    logGroup: cluster.logGroup,
    logStream: cluster.certStream,
    render: (timestamp) =>
      formatCertStoreRecord({
        objectHandle: handle,
        opCode,
        response: 'OK',
        attributes: opCode === 'SetAttributeValues' ? ['Label'] : null,
        timestamp,
      }),
  };
}

const user = (name: string, type: UserType) => ({ name, type });

function commandFor(kind: ActionKind, random: () => number): Command {
  switch (kind) {
    case 'login':
      return random() < 0.7
        ? {
            opcode: 'CN_LOGIN',
            opcodeHex: '0xd',
            user: user(pick(random, CRYPTO_USERS), 'CN_CRYPTO_USER'),
          }
        : {
            opcode: 'CN_LOGIN',
            opcodeHex: '0xd',
            user: user(pick(random, OFFICERS), 'CN_CRYPTO_OFFICER'),
          };
    case 'login-failed':
      return {
        opcode: 'CN_LOGIN',
        opcodeHex: '0xd',
        responseCode: 163,
        responseText: 'RET_USER_LOGIN_FAILURE',
        user: user(pick(random, CRYPTO_USERS), 'CN_CRYPTO_USER'),
      };
    case 'create-user':
      return {
        opcode: 'CN_CREATE_USER',
        opcodeHex: '0x3',
        user: user(`cu_${Math.floor(random() * 1000)}`, 'CN_CRYPTO_USER'),
      };
    case 'delete-user':
      return {
        opcode: 'CN_DELETE_USER',
        opcodeHex: '0xa1',
        user: user(`cu_${Math.floor(random() * 1000)}`, 'CN_CRYPTO_USER'),
      };
    case 'key-command': {
      const key = String(0x40000 + Math.floor(random() * 100_000));
      return pick(random, [
        { opcode: 'CN_GENERATE_KEY', opcodeHex: '0x17', keys: { secret: key } },
        {
          opcode: 'CN_GENERATE_KEY_PAIR',
          opcodeHex: '0x19',
          keys: { secret: key, public: String(Number(key) + 1) },
        },
        { opcode: 'CN_SHARE_OBJECT', opcodeHex: '0x12', keys: { secret: key } },
        { opcode: 'CN_DESTROY_OBJECT', opcodeHex: '0x11', keys: { secret: key } },
      ] satisfies Command[]);
    }
    case 'cert':
      throw new Error('a certificate-storage record has no HSM command');
  }
}

function actionKind(random: () => number): ActionKind {
  const roll = random();
  if (roll < 0.3) return 'login';
  if (roll < 0.38) return 'login-failed';
  if (roll < 0.44) return 'create-user';
  if (roll < 0.5) return 'delete-user';
  if (roll < 0.92) return 'key-command';
  return 'cert';
}

function recordsOf(
  kind: ActionKind,
  cluster: ClusterLayout,
  random: () => number,
): PlannedRecord[] {
  if (kind === 'cert') return [certRecord(random, cluster)];
  const command = commandFor(kind, random);
  if (kind === 'key-command') {
    return [hsmRecord(random, cluster.logGroup, pick(random, cluster.hsms), command)];
  }
  // Logins and user management: the same command on every HSM of the cluster.
  return cluster.hsms.map((hsm) => hsmRecord(random, cluster.logGroup, hsm, command));
}

/** A few records per stream to catch up on before the idle phase: one session per HSM. */
export function initialRecords(clusters: ClusterLayout[], random: () => number): PlannedRecord[] {
  const records: PlannedRecord[] = [];
  for (const cluster of clusters) {
    const cu = user(pick(random, CRYPTO_USERS), 'CN_CRYPTO_USER');
    for (const hsm of cluster.hsms) {
      hsm.sessionHandle += 1;
      records.push(
        hsmRecord(random, cluster.logGroup, hsm, {
          opcode: 'CN_LOGIN',
          opcodeHex: '0xd',
          user: cu,
        }),
        hsmRecord(random, cluster.logGroup, hsm, commandFor('key-command', random)),
        hsmRecord(random, cluster.logGroup, hsm, {
          opcode: 'CN_LOGOUT',
          opcodeHex: '0xe',
          user: cu,
        }),
      );
    }
    records.push(certRecord(random, cluster));
  }
  return records;
}

/**
 * Actions at random moments of a `windowMs` window until at least `minRecords` records are
 * planned, in time order (so each HSM's sequence numbers increase with time).
 */
export function planActions(
  clusters: ClusterLayout[],
  minRecords: number,
  windowMs: number,
  random: () => number,
): PlannedAction[] {
  const draws: { kind: ActionKind; cluster: ClusterLayout; size: number }[] = [];
  let total = 0;
  while (total < minRecords) {
    const kind = actionKind(random);
    const cluster = pick(random, clusters);
    const size =
      kind === 'login' || kind === 'login-failed' || kind.endsWith('-user')
        ? cluster.hsms.length
        : 1;
    draws.push({ kind, cluster, size });
    total += size;
  }
  const moments = draws.map(() => Math.floor(random() * windowMs)).sort((a, b) => a - b);
  return draws.map((draw, i) => ({
    atMs: moments[i] as number,
    kind: draw.kind,
    records: recordsOf(draw.kind, draw.cluster, random),
  }));
}
