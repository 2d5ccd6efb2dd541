import { describe } from 'vitest';
import { usageRecordsContract } from '../../contracts/usage-records.contract.js';
import { InMemoryUsageRecords } from '../../fakes/in-memory-usage-records.js';

describe('InMemoryUsageRecords', () => {
  usageRecordsContract(async () => ({ records: new InMemoryUsageRecords() }));
});
