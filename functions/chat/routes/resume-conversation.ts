import * as z from '../../../shared/validation/zod.js';
import type { RequestScope } from '../http/chat-router.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import { chatEventEncoder } from '../protocols/chat-sse.js';
import { chatEventSchemas } from '../protocols/chat-sse-events.js';
import type { FollowTurn } from '../turn/follow-turn.js';
import { conversationIdOf } from './conversation-id.js';

const offset = z.pipe(z.coerce.number(), z.int().check(z.nonnegative()));

/**
 * GET /v1/conversations/{id}/stream: the answer streaming in the conversation, resumed
 * after `Last-Event-ID` (or `?after=`): what was said already, then the rest as it comes.
 * `204` when no turn is streaming.
 */
export const resumeConversationRoute = (deps: {
  followTurn: FollowTurn;
  limits: { pingIntervalMs: number };
}) =>
  defineRoute({
    method: 'GET',
    path: '/v1/conversations/:id/stream',
    query: z.object({ after: z.optional(offset) }),
    docs: {
      operationId: 'resumeConversation',
      summary: 'Resume the answer streaming in a conversation',
      description:
        'Replays what the streaming turn has said after `Last-Event-ID` (or `?after=`, an offset in UTF-16 code units, the `id:` of the last event received), then follows it to its end, as POST /v1/chat streams it.',
      params: {
        id: 'The conversation id (`conv_…`).',
        after: 'The `id:` of the last event received, as `Last-Event-ID` carries it.',
      },
      responses: {
        200: {
          description: 'The rest of the answer, as Server-Sent Events (`id:` lines are offsets).',
          events: chatEventSchemas,
        },
        204: { description: 'No turn is streaming in the conversation.' },
      },
      errors: [404],
    },
    handle: async ({ request, params, query, principal, scope }) => {
      const afterOffset = query.after ?? lastEventOffset(request.headers);
      const followed = await deps.followTurn({
        userId: principal.userId,
        conversationId: conversationIdOf(params),
        afterOffset,
        remainingTimeMs: scope.remainingTimeMs,
      });
      if (!followed) return json(204);
      return streamOf(scope, followed.events, afterOffset, deps.limits.pingIntervalMs);
    },
  });

function streamOf(
  scope: RequestScope,
  events: AsyncIterable<Parameters<ReturnType<typeof chatEventEncoder>>[0]>,
  afterOffset: number,
  pingIntervalMs: number,
): Response {
  const encode = chatEventEncoder(afterOffset);
  return sseResponse(
    scope,
    async (write) => {
      for await (const event of events) write(encode(event));
    },
    { pingIntervalMs },
  );
}

/** `Last-Event-ID`: our ids are offsets; anything else resumes from the start. */
function lastEventOffset(headers: Headers): number {
  const value = Number(headers.get('last-event-id') ?? '0');
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}
