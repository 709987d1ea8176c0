/**
 * CloudWatch Logs request-rate quotas (per account and region, shared with every caller: console
 * users, other tools, a backfill). The one place these figures live: the default budgets below,
^ * the config docs, the chart values and the README derive from this table (a unit test keeps them
 * in agreement). Checked 2026-11 against the quota page of the CloudWatch Logs user guide,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html, and the
 * API reference of DescribeLogStreams; docs/cloudwatch-logs.md keeps the evidence and history.
 * Where the figure depends on the region, the table holds the lowest one: the forwarder does not
 * know which column of the quota page applies to an account, and a live account may differ anyway
 * (Service Quotas shows its values).
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
 * What the defaults leave to others, in requests per second. GetLogEvents: one for people
 * reading logs in the console (each page they open is a call) and one for a `backfill` run beside
 * the live forwarder. Discovery needs a handful of Describe calls a minute, so it takes a fifth
 * of those quotas at most.
 */
export const GET_LOG_EVENTS_HEADROOM = { console: 1, backfill: 1 } as const;

/** Share of the Describe* quotas discovery may use. */
export const DESCRIBE_SHARE = 0.2;

/** Default budgets of the live forwarder, derived from the table. */
export const DEFAULT_BUDGETS = {
  GetLogEvents:
    CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.perSecond -
    GET_LOG_EVENTS_HEADROOM.console -
    GET_LOG_EVENTS_HEADROOM.backfill,
  DescribeLogStreams: CLOUDWATCH_LOGS_QUOTAS.DescribeLogStreams.perSecond * DESCRIBE_SHARE,
  DescribeLogGroups: CLOUDWATCH_LOGS_QUOTAS.DescribeLogGroups.perSecond * DESCRIBE_SHARE,
} as const;
