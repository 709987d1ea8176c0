import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseRunArgs } from '../../src/commands/run-command.js';
import { UsageError } from '../../src/util/errors.js';

describe('run command arguments', () => {
  it('accepts streams to reset, named as LOG_GROUP/LOG_STREAM', () => {
    assert.deepEqual(
      parseRunArgs(['--reset-checkpoints', '/aws/cloudhsm/cluster-abc/hsm-xyz']).resetStreams,
      [{ logGroup: '/aws/cloudhsm/cluster-abc', logStream: 'hsm-xyz' }],
    );
  });

  it('refuses to reset every checkpoint without --yes', () => {
    assert.throws(() => parseRunArgs(['--reset-all-checkpoints']), /add --yes to confirm/);
    assert.equal(parseRunArgs(['--reset-all-checkpoints', '--yes']).resetAll, true);
  });

  it('names an unknown option and a malformed stream', () => {
    assert.throws(
      () => parseRunArgs(['--fast']),
      (e) => e instanceof UsageError && /"--fast"/.test(e.message),
    );
    assert.throws(() => parseRunArgs(['--reset-checkpoints', 'hsm-only']), /LOG_GROUP\/LOG_STREAM/);
    assert.throws(() => parseRunArgs(['--reset-checkpoints']), /needs a LOG_GROUP\/LOG_STREAM/);
  });
});
