import type { StoredMessage } from '../../../shared/domain/conversation.js';
import { ConflictError, NotFoundError } from '../../../shared/domain/errors.js';
import { jsonResponse } from '../../../shared/http/json-response.js';
import { parseQuery } from '../../../shared/http/parse-request.js';
import { ConversationIdSchema, PageQuerySchema } from '../request-schemas.js';
import type { Route, RouteContext } from '../router.js';

/** GET /v1/conversations: the caller's conversations, newest activity first. */
export const listConversationsRoute: Route = {
  method: 'GET',
  path: '/v1/conversations',
  handle: async ({ deps, event }, { userId }) => {
    const page = await deps.store.listConversations(userId, parseQuery(event, PageQuerySchema));
    return jsonResponse(200, {
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
};

/** GET /v1/conversations/{id}: its messages, in order. */
export const getConversationRoute: Route = {
  method: 'GET',
  path: '/v1/conversations/{id}',
  handle: async (request, { userId }) => {
    const { deps, event } = request;
    const conversation = await deps.store.getConversation(userId, conversationIdOf(request));
    if (!conversation) throw notFound(request);
    const page = await deps.store.listMessages(
      userId,
      conversation.id,
      parseQuery(event, PageQuerySchema),
    );
    return jsonResponse(200, {
      id: conversation.id,
      title: conversation.title,
      messages: page.items.map(toApiMessage),
      ...(page.nextCursor && { nextCursor: page.nextCursor }),
    });
  },
};

/** DELETE /v1/conversations/{id}: every item of it is removed. */
export const deleteConversationRoute: Route = {
  method: 'DELETE',
  path: '/v1/conversations/{id}',
  handle: async (request, { userId }) => {
    const deleted = await request.deps.store.deleteConversation(userId, conversationIdOf(request));
    if (!deleted) throw notFound(request);
    return { statusCode: 204, headers: {}, body: '' };
  },
};

/** POST /v1/conversations/{id}/stop: ends the turn streaming in it, upstream included. */
export const stopConversationRoute: Route = {
  method: 'POST',
  path: '/v1/conversations/{id}/stop',
  handle: async (request, { userId }) => {
    const { deps } = request;
    const conversationId = conversationIdOf(request);
    const now = deps.clock ?? Date.now;
    if (await deps.store.requestStop(userId, conversationId, now())) {
      return jsonResponse(202, { conversationId, status: 'stopping' });
    }
    if (!(await deps.store.getConversation(userId, conversationId))) throw notFound(request);
    throw new ConflictError('no turn is streaming in this conversation');
  },
};

function conversationIdOf(request: RouteContext): string {
  const id = request.params.id ?? '';
  // A malformed id cannot name a conversation: answer as for any unknown one.
  if (!ConversationIdSchema.safeParse(id).success) throw notFound(request);
  return id;
}

function notFound(request: RouteContext) {
  return new NotFoundError(`conversation ${JSON.stringify(request.params.id)} does not exist`);
}

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
    ...(message.costNanoUsd !== undefined && { costUsd: message.costNanoUsd / 1e9 }),
  };
}
