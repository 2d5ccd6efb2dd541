import type { StoredMessage } from '../../../shared/domain/conversation.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { PageQuerySchema } from '../request-schemas.js';
import { conversationIdOf, conversationNotFound } from './conversation-id.js';

/** GET /v1/conversations/{id}: its messages, in order. */
export const getConversationRoute = (deps: { store: ConversationStore }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/conversations/:id',
    query: PageQuerySchema,
    handle: async ({ params, query, principal }) => {
      const id = conversationIdOf(params);
      const conversation = await deps.store.getConversation(principal.userId, id);
      if (!conversation) throw conversationNotFound(id);
      const page = await deps.store.listMessages(principal.userId, id, query);
      return json(200, {
        id: conversation.id,
        title: conversation.title,
        messages: page.items.map(toApiMessage),
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      });
    },
  });

function toApiMessage(message: StoredMessage) {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    createdAt: message.createdAt,
    ...(message.model && { model: message.model }),
    ...(message.stopReason && { stopReason: message.stopReason }),
    ...(message.usage && {
      usage: {
        inputTokens: message.usage.inputTokens,
        outputTokens: message.usage.outputTokens,
        cacheReadInputTokens: message.usage.cacheReadInputTokens,
        cacheCreationInputTokens: message.usage.cacheCreationInputTokens,
        ...(message.usageEstimated && { estimated: true }),
      },
    }),
    ...(message.costNanoUsd !== undefined && { costUsd: nanoToUsd(message.costNanoUsd) }),
  };
}
