import { describe } from 'vitest';
import { jobStoreContract } from '../../contracts/job-store.contract.js';
import { InMemoryJobStore } from '../../fakes/in-memory-job-store.js';

describe('InMemoryJobStore', () => {
  jobStoreContract(async () => new InMemoryJobStore());
});
