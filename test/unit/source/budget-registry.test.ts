import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BudgetRegistry, type BudgetScope } from '../../../src/source/budget-registry.js';
import { RateLimiter } from '../../../src/source/rate-limiter.js';

describe('BudgetRegistry', () => {
  it('gives every user of one account and region the same budget, and others their own', () => {
    const created: BudgetScope[] = [];
    const registry = new BudgetRegistry((scope) => {
      created.push(scope);
      return new RateLimiter();
    });
    const a = registry.forScope({ accountId: '111122223333', region: 'eu-west-1' });
    assert.equal(registry.forScope({ accountId: '111122223333', region: 'eu-west-1' }), a);
    assert.notEqual(registry.forScope({ accountId: '111122223333', region: 'eu-central-1' }), a);
    assert.notEqual(registry.forScope({ accountId: '444455556666', region: 'eu-west-1' }), a);
    const unknown = registry.forScope({ accountId: null, region: 'eu-west-1' });
    assert.notEqual(unknown, a);
    assert.equal(registry.forScope({ accountId: null, region: 'eu-west-1' }), unknown);
    assert.equal(created.length, 4);
  });
});
