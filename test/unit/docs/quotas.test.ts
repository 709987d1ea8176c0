import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { schemaKeys } from '../../../src/config/schema.js';
import { DEFAULT_RATE_LIMITS } from '../../../src/source/rate-limiter.js';
import {
  CLOUDWATCH_LOGS_QUOTAS,
  DEFAULT_BUDGETS,
  defaultGetLogEventsBudget,
  GET_LOG_EVENTS_QUOTA_BY_REGION,
  GET_LOG_EVENTS_SHARE,
  getLogEventsBudget,
  getLogEventsQuota,
} from '../../../src/util/cloudwatch-quotas.js';

const read = (path: string): string =>
  readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

/** Every "quota… N/s" figure stated within a line that names the API. */
function statedQuotas(text: string, api: string): number[] {
  const figures: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(api) && !line.includes(api.replace(/^./, (c) => c.toLowerCase()))) continue;
    for (const match of line.matchAll(/quota:? (\d+)\/s/g)) figures.push(Number(match[1]));
  }
  return figures;
}

describe('CloudWatch Logs quotas: one table, and everything agrees with it', () => {
  it('the default budgets derive from the table and leave headroom', () => {
    for (const op of ['GetLogEvents', 'DescribeLogStreams', 'DescribeLogGroups'] as const) {
      assert.equal(DEFAULT_RATE_LIMITS[op].ratePerSecond, DEFAULT_BUDGETS[op]);
      assert.ok(DEFAULT_BUDGETS[op] < CLOUDWATCH_LOGS_QUOTAS[op].perSecond, op);
    }
    const defaults = new Map(schemaKeys().map((k) => [k.key, k.default]));
    assert.equal(defaults.get('source.rateLimits.getLogEvents'), 'auto');
    assert.equal(
      defaults.get('source.rateLimits.describeLogStreams'),
      DEFAULT_BUDGETS.DescribeLogStreams,
    );
    assert.equal(
      defaults.get('source.rateLimits.describeLogGroups'),
      DEFAULT_BUDGETS.DescribeLogGroups,
    );
  });

  it('the GetLogEvents default follows the region: the lowest quota where it is not known', () => {
    assert.equal(getLogEventsQuota('us-east-1'), 25);
    assert.equal(getLogEventsQuota('ap-south-1'), 25);
    assert.equal(getLogEventsQuota('us-west-2'), 10);
    assert.equal(getLogEventsQuota('eu-central-1'), 10);
    assert.equal(getLogEventsQuota('eu-west-3'), 30);
    for (const unknown of [
      null,
      'cn-north-1',
      'us-gov-west-1',
      'us-isob-east-1',
      'eusc-de-east-1',
    ]) {
      assert.equal(
        getLogEventsQuota(unknown),
        CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.perSecond,
        String(unknown),
      );
    }
    // The table's lowest figure is the lowest per-region figure.
    assert.equal(
      Math.min(...Object.values(GET_LOG_EVENTS_QUOTA_BY_REGION)),
      CLOUDWATCH_LOGS_QUOTAS.GetLogEvents.perSecond,
    );
    assert.equal(defaultGetLogEventsBudget('us-east-1'), 20);
    assert.equal(defaultGetLogEventsBudget('eu-west-1'), 8);
    assert.equal(defaultGetLogEventsBudget(null), DEFAULT_BUDGETS.GetLogEvents);
    assert.deepEqual(getLogEventsBudget('auto', 'us-east-1'), { perSecond: 20, auto: true });
    assert.deepEqual(getLogEventsBudget('auto', null), { perSecond: 8, auto: true });
    assert.deepEqual(getLogEventsBudget(12.5, 'us-east-1'), { perSecond: 12.5, auto: false });
    const { live, console, backfill } = GET_LOG_EVENTS_SHARE;
    assert.ok(live + console + backfill <= 1 && console > 0 && backfill > 0);
  });

  it('the chart values, the config docs and the README state the same defaults', () => {
    const values = read('helm/cloudhsm-audit-forwarder/values.yaml');
    const config = read('config/README.md');
    const readme = read('README.md');
    const cases = [
      ['getLogEvents', 'RATE_LIMIT_GET_LOG_EVENTS', 'auto'],
      ['describeLogStreams', 'RATE_LIMIT_DESCRIBE_LOG_STREAMS', DEFAULT_BUDGETS.DescribeLogStreams],
      ['describeLogGroups', 'RATE_LIMIT_DESCRIBE_LOG_GROUPS', DEFAULT_BUDGETS.DescribeLogGroups],
    ] as const;
    for (const [key, env, budget] of cases) {
      assert.match(values, new RegExp(`\\n    ${key}: ${budget}\\n`), `values.yaml ${key}`);
      assert.match(config, new RegExp(`\\| \`${env}\` \\| \`${budget}\` \\|`), `config ${env}`);
    }
    assert.match(
      readme,
      new RegExp(`\\| \`RATE_LIMIT_GET_LOG_EVENTS\` \\|[^\\n]*\\| \`auto\` \\|`),
    );
  });

  it('no document or comment states another quota figure', () => {
    const files = [
      'README.md',
      'config/README.md',
      'helm/cloudhsm-audit-forwarder/values.yaml',
      'helm/cloudhsm-audit-forwarder/README.md',
      'docs/cloudwatch-logs.md',
      'src/source/rate-limiter.ts',
      'src/config/schema.ts',
    ];
    for (const file of files) {
      const text = read(file);
      for (const api of [
        'GetLogEvents',
        'DescribeLogStreams',
        'DescribeLogGroups',
        'FilterLogEvents',
      ] as const) {
        for (const figure of statedQuotas(text, api)) {
          assert.equal(
            figure,
            CLOUDWATCH_LOGS_QUOTAS[api].perSecond,
            `${file}: ${api} quota ${figure}/s`,
          );
        }
      }
    }
  });

  it('the docs table lists every quota of the table', () => {
    const docs = read('docs/cloudwatch-logs.md');
    for (const [api, quota] of Object.entries(CLOUDWATCH_LOGS_QUOTAS)) {
      assert.match(docs, new RegExp(`\\| ${api} \\| ${quota.perSecond} \\|`), api);
    }
  });
});
