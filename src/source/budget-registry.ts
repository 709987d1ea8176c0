import type { RateLimiter } from './rate-limiter.js';

/** Where a quota applies: CloudWatch Logs quotas are per account and region. */
export interface BudgetScope {
  /** null: the account of the credentials, whichever it is (one per process today). */
  readonly accountId: string | null;
  readonly region: string;
}

/**
 * One call budget (RateLimiter, with its poll scheduler) per account and region, because that is
 * what a quota covers: every source reading the same account and region must draw on the same
 * budget, or together they would exceed it.
 */
export class BudgetRegistry {
  private readonly budgets = new Map<string, RateLimiter>();
  private readonly create: (scope: BudgetScope) => RateLimiter;

  constructor(create: (scope: BudgetScope) => RateLimiter) {
    this.create = create;
  }

  forScope(scope: BudgetScope): RateLimiter {
    const key = `${scope.accountId ?? '(credentials)'}/${scope.region}`;
    let budget = this.budgets.get(key);
    if (budget === undefined) {
      budget = this.create(scope);
      this.budgets.set(key, budget);
    }
    return budget;
  }
}
