import * as z from '../../../shared/validation/zod.js';
import { defineRoute } from '../http/route.js';
import { chatEventSchemas } from '../protocols/chat-sse-events.js';
import { conversationIdOf } from './conversation-id.js';
import { type TurnRouteDependencies, turnResponse } from './turn-response.js';

const boundedText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** POST /v1/conversations/{id}/regenerate: the last question answered again, streamed as /v1/chat streams. */
export const regenerateAnswerRoute = (
  deps: TurnRouteDependencies & { limits: { maxMessageChars: number } },
) =>
  defineRoute({
    method: 'POST',
    path: '/v1/conversations/:id/regenerate',
    body: z.strictObject({
      model: z.optional(boundedText(100)),
      system: z.optional(z.string().check(z.maxLength(deps.limits.maxMessageChars))),
      maxTokens: z.optional(z.int().check(z.positive())),
    }),
    docs: {
      operationId: 'regenerateAnswer',
      summary: 'Answer the last question again',
      description:
        'The last answer is kept but superseded: left out of later prompts and of the default message listing. The new answer streams as POST /v1/chat streams.',
      params: { id: 'The conversation id (`conv_…`).' },
      responses: {
        200: { description: 'The new answer, as Server-Sent Events.', events: chatEventSchemas },
      },
      errors: [402, 403, 404, 409, 429, 502, 503, 529],
    },
    handle: async (input) =>
      turnResponse(deps, input, {
        ...input.body,
        conversationId: conversationIdOf(input.params),
        message: '',
        regenerate: true,
      }),
  });
