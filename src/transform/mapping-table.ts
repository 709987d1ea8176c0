/**
 * CloudHSM → OCSF 1.1.0 mapping data (docs/ocsf-mapping.md). Kept as plain data so
 * that an OCSF upgrade (e.g. 1.9's User Management class replacing Account Change) or a severity
 * policy change edits this table, not the normalizer.
 */

/** OCSF classes this forwarder emits. */
export type OcsfClassUid = 3001 | 3002 | 3004 | 2004;

/** The kind of managed entity an Entity Management event is about (`entity.type`). */
export type EntityType =
  'Key' | 'Quorum Token' | 'Quorum Policy' | 'HSM' | 'Certificate' | 'Log Stream';

/** How one opcode (or certificate-storage `op_code`) maps onto OCSF. */
export interface OpcodeMapping {
  classUid: 3001 | 3002 | 3004;
  activityId: number;
  /** Caption of `activityId`, or the source-specific name when `activityId` is 99. */
  activityName: string;
  /** Managed entity, for Entity Management (3004) rows only. */
  entityType?: EntityType;
  /** Default `severity_id` for a successful command (failures: {@link FAILURE_SEVERITY_ID}). */
  severityId: number;
  /** `status_detail` on success, when the opcode itself says more than `SUCCESS`. */
  statusDetail?: string;
}

/** Class and category captions (`class_name`, `category_name`). */
export const CLASS_INFO: Readonly<
  Record<OcsfClassUid, { name: string; categoryUid: number; categoryName: string }>
> = {
  2004: { name: 'Detection Finding', categoryUid: 2, categoryName: 'Findings' },
  3001: { name: 'Account Change', categoryUid: 3, categoryName: 'Identity & Access Management' },
  3002: { name: 'Authentication', categoryUid: 3, categoryName: 'Identity & Access Management' },
  3004: { name: 'Entity Management', categoryUid: 3, categoryName: 'Identity & Access Management' },
};

/** `severity_id` → `severity` caption. */
export const SEVERITY_CAPTIONS: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
  6: 'Fatal',
  99: 'Other',
};

/** `status_id` → `status` caption for the IAM classes. */
export const STATUS_CAPTIONS: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Success',
  2: 'Failure',
  99: 'Other',
};

/** Severity policy: any failed command is Low, whatever the opcode's success severity. */
export const FAILURE_SEVERITY_ID = 2;

/**
 * Severity of a record the parser could not understand: it needs a look (it may be a new
 * firmware format or a damaged record) but is not itself a security signal.
 */
export const UNPARSEABLE_SEVERITY_ID = 2;

const CLOSED_WITHOUT_LOGOUT =
  'connection closed without explicit logout; its session keys and quorum tokens were deleted';
const SESSION_CLOSED = 'session closed; its session keys and quorum tokens were deleted';

/** Opcode name → mapping. Opcodes not listed here use {@link DEFAULT_OPCODE_MAPPING}. */
export const OPCODE_MAPPINGS: Readonly<Record<string, OpcodeMapping>> = {
  CN_LOGIN: { classUid: 3002, activityId: 1, activityName: 'Logon', severityId: 1 },
  CN_LOGOUT: { classUid: 3002, activityId: 2, activityName: 'Logoff', severityId: 1 },
  CN_APP_FINALIZE: {
    classUid: 3002,
    activityId: 2,
    activityName: 'Logoff',
    severityId: 1,
    statusDetail: CLOSED_WITHOUT_LOGOUT,
  },
  CN_CLOSE_SESSION: {
    classUid: 3002,
    activityId: 2,
    activityName: 'Logoff',
    severityId: 1,
    statusDetail: SESSION_CLOSED,
  },
  CN_CREATE_USER: { classUid: 3001, activityId: 1, activityName: 'Create', severityId: 3 },
  CN_CREATE_CO: { classUid: 3001, activityId: 1, activityName: 'Create', severityId: 3 },
  CN_CREATE_APPLIANCE_USER: {
    classUid: 3001,
    activityId: 1,
    activityName: 'Create',
    severityId: 3,
  },
  CN_DELETE_USER: { classUid: 3001, activityId: 6, activityName: 'Delete', severityId: 3 },
  CN_CHANGE_PSWD: { classUid: 3001, activityId: 3, activityName: 'Password Change', severityId: 3 },
  CN_SET_M_VALUE: entity(3, 'Update', 'Quorum Policy', 3),
  CN_GET_TOKEN: entity(1, 'Create', 'Quorum Token', 1),
  CN_APPROVE_TOKEN: entity(3, 'Update', 'Quorum Token', 1),
  CN_DELETE_TOKEN: entity(4, 'Delete', 'Quorum Token', 1),
  CN_GENERATE_KEY: entity(1, 'Create', 'Key', 1),
  CN_GENERATE_KEY_PAIR: entity(1, 'Create', 'Key', 1),
  CN_CREATE_OBJECT: entity(1, 'Create', 'Key', 1),
  CN_UNWRAP_KEY: entity(1, 'Create', 'Key', 1),
  CN_DERIVE_KEY: entity(1, 'Create', 'Key', 1),
  CN_INSERT_MASKED_OBJECT_USER: entity(1, 'Create', 'Key', 1),
  CN_MODIFY_OBJECT: entity(3, 'Update', 'Key', 1),
  CN_SHARE_OBJECT: entity(3, 'Update', 'Key', 1),
  CN_DESTROY_OBJECT: entity(4, 'Delete', 'Key', 1),
  CN_TOMBSTONE_OBJECT: entity(4, 'Delete', 'Key', 2),
  CN_WRAP_KEY: entity(2, 'Read', 'Key', 2),
  CN_EXTRACT_MASKED_OBJECT_USER: entity(2, 'Read', 'Key', 1),
  CN_NIST_AES_WRAP: entity(99, 'Use', 'Key', 1),
  CN_INIT_TOKEN: entity(1, 'Create', 'HSM', 3),
  CN_INIT_DONE: entity(99, 'Initialize Done', 'HSM', 1),
  CN_GEN_KEY_ENC_KEY: entity(1, 'Create', 'Key', 1),
  CN_GEN_PSWD_ENC_KEY: entity(1, 'Create', 'Key', 1),
  CN_STORE_KBK_SHARE: entity(1, 'Create', 'Key', 1),
  CN_SET_NODEID: entity(3, 'Update', 'HSM', 1),
  CN_CLOSE_PARTITION_SESSIONS: entity(99, 'Close Partition Sessions', 'HSM', 1),
  CN_ZEROIZE: entity(4, 'Delete', 'HSM', 4),
  CN_BACKUP_BEGIN: entity(99, 'Backup Begin', 'HSM', 1),
  CN_BACKUP_END: entity(99, 'Backup End', 'HSM', 1),
  CN_RESTORE_BEGIN: entity(99, 'Restore Begin', 'HSM', 2),
  CN_RESTORE_END: entity(99, 'Restore End', 'HSM', 2),
  CN_CLONE_SOURCE_STAGE1: entity(99, 'Clone Source Stage 1', 'HSM', 1),
  CN_CLONE_TARGET_INIT: entity(99, 'Clone Target Init', 'HSM', 1),
  CN_CLONE_TARGET_STAGE1: entity(99, 'Clone Target Stage 1', 'HSM', 1),
  CN_CERT_AUTH_STORE_CERT: entity(1, 'Create', 'Certificate', 1),
  CN_CERT_AUTH_VALIDATE_PEER_CERTS: entity(99, 'Validate Peer Certificates', 'HSM', 1),
  CN_CERT_AUTH_SOURCE_KEY_EXCHANGE: entity(99, 'Key Exchange', 'HSM', 1),
  CN_CERT_AUTH_TARGET_KEY_EXCHANGE: entity(99, 'Key Exchange', 'HSM', 1),
  CN_FIPS_RAND: entity(99, 'Generate Random', 'HSM', 1),
};

/**
 * Any other opcode: Entity Management / Other on the HSM; the normalizer puts the opcode name
 * into `activity_name`, so a new firmware opcode stays searchable.
 */
export const DEFAULT_OPCODE_MAPPING: OpcodeMapping = entity(99, 'Other', 'HSM', 1);

/** Certificate-storage `op_code` values; other op codes fall back to Other on a Certificate. */
export const CERT_STORE_MAPPINGS: Readonly<Record<string, OpcodeMapping>> = {
  CreateObject: entity(1, 'Create', 'Certificate', 1),
  SetAttributeValues: entity(3, 'Update', 'Certificate', 1),
  DestroyObject: entity(4, 'Delete', 'Certificate', 1),
};

/** Fallback for certificate-storage op codes not in {@link CERT_STORE_MAPPINGS}. */
export const DEFAULT_CERT_STORE_MAPPING: OpcodeMapping = entity(99, 'Other', 'Certificate', 1);

/** Activity captions per class, for the normalizer's sibling check (ids other than 99). */
export const ACTIVITY_CAPTIONS: Readonly<Record<OcsfClassUid, Readonly<Record<number, string>>>> = {
  2004: { 0: 'Unknown', 1: 'Create', 2: 'Update', 3: 'Close', 99: 'Other' },
  3001: {
    0: 'Unknown',
    1: 'Create',
    2: 'Enable',
    3: 'Password Change',
    4: 'Password Reset',
    5: 'Disable',
    6: 'Delete',
    7: 'Attach Policy',
    8: 'Detach Policy',
    9: 'Lock',
    10: 'MFA Factor Enable',
    11: 'MFA Factor Disable',
    99: 'Other',
  },
  3002: {
    0: 'Unknown',
    1: 'Logon',
    2: 'Logoff',
    3: 'Authentication Ticket',
    4: 'Service Ticket Request',
    5: 'Service Ticket Renew',
    99: 'Other',
  },
  3004: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
};

/** How a CloudHSM `User Type` maps onto OCSF `user.type_id`, plus its short form. */
export interface UserTypeMapping {
  typeId: number;
  type: string;
  /** Abbreviation used in `message` (`CU`, `CO` …). */
  short: string;
}

/** User types (docs/ocsf-mapping.md, Per class). Unknown types map to 99 with the raw name as `user.type`. */
export const USER_TYPES: Readonly<Record<string, UserTypeMapping>> = {
  CN_CRYPTO_USER: { typeId: 1, type: 'User', short: 'CU' },
  CN_CRYPTO_OFFICER: { typeId: 2, type: 'Admin', short: 'CO' },
  CN_CRYPTO_PRE_OFFICER: { typeId: 2, type: 'Admin', short: 'PRECO' },
  // 3 System in 1.1.0; 1.6 adds 4 Service, the better fit on an upgrade.
  CN_APPLIANCE_USER: { typeId: 3, type: 'System', short: 'AU' },
};

function entity(
  activityId: number,
  activityName: string,
  entityType: EntityType,
  severityId: number,
): OpcodeMapping {
  return { classUid: 3004, activityId, activityName, entityType, severityId };
}
