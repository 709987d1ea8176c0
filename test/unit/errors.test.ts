import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { exitCodeFor, ForwarderError, UsageError } from '../../src/util/errors.js';

describe('exitCodeFor', () => {
  it('maps usage and configuration errors to 2', () => {
    assert.equal(exitCodeFor(new UsageError('bad flag')), 2);
    assert.equal(exitCodeFor(new UsageError('bad key', 'FWD_ERR_CONFIG')), 2);
    assert.equal(exitCodeFor(new ForwarderError('FWD_ERR_CHECKPOINT_CORRUPT', 'torn')), 2);
  });

  it('maps runtime failures to 1', () => {
    assert.equal(exitCodeFor(new ForwarderError('FWD_ERR_SINK', 'down', { retryable: true })), 1);
    assert.equal(exitCodeFor(new Error('boom')), 1);
  });
});
