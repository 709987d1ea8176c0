/**
 * Writes CloudHSM audit records in the real text format (docs/cloudhsm-audit-records.md), for the
 * fleet simulator, tests and benchmarks. The layout follows AWS's published examples: Time with
 * the two-digit-year human form and `usecs`, then the header lines, then the log-type details.
 */
import { hexCounter } from '../util/identity.js';
export interface AuditRecordSpec {
  /** Event time, epoch microseconds. */
  readonly usecs: bigint;
  readonly sequence: bigint;
  readonly rebootCounter: number;
  readonly opcode: string;
  readonly opcodeHex?: string;
  readonly sessionHandle: number;
  /** 0 for success; a failure prints `<code>:HSM Error: <text>`. */
  readonly responseCode?: number;
  readonly responseText?: string;
  readonly user?: { readonly name: string; readonly type: UserType };
  readonly keys?: { readonly secret: string; readonly public?: string };
  /** Separator style of the key lines: the three seen in AWS examples. */
  readonly separator?: ' : ' | ': ' | '\t: ';
}

export type UserType = 'CN_CRYPTO_USER' | 'CN_CRYPTO_OFFICER' | 'CN_APPLIANCE_USER';

const USER_TYPE_CODE: Record<UserType, number> = {
  CN_CRYPTO_USER: 1,
  CN_CRYPTO_OFFICER: 2,
  CN_APPLIANCE_USER: 5,
};

const two = (n: number): string => String(n).padStart(2, '0');

/** `MM/DD/YY HH:MM:SS.ffffff` in UTC, as the HSM prints it. */
export function humanTime(usecs: bigint): string {
  const ms = Number(usecs / 1000n);
  const date = new Date(ms);
  const micros = String(usecs % 1_000_000n).padStart(6, '0');
  return (
    `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${two(date.getUTCFullYear() % 100)} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.${micros}`
  );
}

export function formatAuditRecord(spec: AuditRecordSpec): string {
  const sep = spec.separator ?? ' : ';
  const code = spec.responseCode ?? 0;
  const response =
    code === 0 ? '0:HSM Return: SUCCESS' : `${code}:HSM Error: ${spec.responseText ?? 'ERROR'}`;
  const opcode = spec.opcodeHex === undefined ? spec.opcode : `${spec.opcode} (${spec.opcodeHex})`;
  const lines = [
    `Time: ${humanTime(spec.usecs)}, usecs:${spec.usecs}`,
    `Sequence No${sep}${hexCounter(spec.sequence)}`,
    `Reboot counter${sep}${hexCounter(spec.rebootCounter)}`,
    `Command Type(hex)${sep}CN_MGMT_CMD (0x0)`,
    `Opcode${sep}${opcode}`,
    `Session Handle${sep}${hexCounter(spec.sessionHandle)}`,
    `Response${sep}${response}`,
  ];
  if (spec.user !== undefined) {
    lines.push(
      `Log type${sep}MGMT_USER_DETAILS_LOG (2)`,
      `User Name${sep}${spec.user.name}`,
      `User Type${sep}${spec.user.type} (${USER_TYPE_CODE[spec.user.type]})`,
    );
  } else if (spec.keys !== undefined) {
    lines.push(
      `Log type${sep}MGMT_KEY_DETAILS_LOG (1)`,
      `Priv/Secret Key Handle${sep}${spec.keys.secret}`,
      `Public Key Handle${sep}${spec.keys.public ?? '0'}`,
    );
  } else {
    lines.push(`Log type${sep}MINIMAL_LOG_ENTRY (0)`);
  }
  return lines.join('\n');
}

/** A certificate-storage audit record (JSON, one per line in CloudWatch). */
export function formatCertStoreRecord(spec: {
  readonly objectHandle: string | null;
  readonly opCode: 'CreateObject' | 'DestroyObject' | 'SetAttributeValues';
  readonly response: string;
  readonly attributes?: readonly string[] | null;
  readonly timestamp: number;
}): string {
  // object_handle is written as a bare 64-bit integer literal, exactly as AWS does.
  const handle = spec.objectHandle ?? 'null';
  const attributes =
    spec.attributes === undefined || spec.attributes === null
      ? 'null'
      : JSON.stringify(spec.attributes);
  return (
    `{"object_handle": ${handle}, "op_code": ${JSON.stringify(spec.opCode)}, ` +
    `"response": ${JSON.stringify(spec.response)}, "attributes": ${attributes}, ` +
    `"timestamp": ${spec.timestamp}}`
  );
}
