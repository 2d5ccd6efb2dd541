import { describe } from 'vitest';
import { conversationStoreContract } from '../../contracts/conversation-store.contract.js';
import { InMemoryConversationStore } from '../../fakes/in-memory-conversation-store.js';

describe('InMemoryConversationStore', () => {
  conversationStoreContract(async () => ({ store: new InMemoryConversationStore() }));
});
