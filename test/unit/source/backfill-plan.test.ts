import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { planBackfill } from '../../../src/source/backfill-plan.js';
import { RateLimiter } from '../../../src/source/rate-limiter.js';
import { ForwarderError, UsageError } from '../../../src/util/errors.js';
import { awsError, FakeCloudWatch } from './support/fake-port.js';

const RANGE = { from: 1_000, to: 2_000 };
const fast = () =>
  new RateLimiter({
    DescribeLogGroups: { ratePerSecond: 1000, burst: 1000 },
    DescribeLogStreams: { ratePerSecond: 1000, burst: 1000 },
  });

describe('planBackfill', () => {
  it('lists the streams of the prefix groups and the named ones, every page, sorted', async () => {
    const port = new FakeCloudWatch();
    for (const stream of ['hsm-3', 'hsm-1', 'hsm-2']) port.put('/aws/cloudhsm/c1', stream);
    port.put('/aws/cloudhsm/c0', 'hsm-9');
    port.put('/other/group', 'x');
    port.put('/unrelated', 'y');
    const planned = await planBackfill(
      { port, limiter: fast() },
      { logGroupPrefixes: ['/aws/cloudhsm/'], logGroups: ['/other/group'] },
      RANGE,
    );
    assert.deepEqual(
      planned.map((s) => `${s.logGroup} ${s.logStreamName}`),
      [
        '/aws/cloudhsm/c0 hsm-9',
        '/aws/cloudhsm/c1 hsm-1',
        '/aws/cloudhsm/c1 hsm-2',
        '/aws/cloudhsm/c1 hsm-3',
        '/other/group x',
      ],
    );
    // Without time spans (this port lists names only) every stream is read.
    assert.ok(planned.every((s) => s.inRange));
  });

  it('refuses a named group that does not exist, naming it (a usage error, exit 2)', async () => {
    const port = new FakeCloudWatch();
    port.put('/aws/cloudhsm/c1', 'hsm-1');
    await assert.rejects(
      planBackfill(
        { port, limiter: fast() },
        { logGroupPrefixes: [], logGroups: ['/aws/cloudhsm/c1', '/aws/cloudhsm/gone'] },
        RANGE,
      ),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /log group \/aws\/cloudhsm\/gone does not exist/);
        return true;
      },
    );
  });

  it('fails, naming the group, when a listing is refused (no silent partial backfill)', async () => {
    const port = new FakeCloudWatch();
    port.put('/aws/cloudhsm/c1', 'hsm-1');
    port.describeLogStreams = () => Promise.reject(awsError('AccessDeniedException'));
    await assert.rejects(
      planBackfill(
        { port, limiter: fast() },
        { logGroupPrefixes: ['/aws/cloudhsm/'], logGroups: [] },
        RANGE,
      ),
      (e) =>
        e instanceof ForwarderError &&
        e.code === 'FWD_ERR_SOURCE' &&
        /cannot list the streams of log group \/aws\/cloudhsm\/c1 .*AccessDenied/.test(e.message),
    );
  });
});
