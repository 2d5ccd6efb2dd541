import type { Clock } from '../../../shared/domain/clock.js';
import { ConflictError } from '../../../shared/domain/errors.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { conversationIdOf, conversationNotFound } from './conversation-id.js';

/** POST /v1/conversations/{id}/stop: ends the turn streaming in it, upstream included. */
export const stopConversationRoute = (deps: { store: ConversationStore; clock: Clock }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/conversations/:id/stop',
    handle: async ({ params, principal }) => {
      const id = conversationIdOf(params);
      if (await deps.store.requestStop(principal.userId, id, deps.clock())) {
        return json(202, { conversationId: id, status: 'stopping' });
      }
      if (!(await deps.store.getConversation(principal.userId, id))) throw conversationNotFound(id);
      throw new ConflictError('no turn is streaming in this conversation');
    },
  });
