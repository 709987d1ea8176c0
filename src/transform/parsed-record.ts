/**
 * What the parser makes of a CloudHSM audit message (src/transform/parse.ts): the typed result
 * the normalizer, the integrity tracker and the parse command read.
 */

/** A `NAME (code)` value such as `CN_LOGIN (0xd)`; `code` is absent when none is printed. */
export interface NameCode {
  name: string;
  code?: string;
}

/** A hex counter as printed (`text`) plus its exact value when the text is valid hex. */
export interface HexCounter {
  text: string;
  value?: bigint;
}

/** `<code>:HSM Return: <text>` / `<code>:HSM Error: <text>` split into its parts. */
export interface HsmResponse {
  raw: string;
  code?: string;
  kind?: 'Return' | 'Error';
  text: string;
  /** true for code 0 / `HSM Return`, false for any other code / `HSM Error`, absent if unknown. */
  success?: boolean;
}

/** A time-info value (`local time`, `host time`, `propagation delay`): text part and `usec`. */
export interface TimeInfo {
  text: string;
  usec?: string;
}

/** Canonical (snake_case) names of the text-record keys this parser understands. */
export type HsmFieldName =
  | 'version_no'
  | 'sequence_no'
  | 'reboot_counter'
  | 'command_type'
  | 'opcode'
  | 'session_handle'
  | 'response'
  | 'log_type'
  | 'user_id'
  | 'user_name'
  | 'user_type'
  | 'target_user_name'
  | 'target_user_type'
  | 'target_user_id'
  | 'priv_secret_key_handle'
  | 'public_key_handle'
  | 'key_handle'
  | 'mechanism'
  | 'mfa_enabled'
  | 'operation'
  | 'number_of_users'
  | 'user_ids'
  | 'local_time'
  | 'host_time'
  | 'propagation_delay';

/**
 * First value of each known key of a text record. Every key is present, `undefined` when the
 * record has no such line: all records then share one hidden class, and the normalizer's reads
 * stay monomorphic however the records vary (see `valuesFrom` in parse.ts).
 */
export type HsmValues = Record<HsmFieldName, string | undefined>;

/** A key/value pair kept verbatim (unknown keys, repeated keys, unknown JSON members). */
export interface ExtraField {
  key: string;
  value: string;
}

/** A text audit record from an HSM log stream. */
export interface HsmRecord {
  kind: 'hsm';
  /**
   * First value of each known key, verbatim (trimmed). Values of the vocabulary fields (command
   * type, opcode, response, log type, user types, operation) and their parsed parts below are
   * sequential strings shared between records (parse-terms.ts): events carry them as they are.
   * The parsed parts themselves (`opcode`, `response`, ...) are shared too, and frozen.
   */
  values: HsmValues;
  /** Unknown keys and repeats of known keys, in order. */
  extraFields: ExtraField[];
  /** Non-blank lines without any colon. */
  strayLines: string[];
  /**
   * `Time` line: human text, `usecs` digits (both sequential strings, carried by the event as
   * they are), and epoch ms when it is a plausible integer.
   */
  time: { text: string; usecs: string; ms?: number };
  // The parts below are present as keys in every record, undefined when the record has none:
  // one hidden class for all records (see HsmValues), one allocation for the record.
  sequenceNo: HexCounter | undefined;
  rebootCounter: HexCounter | undefined;
  commandType: NameCode | undefined;
  opcode: NameCode | undefined;
  logType: NameCode | undefined;
  userType: NameCode | undefined;
  targetUserType: NameCode | undefined;
  operation: NameCode | undefined;
  response: HsmResponse | undefined;
  localTime: TimeInfo | undefined;
  hostTime: TimeInfo | undefined;
  propagationDelay: TimeInfo | undefined;
  warnings: string[];
}

/** A certificate-storage JSON record (docs/cloudhsm-audit-records.md); integers are kept as their decimal text. */
export interface CertStoreRecord {
  kind: 'certstore';
  /** Every top-level member in order, value as its JSON source text. */
  fields: Array<[string, string]>;
  /** Decimal text as printed; `null` when the record says null; absent when missing. */
  objectHandle?: string | null;
  opCode?: string;
  response?: string;
  attributes?: string[] | null;
  /** `timestamp` as printed, and as ms when it is a safe integer. */
  timestamp?: string;
  timestampMs?: number;
  extraFields: ExtraField[];
  warnings: string[];
}

/** A message that is neither a usable text record nor a JSON object. */
export interface UnparseableRecord {
  kind: 'unparseable';
  error: string;
  raw: string;
}

/** Result of `parseRecord` (parse.ts). */
export type ParsedRecord = HsmRecord | CertStoreRecord | UnparseableRecord;

/**
 * The record's place in its HSM's audit trail: an HSM record with a valid sequence number and
 * reboot counter. Undefined for certificate-storage and unparseable records, which have none.
 */
export function sequenceOf(
  parsed: ParsedRecord,
): { readonly seq: bigint; readonly reboot: bigint } | undefined {
  if (parsed.kind !== 'hsm') return undefined;
  const seq = parsed.sequenceNo?.value;
  const reboot = parsed.rebootCounter?.value;
  return seq === undefined || reboot === undefined ? undefined : { seq, reboot };
}
