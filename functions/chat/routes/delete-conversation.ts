import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { conversationIdOf, conversationNotFound } from './conversation-id.js';

/** DELETE /v1/conversations/{id}: every item of it is removed. */
export const deleteConversationRoute = (deps: { store: ConversationStore }) =>
  defineRoute({
    method: 'DELETE',
    path: '/v1/conversations/:id',
    docs: {
      operationId: 'deleteConversation',
      summary: 'Delete a conversation and every message of it',
      params: { id: 'The conversation id (`conv_…`).' },
      responses: { 204: { description: 'Deleted.' } },
      errors: [404],
    },
    handle: async ({ params, principal }) => {
      const id = conversationIdOf(params);
      if (!(await deps.store.deleteConversation(principal.userId, id))) {
        throw conversationNotFound(id);
      }
      return json(204);
    },
  });
