import { isSuperseded, type StoredMessage } from '../../../shared/domain/conversation.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { reportedUsage } from '../../../shared/domain/usage.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { failureAsTold } from '../protocols/failure-as-told.js';
import { PageQuerySchema } from '../request-schemas.js';
import {
  answerFailureSchema,
  answerUsageSchema,
  instantSchema,
  nextCursorSchema,
  stopReasonSchema,
  usdSchema,
} from '../response-schemas.js';
import { conversationIdOf, conversationNotFound } from './conversation-id.js';

/** GET /v1/conversations/{id}: its messages, in order. */
export const getConversationRoute = (deps: { store: ConversationStore }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/conversations/:id',
    query: z.extend(PageQuerySchema, {
      include: z.optional(
        z
          .literal('superseded')
          .check(
            z.describe('Also list the answers and questions a regenerate or an edit replaced.'),
          ),
      ),
    }),
    docs: {
      operationId: 'getConversation',
      summary: "A conversation's messages, in order",
      description:
        'Answers carry their model, stop reason, tokens and cost, and a failed one (`stopReason: error`) why it failed, as its stream told it (`error`); `stopReason: interrupted` marks what an answer had streamed when its function died. Messages a regenerate or an edit replaced are left out unless `include=superseded` (then marked `superseded: true`); every page but the last holds `limit` messages either way.',
      params: { id: 'The conversation id (`conv_…`).' },
      responses: {
        200: { description: 'A page of the conversation.', json: conversationSchema },
      },
      errors: [404],
    },
    handle: async ({ params, query, principal }) => {
      const id = conversationIdOf(params);
      const conversation = await deps.store.getConversation(principal.userId, id);
      if (!conversation) throw conversationNotFound(id);
      const page = await deps.store.listMessages(principal.userId, id, {
        ...query,
        ...(query.include !== 'superseded' && { skip: conversation.superseded }),
      });
      const superseded = (message: StoredMessage) =>
        isSuperseded(message.seq, conversation.superseded);
      return json(200, {
        id: conversation.id,
        title: conversation.title,
        messages: page.items.map((message) => ({
          ...toApiMessage(message),
          ...(superseded(message) && { superseded: true }),
        })),
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      } satisfies z.infer<ReturnType<typeof conversationSchema>>);
    },
  });

const conversationSchema = () =>
  z.object({
    id: z.string(),
    title: z.string(),
    messages: z.array(
      z.object({
        id: z.string(),
        role: z.enum(['user', 'assistant']),
        content: z.string(),
        createdAt: instantSchema(),
        model: z.optional(z.string()),
        stopReason: z.optional(stopReasonSchema()),
        usage: z.optional(answerUsageSchema()),
        costUsd: z.optional(usdSchema()),
        error: z.optional(answerFailureSchema()),
        superseded: z.optional(
          z.literal(true).check(z.describe('Replaced by a regenerated answer or an edit.')),
        ),
      }),
    ),
    nextCursor: nextCursorSchema(),
  });

function toApiMessage(message: StoredMessage) {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    createdAt: message.createdAt,
    ...(message.model && { model: message.model }),
    ...(message.stopReason && { stopReason: message.stopReason }),
    ...(message.usage && { usage: reportedUsage(message.usage, message.usageEstimated) }),
    ...(message.costNanoUsd !== undefined && { costUsd: nanoToUsd(message.costNanoUsd) }),
    ...(message.failure && { error: failureAsTold(message.failure) }),
  };
}
