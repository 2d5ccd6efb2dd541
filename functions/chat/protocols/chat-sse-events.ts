import * as z from '../../../shared/validation/zod.js';
import { errorTypeSchema } from '../http/error-response.js';
import { answerUsageSchema, stopReasonSchema, usdSchema } from '../response-schemas.js';

/**
 * The `data:` JSON of each event of our chat stream (`chat-sse.ts`), by event name: for
 * the API document and the tests that read real streams. Built on call, never at load.
 */
export function chatEventSchemas() {
  return {
    start: z
      .object({
        type: z.literal('start'),
        conversationId: z.string(),
        messageId: z.string(),
        model: z.string(),
      })
      .check(z.describe("First: the conversation (new or continued) and the answer's ids.")),
    delta: z
      .object({ type: z.literal('delta'), text: z.string() })
      .check(z.describe("The next piece of the answer's text.")),
    done: z
      .object({
        type: z.literal('done'),
        messageId: z.string(),
        stopReason: stopReasonSchema(),
        usage: answerUsageSchema(),
        costUsd: usdSchema(),
      })
      .check(z.describe('Last, when the answer ended: why, its tokens and its cost.')),
    error: z
      .object({
        type: z.literal('error'),
        error: z.object({ type: errorTypeSchema(), message: z.string() }),
        retryable: z.boolean(),
        messageId: z.optional(z.string()),
        usage: z.optional(answerUsageSchema()),
        costUsd: z.optional(usdSchema()),
      })
      .check(
        z.describe(
          'Last, when the answer failed after it started: the partial answer is kept, and billed (its `messageId`, `usage` and `costUsd`, as `done` has them). Without them, a resumed stream that must be resumed again (its event id stays `msg_…:<offset>`), or one whose conversation was deleted or whose question was refused (budget, rate limit) after its turn began.',
        ),
      ),
  };
}
