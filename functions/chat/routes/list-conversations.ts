import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { PageQuerySchema } from '../request-schemas.js';
import { countSchema, instantSchema, nextCursorSchema } from '../response-schemas.js';

/** GET /v1/conversations: the caller's conversations, newest activity first. */
export const listConversationsRoute = (deps: { store: ConversationStore }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/conversations',
    query: PageQuerySchema,
    docs: {
      operationId: 'listConversations',
      summary: "The caller's conversations, newest activity first",
      responses: { 200: { description: 'A page of conversations.', json: conversationListSchema } },
    },
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
      } satisfies z.infer<ReturnType<typeof conversationListSchema>>);
    },
  });

const conversationListSchema = () =>
  z.object({
    conversations: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        createdAt: instantSchema(),
        updatedAt: instantSchema(),
        messageCount: countSchema().check(
          z.describe('Messages stored, those a regenerate or an edit replaced included.'),
        ),
      }),
    ),
    nextCursor: nextCursorSchema(),
  });
