import type { CheckpointScope } from '../../src/checkpoint/checkpoint-store.js';

/** The fixed account and region the tests' checkpoint stores are keyed by. */
export const TEST_SCOPE: CheckpointScope = { accountId: '123456789012', region: 'us-east-1' };
