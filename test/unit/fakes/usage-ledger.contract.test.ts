import { describe } from 'vitest';
import { usageLedgerContract } from '../../contracts/usage-ledger.contract.js';
import { InMemoryUsageLedger } from '../../fakes/in-memory-usage-ledger.js';

describe('InMemoryUsageLedger', () => {
  usageLedgerContract(async () => ({ ledger: new InMemoryUsageLedger() }));
});
