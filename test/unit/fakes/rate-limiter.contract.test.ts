import { describe } from 'vitest';
import { rateLimiterContract } from '../../contracts/rate-limiter.contract.js';
import { InMemoryRateLimiter } from '../../fakes/in-memory-rate-limiter.js';

describe('InMemoryRateLimiter', () => {
  rateLimiterContract(async () => new InMemoryRateLimiter());
});
