import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { schemaKeys } from '../../../src/config/schema.js';
import { DEFAULT_RATE_LIMITS } from '../../../src/source/rate-limiter.js';
import { CLOUDWATCH_LOGS_QUOTAS, DEFAULT_BUDGETS } from '../../../src/util/cloudwatch-quotas.js';

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
    assert.equal(defaults.get('source.rateLimits.getLogEvents'), DEFAULT_BUDGETS.GetLogEvents);
    assert.equal(
      defaults.get('source.rateLimits.describeLogStreams'),
      DEFAULT_BUDGETS.DescribeLogStreams,
    );
    assert.equal(
      defaults.get('source.rateLimits.describeLogGroups'),
      DEFAULT_BUDGETS.DescribeLogGroups,
    );
  });

  it('the chart values, the config docs and the README state the same defaults', () => {
    const values = read('helm/cloudhsm-audit-forwarder/values.yaml');
    const config = read('config/README.md');
    const readme = read('README.md');
    const cases = [
      ['getLogEvents', 'RATE_LIMIT_GET_LOG_EVENTS', DEFAULT_BUDGETS.GetLogEvents],
      ['describeLogStreams', 'RATE_LIMIT_DESCRIBE_LOG_STREAMS', DEFAULT_BUDGETS.DescribeLogStreams],
      ['describeLogGroups', 'RATE_LIMIT_DESCRIBE_LOG_GROUPS', DEFAULT_BUDGETS.DescribeLogGroups],
    ] as const;
    for (const [key, env, budget] of cases) {
      assert.match(values, new RegExp(`\\n    ${key}: ${budget}\\n`), `values.yaml ${key}`);
      assert.match(config, new RegExp(`\\| \`${env}\` \\| \`${budget}\` \\|`), `config ${env}`);
    }
    assert.match(
      readme,
      new RegExp(
        `\\| \`RATE_LIMIT_GET_LOG_EVENTS\` \\|[^\\n]*\\| \`${DEFAULT_BUDGETS.GetLogEvents}\` \\|`,
      ),
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
