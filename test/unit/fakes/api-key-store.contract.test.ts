import { describe } from 'vitest';
import { apiKeyStoreContract } from '../../contracts/api-key-store.contract.js';
import { InMemoryApiKeyStore } from '../../fakes/in-memory-api-key-store.js';

describe('InMemoryApiKeyStore', () => {
  apiKeyStoreContract(async () => ({ store: new InMemoryApiKeyStore() }));
});
