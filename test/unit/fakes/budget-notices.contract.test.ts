import { describe } from 'vitest';
import { budgetNoticesContract } from '../../contracts/budget-notices.contract.js';
import { InMemoryBudgetNotices } from '../../fakes/in-memory-budget-notices.js';

describe('InMemoryBudgetNotices', () => {
  budgetNoticesContract(async () => new InMemoryBudgetNotices());
});
