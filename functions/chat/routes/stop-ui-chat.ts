import type { Clock } from '../../../shared/domain/clock.js';
import { ConflictError } from '../../../shared/domain/errors.js';
import { quoted } from '../../../shared/domain/quoted.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { RecoverTurn } from '../../../shared/turns/recover-turn.js';
import { maxChars } from '../../../shared/validation/max-chars.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { conversationIdOfChat } from './ui-chat-id.js';

/**
 * POST /v1/ui/chat/{id}/stop?messageId=: stops the answer to the question useChat sent, by the
 * ids the client has from the moment it sends it (the chat's, and the question's), so a Stop
 * pressed while the answer has not started (`submitted`) stops it too. A stop that comes
 * before the turn is recorded is kept, and the turn stops as soon as it is.
 */
export const stopUiChatRoute = (deps: {
  store: ConversationStore;
  recover: RecoverTurn;
  clock: Clock;
}) =>
  defineRoute({
    method: 'POST',
    path: '/v1/ui/chat/:id/stop',
    query: z.object({
      messageId: z
        .string()
        .check(
          z.minLength(1),
          ...maxChars(128),
          z.describe(
            "The id of the question whose answer is to stop, as the chat has it (useChat's id of the last user message).",
          ),
        ),
    }),
    docs: {
      operationId: 'stopUiChat',
      summary: "Stop the answer to a useChat chat's question, started or not",
      description:
        "Stops the answer to the question `messageId` names (the chat's last user message, by the id useChat gave it, or the server's id of a question of a reopened chat that the client asked again), from the moment the question is sent: while it is admitted, while Claude has not sent its first token, or as it streams. Upstream generation is aborted (or never asked for); the stream ends `stopped` and the question is kept. A stop that arrives before the server has recorded the turn is kept for it (ten minutes; for a question the chat has not asked yet, for the turn that arrives within 2 seconds), and the turn stops as soon as it is recorded: `202` either way. `409` when the answer to that question, the chat's last, had ended: a late stop, which stops no turn asked after it came (the next question, or a later `regenerate()` of the same one); a turn for that question already under way as it came (a `regenerate()` being admitted) stops still. A stop naming an earlier question of the chat, answered already, is taken for one not yet recorded: `202`, and it stops nothing.",
      params: { id: 'The chat id, as POST /v1/ui/chat takes it.' },
      responses: { 202: { description: 'The answer is stopping.', json: stoppingSchema } },
      errors: [400, 409],
    },
    handle: async ({ params, query, principal: { userId }, scope }) => {
      const conversationId = conversationIdOfChat(userId, params.id ?? '');
      const stop = await deps.store.requestStopOfQuestion(
        userId,
        conversationId,
        query.messageId,
        deps.clock(),
        scope.arrivedAtMs,
      );
      if (stop !== 'ended') {
        return json(202, {
          conversationId,
          status: 'stopping',
        } satisfies z.infer<ReturnType<typeof stoppingSchema>>);
      }
      // Ended, or its function died: a dead turn is ended here, as the conversation's stop does.
      if ((await deps.recover(userId, conversationId)) === 'recovered') {
        throw new ConflictError(
          'the answer had stopped streaming without finishing (its function ended); what it streamed is kept, marked interrupted',
        );
      }
      throw new ConflictError(
        `the answer to ${quoted(query.messageId)} has ended: there is nothing to stop`,
      );
    },
  });

const stoppingSchema = () =>
  z.object({ conversationId: z.string(), status: z.literal('stopping') });
