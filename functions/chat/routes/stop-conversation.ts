import type { Clock } from '../../../shared/domain/clock.js';
import { ConflictError } from '../../../shared/domain/errors.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { RecoverTurn } from '../../../shared/turns/recover-turn.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { messageIdSchema } from '../request-schemas.js';
import { conversationIdOf, conversationNotFound } from './conversation-id.js';

/** POST /v1/conversations/{id}/stop: ends the turn streaming in it, upstream included. */
export const stopConversationRoute = (deps: {
  store: ConversationStore;
  recover: RecoverTurn;
  clock: Clock;
}) =>
  defineRoute({
    method: 'POST',
    path: '/v1/conversations/:id/stop',
    query: StopQuerySchema,
    docs: {
      operationId: 'stopConversation',
      summary: 'Stop the answer streaming in a conversation',
      description:
        'The streaming turn stops within about a second: upstream generation is aborted and the partial answer is stored as `stopped`. 409 when no turn is streaming, or when `messageId` names one that is not (it ended, and the next turn must not be stopped in its place).',
      params: {
        id: 'The conversation id (`conv_…`).',
        messageId:
          "The answer to stop (its `messageId`, from the `start` event or the message's metadata): only that turn is stopped.",
      },
      responses: { 202: { description: 'The turn is stopping.', json: stoppingSchema } },
      errors: [404, 409],
    },
    handle: async ({ params, query, principal: { userId } }) => {
      const id = conversationIdOf(params);
      if (await deps.store.requestStop(userId, id, deps.clock(), query.messageId)) {
        return json(202, {
          conversationId: id,
          status: 'stopping',
        } satisfies z.infer<ReturnType<typeof stoppingSchema>>);
      }
      const recovery = await deps.recover(userId, id);
      if (recovery === 'gone') throw conversationNotFound(id);
      if (recovery === 'recovered') {
        throw new ConflictError(
          'the turn had stopped streaming without finishing (its function ended); what it streamed is kept, marked interrupted',
        );
      }
      if (query.messageId && recovery === 'alive') {
        throw new ConflictError(
          `${query.messageId} is not the answer streaming in this conversation: it has ended`,
        );
      }
      throw new ConflictError('no turn is streaming in this conversation');
    },
  });

const StopQuerySchema = z.object({
  messageId: z.optional(messageIdSchema()),
});

const stoppingSchema = () =>
  z.object({ conversationId: z.string(), status: z.literal('stopping') });
