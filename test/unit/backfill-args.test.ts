import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { defaultStateDir, parseBackfillArgs, parseTime } from '../../src/commands/backfill-args.js';
import { BackfillProgress, formatDuration } from '../../src/commands/backfill-progress.js';
import { streamInRange } from '../../src/source/backfill-plan.js';
import { DEFAULT_BACKFILL_RATE } from '../../src/util/cloudwatch-quotas.js';
import { UsageError } from '../../src/util/errors.js';

const FROM = Date.parse('2026-11-01T00:00:00Z');
const TO = Date.parse('2026-11-02T00:00:00Z');
const usage = (pattern: RegExp) => (e: unknown) =>
  e instanceof UsageError && pattern.test(e.message);

describe('backfill command arguments', () => {
  it('takes ISO-8601 times and epoch milliseconds, in either option form', () => {
    const args = parseBackfillArgs([
      '--from',
      '2026-11-01T00:00:00Z',
      `--to=${TO}`,
      '--log-group',
      '/aws/cloudhsm/b',
      '--log-group=/aws/cloudhsm/a',
      '--log-group',
      '/aws/cloudhsm/b',
    ]);
    assert.equal(args.from, FROM);
    assert.equal(args.to, TO);
    assert.deepEqual(args.logGroups, ['/aws/cloudhsm/a', '/aws/cloudhsm/b']);
    assert.equal(args.dryRun, false);
    assert.equal(args.stateDir, undefined);
    assert.equal(parseTime('--from', '2026-11-01'), FROM, 'a date alone is midnight UTC');
  });

  it('defaults to the call rate the live forwarder leaves for a backfill', () => {
    const args = parseBackfillArgs(['--from', String(FROM), '--to', String(TO)]);
    assert.equal(args.rate, DEFAULT_BACKFILL_RATE);
    assert.equal(parseBackfillArgs(['--from', '1', '--to', '2', '--rate', '0.5']).rate, 0.5);
    assert.equal(parseBackfillArgs(['--from', '1', '--to', '2', '--dry-run']).dryRun, true);
  });

  it('refuses a missing, invalid or reversed range, naming the option', () => {
    assert.throws(() => parseBackfillArgs(['--to', String(TO)]), usage(/needs --from/));
    assert.throws(() => parseBackfillArgs(['--from', String(FROM)]), usage(/needs --to/));
    assert.throws(
      () => parseBackfillArgs(['--from', 'yesterday', '--to', '2']),
      usage(/--from: invalid time "yesterday"/),
    );
    assert.throws(
      () => parseBackfillArgs(['--from', '1', '--to', '2026-13-45']),
      usage(/--to: invalid time/),
    );
    assert.throws(() => parseBackfillArgs(['--from', '--to', '2']), usage(/--from needs a value/));
    assert.throws(
      () => parseBackfillArgs(['--from', String(TO), '--to', String(FROM)]),
      usage(/--from \(2026-11-02T00:00:00.000Z\) must be before --to \(2026-11-01T00:00:00.000Z\)/),
    );
    assert.throws(() => parseBackfillArgs(['--from', '5', '--to', '5']), usage(/must be before/));
  });

  it('refuses unknown options and bad values', () => {
    assert.throws(
      () => parseBackfillArgs(['--from', '1', '--to', '2', '--fast']),
      usage(/unknown option "--fast" for backfill/),
    );
    assert.throws(
      () => parseBackfillArgs(['--from', '1', '--to', '2', '--rate', '0']),
      usage(/--rate: invalid value "0"/),
    );
    assert.throws(
      () => parseBackfillArgs(['--from', '1', '--to', '2', '--rate', 'fast']),
      usage(/--rate/),
    );
    assert.throws(
      () => parseBackfillArgs(['--from', '1', '--to', '2', '--dry-run=yes']),
      usage(/takes no value/),
    );
    assert.throws(
      () => parseBackfillArgs(['--from', '1', '--to', '2', '--log-group=']),
      usage(/--log-group needs/),
    );
  });

  it('keeps one state directory per range and set of groups, under the checkpoint directory', () => {
    const discovery = { logGroupPrefixes: ['/aws/cloudhsm/'], logGroups: [] };
    const a = defaultStateDir('/var/lib/ckpt', { from: FROM, to: TO, logGroups: [] }, discovery);
    assert.match(a, /^\/var\/lib\/ckpt\/backfill\/[0-9a-f]{16}$/);
    assert.equal(
      a,
      defaultStateDir('/var/lib/ckpt', { from: FROM, to: TO, logGroups: [] }, discovery),
    );
    assert.notEqual(
      a,
      defaultStateDir('/var/lib/ckpt', { from: FROM, to: TO + 1, logGroups: [] }, discovery),
    );
    assert.notEqual(
      a,
      defaultStateDir('/var/lib/ckpt', { from: FROM, to: TO, logGroups: ['/g'] }, discovery),
    );
    assert.notEqual(
      a,
      defaultStateDir(
        '/var/lib/ckpt',
        { from: FROM, to: TO, logGroups: [] },
        { logGroupPrefixes: ['/x/'], logGroups: [] },
      ),
    );
  });
});

describe('backfill plan and progress', () => {
  const info = (first?: number, last?: number, created?: number) => ({
    logStreamName: 'hsm-1',
    creationTime: created,
    firstEventTimestamp: first,
    lastEventTimestamp: last,
  });

  it('skips in a dry run only the streams DescribeLogStreams shows outside [from, to)', () => {
    const range = { from: FROM, to: TO };
    assert.equal(streamInRange(info(FROM - 10, FROM - 1), range), false, 'ended before from');
    assert.equal(streamInRange(info(TO, TO + 5), range), false, 'begins at to (exclusive)');
    assert.equal(
      streamInRange(info(undefined, undefined, TO), range),
      false,
      'created at to, no events',
    );
    assert.equal(streamInRange(info(FROM - 10, FROM), range), true, 'last event at from');
    assert.equal(streamInRange(info(TO - 1, TO + 5), range), true);
    assert.equal(streamInRange(info(), range), true, 'nothing known: read it');
  });

  it('reports streams done, records, rate and an ETA from the share of the range covered', () => {
    const progress = new BackfillProgress({ from: FROM, to: TO }, TO);
    progress.setStreams(2);
    const a = { logGroup: '/g', logStream: 'a' };
    const b = { logGroup: '/g', logStream: 'b' };
    assert.equal(progress.figures(TO + 1000).etaMs, undefined, 'nothing covered yet');
    progress.acknowledged(a, 300, FROM + (TO - FROM) / 2);
    progress.streamDone(b);
    const f = progress.figures(TO + 10_000);
    assert.equal(f.streamsDone, 1);
    assert.equal(f.records, 300);
    assert.equal(f.recordsPerSecond, 30);
    assert.equal(f.covered, 0.75);
    assert.equal(Math.round(f.etaMs ?? 0), 3333);
    assert.equal(
      progress.line(TO + 10_000),
      'streams 1/2 done, 300 records, 30.0 records/s, 75% of the range, ETA 3s',
    );
    progress.streamDone(a);
    assert.equal(progress.summary(TO + 20_000), '2/2 streams, 300 records in 20s (15.0 records/s)');
  });

  it('counts a range that reaches into the future as covered once it reaches now', () => {
    const progress = new BackfillProgress({ from: FROM, to: TO + 86_400_000 }, FROM);
    progress.setStreams(1);
    progress.acknowledged({ logGroup: '/g', logStream: 'a' }, 1, TO - 1);
    assert.ok(progress.figures(TO).covered > 0.99);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(200_000), '3m20s');
    assert.equal(formatDuration(7_500_000), '2h05m');
  });
});
