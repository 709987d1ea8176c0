/**
 * A realistic CloudHSM fleet, as audit records: per HSM, sessions of crypto officers and crypto
 * users logging in (and sometimes failing, with a wrong password or an unknown user name), user
 * creation and deletion, key generation, sharing, wrapping and deletion (CN_DESTROY_OBJECT and
 * CN_TOMBSTONE_OBJECT), an optional HSM reboot and an optional deliberate sequence gap, plus
 * certificate-storage JSON records on each cluster's own stream. Deterministic for a seed.
 *
 * Pure: it returns the records and a report of what it wrote (the counts the demo and the tests
 * compare with what OpenSearch answers); writing them to CloudWatch is cloudwatch-writer.ts.
 */
import { formatAuditRecord, formatCertStoreRecord } from './audit-record.js';
import type { AuditRecordSpec, UserType } from './audit-record.js';
import { hexCounter } from '../util/identity.js';

export interface FleetOptions {
  readonly clusters: number;
  readonly hsmsPerCluster: number;
  /** HSM audit records per HSM stream. */
  readonly recordsPerHsm: number;
  /** Certificate-storage records in all, spread over the clusters' own streams. */
  readonly certRecords?: number;
  /** Log groups are `<prefix><cluster-id>`. @default '/aws/cloudhsm/' */
  readonly logGroupPrefix?: string;
  /** First event time, epoch ms; records are spaced `spacingMs` apart per stream. */
  readonly startMs: number;
  readonly spacingMs?: number;
  readonly seed?: number;
  /** Reboot the first HSM of the first cluster halfway through (counter +1, sequence to 0x0). */
  readonly reboot?: boolean;
  /** Skip one sequence number on the last HSM of the last cluster (an integrity gap). */
  readonly gap?: boolean;
}

export interface SimulatedRecord {
  readonly timestamp: number;
  readonly message: string;
}

export interface SimulatedStream {
  readonly logGroup: string;
  readonly logStream: string;
  readonly records: SimulatedRecord[];
}

export interface LatestItem {
  readonly time: number;
  readonly hsm: string;
  readonly subject: string;
}

export interface FleetReport {
  readonly records: number;
  readonly hsmRecords: number;
  readonly certRecords: number;
  readonly cryptoUserLoginsOk: number;
  readonly cryptoUserLoginsFailed: number;
  readonly keyDeletionsOk: number;
  readonly reboots: number;
  readonly gaps: readonly { readonly hsm: string; readonly missing: string }[];
  readonly latest: {
    readonly cryptoUserLoginsOk: LatestItem[];
    readonly cryptoUserLoginsFailed: LatestItem[];
    readonly keyDeletionsOk: LatestItem[];
  };
}

export interface Fleet {
  readonly streams: SimulatedStream[];
  readonly report: FleetReport;
}

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same fleet (or bench run). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function resourceId(prefix: string, random: () => number): string {
  let id = `${prefix}-`;
  for (let i = 0; i < 11; i += 1) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
  return id;
}

type Step = Omit<AuditRecordSpec, 'usecs' | 'sequence' | 'rebootCounter' | 'sessionHandle'> & {
  readonly kind?: 'cu-login-ok' | 'cu-login-failed' | 'key-deleted';
  readonly subject?: string;
};

const CRYPTO_USERS = ['app_signer', 'payments_cu', 'kmsuser', 'tls_offload'];
const OFFICERS = ['admin', 'secops_co'];

function session(random: () => number, keyBase: number): Step[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const user = (name: string, type: UserType) => ({ name, type });
  const cu = pick(CRYPTO_USERS);
  const co = pick(OFFICERS);
  const key = String(keyBase + Math.floor(random() * 100_000));
  const roll = random();
  const steps: Step[] = [];
  if (roll < 0.12) {
    steps.push({
      opcode: 'CN_LOGIN',
      opcodeHex: '0xd',
      responseCode: 163,
      responseText: 'RET_USER_LOGIN_FAILURE',
      user: user(cu, 'CN_CRYPTO_USER'),
      kind: 'cu-login-failed',
      subject: cu,
    });
  } else if (roll < 0.16) {
    const unknown = `${cu}_typo`;
    steps.push({
      opcode: 'CN_LOGIN',
      opcodeHex: '0xd',
      responseCode: 157,
      responseText: "user isn't initialized or user with this name doesn't exist",
      user: user(unknown, 'CN_CRYPTO_USER'),
      kind: 'cu-login-failed',
      subject: unknown,
    });
  } else if (roll < 0.3) {
    const target = `cu_${Math.floor(random() * 1000)}`;
    steps.push(
      { opcode: 'CN_LOGIN', opcodeHex: '0xd', user: user(co, 'CN_CRYPTO_OFFICER') },
      { opcode: 'CN_CREATE_USER', opcodeHex: '0x3', user: user(target, 'CN_CRYPTO_USER') },
      random() < 0.5
        ? { opcode: 'CN_DELETE_USER', opcodeHex: '0xa1', user: user(target, 'CN_CRYPTO_USER') }
        : { opcode: 'CN_CHANGE_PSWD', opcodeHex: '0x9', user: user(target, 'CN_CRYPTO_USER') },
      { opcode: 'CN_LOGOUT', opcodeHex: '0xe', user: user(co, 'CN_CRYPTO_OFFICER') },
    );
  } else {
    const deletion: Step =
      random() < 0.5
        ? {
            opcode: 'CN_DESTROY_OBJECT',
            opcodeHex: '0x11',
            keys: { secret: key },
            kind: 'key-deleted',
            subject: key,
          }
        : {
            opcode: 'CN_TOMBSTONE_OBJECT',
            keys: { secret: key },
            kind: 'key-deleted',
            subject: key,
          };
    steps.push(
      {
        opcode: 'CN_LOGIN',
        opcodeHex: '0xd',
        user: user(cu, 'CN_CRYPTO_USER'),
        kind: 'cu-login-ok',
        subject: cu,
      },
      random() < 0.5
        ? { opcode: 'CN_GENERATE_KEY', opcodeHex: '0x17', keys: { secret: key } }
        : {
            opcode: 'CN_GENERATE_KEY_PAIR',
            opcodeHex: '0x19',
            keys: { secret: key, public: String(Number(key) + 1) },
          },
      { opcode: 'CN_SHARE_OBJECT', opcodeHex: '0x12' },
      { opcode: 'CN_WRAP_KEY', opcodeHex: '0x1a', keys: { secret: key } },
      deletion,
      { opcode: 'CN_LOGOUT', opcodeHex: '0xe', user: user(cu, 'CN_CRYPTO_USER') },
    );
  }
  return steps;
}

const SEPARATORS = [' : ', ': ', '\t: '] as const;
const LATEST = 5;

export function simulateFleet(options: FleetOptions): Fleet {
  const random = seededRandom(options.seed ?? 20261123);
  const spacing = options.spacingMs ?? 10;
  const streams: SimulatedStream[] = [];
  let cuOk = 0;
  let cuFailed = 0;
  let deletions = 0;
  let reboots = 0;
  const gaps: { hsm: string; missing: string }[] = [];
  const latest = {
    cryptoUserLoginsOk: [] as LatestItem[],
    cryptoUserLoginsFailed: [] as LatestItem[],
    keyDeletionsOk: [] as LatestItem[],
  };
  const remember = (list: LatestItem[], item: LatestItem): void => {
    list.push(item);
    list.sort((a, b) => b.time - a.time);
    if (list.length > LATEST) list.length = LATEST;
  };

  for (let c = 0; c < options.clusters; c += 1) {
    const clusterId = resourceId('cluster', random);
    const logGroup = `${options.logGroupPrefix ?? '/aws/cloudhsm/'}${clusterId}`;
    for (let h = 0; h < options.hsmsPerCluster; h += 1) {
      const hsm = resourceId('hsm', random);
      const separator = SEPARATORS[(c + h) % SEPARATORS.length] ?? ' : ';
      const records: SimulatedRecord[] = [];
      let sequence = 0n;
      let rebootCounter = 0x100 + Math.floor(random() * 0x40);
      let sessionHandle = 0x1004000 + h * 0x10000;
      const rebootAt =
        options.reboot === true && c === 0 && h === 0 ? Math.floor(options.recordsPerHsm / 2) : -1;
      const gapAt =
        options.gap === true && c === options.clusters - 1 && h === options.hsmsPerCluster - 1
          ? Math.floor(options.recordsPerHsm / 3)
          : -1;
      let queue: Step[] = [];
      for (let i = 0; i < options.recordsPerHsm; i += 1) {
        if (i === rebootAt) {
          rebootCounter += 1;
          sequence = 0n;
          reboots += 1;
        }
        if (i === gapAt) {
          gaps.push({ hsm, missing: hexCounter(sequence) });
          sequence += 1n;
        }
        if (queue.length === 0) {
          queue = session(random, 0x40000 * (c + 1));
          sessionHandle += 1;
        }
        const step = queue.shift() as Step;
        const timestamp = options.startMs + i * spacing;
        const usecs = BigInt(timestamp) * 1000n + BigInt(Math.floor(random() * 1000));
        const { kind, subject, ...spec } = step;
        records.push({
          timestamp,
          message: formatAuditRecord({
            ...spec,
            usecs,
            sequence,
            rebootCounter,
            sessionHandle,
            separator,
          }),
        });
        sequence += 1n;
        const item = { time: timestamp, hsm, subject: subject ?? '' };
        if (kind === 'cu-login-ok') {
          cuOk += 1;
          remember(latest.cryptoUserLoginsOk, item);
        } else if (kind === 'cu-login-failed') {
          cuFailed += 1;
          remember(latest.cryptoUserLoginsFailed, item);
        } else if (kind === 'key-deleted') {
          deletions += 1;
          remember(latest.keyDeletionsOk, item);
        }
      }
      streams.push({ logGroup, logStream: hsm, records });
    }
    const certRecords: SimulatedRecord[] = [];
    const totalCert = options.certRecords ?? 0;
    const certCount =
      Math.floor(totalCert / options.clusters) + (c < totalCert % options.clusters ? 1 : 0);
    for (let i = 0; i < certCount; i += 1) {
      const timestamp = options.startMs + i * spacing * 7 + 3;
      const failed = random() < 0.1;
      const handle = failed ? null : (BigInt(0x66d8a2c3) * 1_000_000_000n + BigInt(i)).toString();
      const opCode =
        (['CreateObject', 'SetAttributeValues', 'DestroyObject'] as const)[i % 3] ?? 'CreateObject';
      certRecords.push({
        timestamp,
        message: formatCertStoreRecord({
          objectHandle: handle,
          opCode,
          response: failed ? 'MaxObjectsReached' : 'OK',
          attributes: opCode === 'SetAttributeValues' ? ['Label'] : null,
          timestamp,
        }),
      });
    }
    if (certRecords.length > 0)
      streams.push({ logGroup, logStream: clusterId, records: certRecords });
  }
  const hsmRecords = options.clusters * options.hsmsPerCluster * options.recordsPerHsm;
  const certRecords = streams.reduce(
    (n, s) => n + (s.logStream.startsWith('cluster-') ? s.records.length : 0),
    0,
  );
  return {
    streams,
    report: {
      records: hsmRecords + certRecords,
      hsmRecords,
      certRecords,
      cryptoUserLoginsOk: cuOk,
      cryptoUserLoginsFailed: cuFailed,
      keyDeletionsOk: deletions,
      reboots,
      gaps,
      latest,
    },
  };
}
