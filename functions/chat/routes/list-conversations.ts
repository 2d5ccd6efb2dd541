import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { PageQuerySchema } from '../request-schemas.js';

/** GET /v1/conversations: the caller's conversations, newest activity first. */
export const listConversationsRoute = (deps: { store: ConversationStore }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/conversations',
    query: PageQuerySchema,
    handle: async ({ query, principal }) => {
      const page = await deps.store.listConversations(principal.userId, query);
      return json(200, {
        conversations: page.items.map((conversation) => ({
          id: conversation.id,
          title: conversation.title,
          createdAt: conversation.createdAt,
          updatedAt: conversation.updatedAt,
          messageCount: conversation.messageCount,
        })),
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      });
    },
  });
