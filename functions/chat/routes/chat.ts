import { defineRoute } from '../http/route.js';
import { chatEventSchemas } from '../protocols/chat-sse-events.js';
import { chatRequestSchema } from '../request-schemas.js';
import { type TurnRouteDependencies, turnResponse } from './turn-response.js';

/** POST /v1/chat: one turn, streamed as Server-Sent Events. */
export const chatRoute = (deps: TurnRouteDependencies & { limits: { maxMessageChars: number } }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/chat',
    body: chatRequestSchema(deps.limits),
    docs: {
      operationId: 'chat',
      summary: 'Send a message; the answer streams back',
      description:
        'Starts a conversation, or continues `conversationId`. The answer streams as Server-Sent Events: `start`, `delta`…, then `done` or `error`. Each event has an `id:` (how much of the answer the client has), to resume after with GET /v1/conversations/{id}/stream. An error found before the stream starts is a JSON response, never a 200 stream, and names the `conversationId` when the question was kept.',
      responses: {
        200: {
          description: 'The answer, as Server-Sent Events.',
          events: chatEventSchemas,
          headers: {
            'x-cache':
              '`hit` when a cached answer is replayed (free); `miss`, `bypass`, `refresh` or `off` otherwise.',
          },
        },
      },
      errors: [402, 403, 404, 409, 429, 502, 503, 529],
    },
    handle: async (input) => turnResponse(deps, input, input.body),
  });
