/**
 * CloudWatch Logs request-rate quotas (per account and region, shared with every caller: console
 * users, other tools, a backfill). The one place these figures live: the default budgets below,
^ * the config docs, the chart values and the README derive from this table (a unit test keeps them
 * in agreement). Checked 2026-11 against the quota page of the CloudWatch Logs user guide,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html, and the
 * API reference of DescribeLogStreams; docs/cloudwatch-logs.md keeps the evidence and history.
 * Where the figure depends on the region, the table holds the lowest one, and GetLogEvents, the
 * one the forwarder spends most, also has its figure per region (below). A live account may differ
 * anyway (Service Quotas shows its values).
 */
export interface ApiQuota {
  /** Requests per second, lowest documented current figure over all regions. */
  readonly perSecond: number;
  /** What the quota page says beyond the lowest figure. */
  readonly note: string;
  /** Whether AWS raises it on request (Service Quotas). */
  readonly adjustable: boolean;
}

export const CLOUDWATCH_LOGS_QUOTAS = {
  GetLogEvents: {
    perSecond: 10,
    note: '25/s in most regions, 10/s in us-west-2, eu-west-1, eu-central-1 and a few more, 30/s in eu-west-3',
    adjustable: false,
  },
  FilterLogEvents: {
    perSecond: 5,
    note: '10/s in most regions, 25/s in us-east-1, 5/s in eu-central-1 and a few more; not used by the forwarder',
    adjustable: false,
  },
  DescribeLogStreams: { perSecond: 25, note: 'all regions', adjustable: true },
  DescribeLogGroups: { perSecond: 10, note: 'all regions', adjustable: true },
} as const satisfies Record<string, ApiQuota>;

/**
 * GetLogEvents quota of the regions whose figure differs from the common one, per the quota page
 * above ("eu-west-3: 30 per second … Each of the other supported Regions: 25 per second").
 */
export const GET_LOG_EVENTS_QUOTA_BY_REGION: Readonly<Record<string, number>> = {
  'us-west-2': 10,
  'eu-west-1': 10,
  'eu-central-1': 10,
  'ap-northeast-3': 10,
  'ap-southeast-3': 10,
  'ca-west-1': 10,
  'il-central-1': 10,
  'eu-west-3': 30,
};

/** GetLogEvents quota of every other commercial region. */
export const GET_LOG_EVENTS_QUOTA_COMMON = 25;

/**
 * Partitions the quota page does not speak for (China, GovCloud, the isolated and sovereign
 * clouds): they get the lowest figure, like a region the forwarder does not know.
 */
const OTHER_PARTITION = /^(cn|us-gov|us-iso[a-z]*|eusc)-/;

/**
 * The GetLogEvents quota of a region, requests per second. `null` (the region is left to the
 * SDK's default chain, so it is not known when the budgets are made) and regions outside the
 * commercial partition get the lowest documented figure: too low costs freshness, too high costs
 * throttling of everybody's calls.
 */
export function getLogEventsQuota(region: string | null): number {
  if (region === null || OTHER_PARTITION.test(region)) {
    return CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.perSecond;
  }
  return GET_LOG_EVENTS_QUOTA_BY_REGION[region] ?? GET_LOG_EVENTS_QUOTA_COMMON;
}

/**
 * How a region's GetLogEvents quota is shared by default. The live forwarder takes four fifths;
 * a tenth stays for people reading logs in the console (each page they open is a call) and a
 * tenth for a `backfill` run beside the live forwarder. In a 10/s region that is 8, 1 and 1.
 */
export const GET_LOG_EVENTS_SHARE = { live: 0.8, console: 0.1, backfill: 0.1 } as const;

/** The live forwarder's default GetLogEvents budget in a region (requests per second). */
export function defaultGetLogEventsBudget(region: string | null): number {
  return getLogEventsQuota(region) * GET_LOG_EVENTS_SHARE.live;
}

/**
 * The live forwarder's GetLogEvents budget: the configured rate, or for `auto` the default of the
 * region it reads (`null`: not known, so the lowest quota's).
 */
export function getLogEventsBudget(
  configured: number | 'auto',
  region: string | null,
): { readonly perSecond: number; readonly auto: boolean } {
  return configured === 'auto'
    ? { perSecond: defaultGetLogEventsBudget(region), auto: true }
    : { perSecond: configured, auto: false };
}

/**
 * Default `backfill --rate`: the backfill share of the lowest quota, because a backfill runs
 * beside the live forwarder whatever the region, and 1/s is safe everywhere.
 */
export const DEFAULT_BACKFILL_RATE =
  CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.perSecond * GET_LOG_EVENTS_SHARE.backfill;

/** Share of the Describe* quotas discovery may use. */
export const DESCRIBE_SHARE = 0.2;

/**
 * Default budgets where no region applies (the lowest quotas): the forwarder's own defaults for
 * the Describe calls, and the GetLogEvents budget of a source built without one (tests).
 */
export const DEFAULT_BUDGETS = {
  GetLogEvents: defaultGetLogEventsBudget(null),
  DescribeLogStreams: CLOUDWATCH_LOGS_QUOTAS.DescribeLogStreams.perSecond * DESCRIBE_SHARE,
  DescribeLogGroups: CLOUDWATCH_LOGS_QUOTAS.DescribeLogGroups.perSecond * DESCRIBE_SHARE,
} as const;
