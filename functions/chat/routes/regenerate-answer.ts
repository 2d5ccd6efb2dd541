import { maxChars } from '../../../shared/validation/max-chars.js';
import * as z from '../../../shared/validation/zod.js';
import { defineRoute } from '../http/route.js';
import { chatEventSchemas } from '../protocols/chat-sse-events.js';
import { boundedText } from '../request-schemas.js';
import { conversationIdOf } from './conversation-id.js';
import { type TurnRouteDependencies, turnResponse } from './turn-response.js';

/**
 * POST /v1/conversations/{id}/regenerate: the last question (or the one before a named
 * answer) answered again, streamed as /v1/chat streams.
 */
export const regenerateAnswerRoute = (
  deps: TurnRouteDependencies & { limits: { maxMessageChars: number } },
) =>
  defineRoute({
    method: 'POST',
    path: '/v1/conversations/:id/regenerate',
    body: z.strictObject({
      model: z.optional(boundedText(100)),
      system: z.optional(z.string().check(...maxChars(deps.limits.maxMessageChars))),
      maxTokens: z.optional(z.int().check(z.positive())),
      messageId: z.optional(boundedText(100)),
    }),
    docs: {
      operationId: 'regenerateAnswer',
      summary: 'Answer the last question again',
      description:
        'The last answer is kept but superseded: left out of later prompts and of the default message listing. With `messageId` (an earlier answer, or a question), that answer is given again and it and everything after it are superseded. The new answer streams as POST /v1/chat streams.',
      params: { id: 'The conversation id (`conv_…`).' },
      responses: {
        200: {
          description: 'The new answer, as Server-Sent Events.',
          events: chatEventSchemas,
          headers: {
            'x-cache': '`off`: an answer given again is never looked up in the response cache.',
          },
        },
      },
      errors: [402, 403, 404, 409, 429, 502, 503, 529],
    },
    handle: async (input) => {
      const { messageId, ...options } = input.body;
      return turnResponse(deps, input, {
        ...options,
        conversationId: conversationIdOf(input.params),
        message: '',
        regenerate: true,
        ...(messageId !== undefined && { regenerates: messageId }),
      });
    },
  });
