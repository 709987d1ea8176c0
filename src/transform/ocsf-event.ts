/**
 * The subset of OCSF 1.1.0 this forwarder emits (Authentication 3002, Account Change 3001,
 * Entity Management 3004, Detection Finding 2004), typed for the attributes actually used.
 */
import type { OCSF_VERSION } from '../util/identity.js';

/** `metadata.product`. */
export interface OcsfProduct {
  name: string;
  vendor_name: string;
  feature?: { name: string };
}

/** `metadata`. */
export interface OcsfMetadata {
  version: typeof OCSF_VERSION;
  product: OcsfProduct;
  profiles: readonly string[];
  uid: string;
  event_code?: string;
  sequence?: number;
  original_time?: string;
  logged_time?: number;
  log_name?: string;
  log_provider?: string;
}

/** `cloud` (cloud profile). */
export interface OcsfCloud {
  provider: 'AWS';
  region?: string;
  account?: { uid: string; type_id: 10; type: 'AWS Account' };
}

/** `device`: the HSM (host profile). */
export interface OcsfDevice {
  type_id: 99;
  type: 'HSM';
  uid: string;
  name: string;
  region?: string;
  groups: Array<{ uid: string; name: string; type: string }>;
}

/** `user` / `actor.user`. */
export interface OcsfUser {
  name?: string;
  uid?: string;
  type_id?: number;
  type?: string;
}

/** `entity` (Entity Management's managed entity). */
export interface OcsfEntity {
  uid?: string;
  name: string;
  type: string;
  data?: Record<string, unknown>;
}

/** `observables[]`. */
export interface OcsfObservable {
  name: string;
  type_id: number;
  type: string;
  value: string;
}

/** Detection Finding `finding_info`. */
export interface OcsfFindingInfo {
  uid: string;
  title: string;
  desc?: string;
  types?: string[];
  created_time?: number;
  first_seen_time?: number;
  last_seen_time?: number;
  analytic?: { name: string; type_id: number; type: string; uid?: string };
}

/** `resources[]` of a Detection Finding. */
export interface OcsfResource {
  uid: string;
  name?: string;
  type?: string;
  region?: string;
}

/**
 * One OCSF event as this forwarder emits it. `unmapped.cloudhsm` holds only the source fields the
 * event has no attribute for (or whose attribute loses part of them); `raw_data` holds the text.
 */
export interface OcsfEvent {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activity_id: number;
  activity_name: string;
  type_uid: number;
  type_name: string;
  time: number;
  timezone_offset?: number;
  severity_id: number;
  severity: string;
  status_id?: number;
  status?: string;
  status_code?: string;
  status_detail?: string;
  message?: string;
  metadata: OcsfMetadata;
  cloud: OcsfCloud;
  device?: OcsfDevice;
  user?: OcsfUser;
  session?: { uid: string };
  actor?: { session?: { uid: string }; user?: OcsfUser };
  entity?: OcsfEntity;
  dst_endpoint?: { uid: string; name: string };
  service?: { name: string; uid: string };
  is_remote?: boolean;
  finding_info?: OcsfFindingInfo;
  resources?: OcsfResource[];
  confidence_id?: number;
  confidence?: string;
  observables?: OcsfObservable[];
  raw_data?: string;
  unmapped: { cloudhsm: CloudHsmUnmapped };
}

/**
 * `unmapped.cloudhsm`: flat snake_case keys; scalar source values are strings (hex and handles
 * as printed), lists are string arrays, unknown/repeated keys go to `extra_fields`.
 */
export type CloudHsmUnmapped = Record<
  string,
  string | null | string[] | Array<{ key: string; value: string }>
>;
