import * as z from '../../../shared/validation/zod.js';
import type { RequestScope } from '../http/chat-router.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { sseResponse } from '../http/sse-response.js';
import { chatEventEncoder, parseEventId } from '../protocols/chat-sse.js';
import { chatEventSchemas } from '../protocols/chat-sse-events.js';
import type { FollowTurn, StreamPosition } from '../turn/follow-turn.js';
import { conversationIdOf } from './conversation-id.js';

const eventId = z.pipe(
  z.string(),
  z.transform((id, context) => {
    const position = parseEventId(id);
    if (!position) {
      context.issues.push({
        code: 'custom',
        input: id,
        message:
          'an event id is `msg_…:offset`, `msg_…:end` or an offset, as the `id:` lines carry them',
      });
      return z.NEVER;
    }
    return position;
  }),
);

/**
 * GET /v1/conversations/{id}/stream: the answer streaming in the conversation, resumed
 * after `Last-Event-ID` (or `?after=`): what was said already, then the rest as it comes.
 * A client whose answer has ended gets the one streaming now from its start. `204` when no
 * turn is streaming.
 */
export const resumeConversationRoute = (deps: {
  followTurn: FollowTurn;
  limits: { pingIntervalMs: number };
}) =>
  defineRoute({
    method: 'GET',
    path: '/v1/conversations/:id/stream',
    query: z.object({ after: z.optional(eventId) }),
    docs: {
      operationId: 'resumeConversation',
      summary: 'Resume the answer streaming in a conversation',
      description:
        "Replays what the streaming turn has said after `Last-Event-ID` (or `?after=`: the `id:` of the last event received, `msg_…:offset` with the offset in UTF-16 code units, or `msg_…:end` after the answer's `done` or `error`), then follows it to its end, as POST /v1/chat streams it. When that id names an answer that has ended, the one streaming now is sent from its start; with none streaming, the rest of that answer (if any) and its end, when it is the conversation's last and the id is not its end's (else `204`, which stops an EventSource).",
      params: {
        id: 'The conversation id (`conv_…`).',
        after: 'The `id:` of the last event received, as `Last-Event-ID` carries it.',
      },
      responses: {
        200: {
          description:
            'The rest of the answer, as Server-Sent Events (`id:` lines are `messageId:offset`, the end `messageId:end`).',
          events: chatEventSchemas,
        },
        204: {
          description:
            'No turn is streaming in the conversation, and the id names the end of its last answer, or not its last answer.',
        },
      },
      errors: [404, 429],
    },
    handle: async ({ request, params, query, principal, scope }) => {
      const followed = await deps.followTurn({
        userId: principal.userId,
        ...(principal.apiKey && { apiKey: principal.apiKey }),
        conversationId: conversationIdOf(params),
        after: query.after ?? lastEventPosition(request.headers),
        remainingTimeMs: scope.remainingTimeMs,
      });
      if (!followed) return json(204);
      return streamOf(scope, followed.events, followed.fromOffset, deps.limits.pingIntervalMs);
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

/** `Last-Event-ID`: an id not of ours resumes from the start, as an EventSource expects. */
function lastEventPosition(headers: Headers): StreamPosition {
  return parseEventId(headers.get('last-event-id') ?? '') ?? { offset: 0 };
}
