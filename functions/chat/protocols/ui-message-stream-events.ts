import * as z from '../../../shared/validation/zod.js';
import {
  answerFailureSchema,
  answerUsageSchema,
  stopReasonSchema,
  usdSchema,
} from '../response-schemas.js';

const TEXT_ID = () => z.string().check(z.describe('The text part (one per answer).'));

/** An answer's metadata, as the stream gives it (`UiMessageMetadata`). */
export const uiMessageMetadataSchema = () =>
  z.object({
    conversationId: z.optional(z.string()),
    model: z.optional(z.string()),
    stopReason: z.optional(stopReasonSchema()),
    usage: z.optional(answerUsageSchema()),
    costUsd: z.optional(usdSchema()),
    error: z.optional(answerFailureSchema()),
  });

/**
 * The chunks of our UI message stream (`ui-message-stream.ts`), by type: for the API
 * document and the tests that read real streams. Built on call, never at load.
 */
export function uiMessageStreamChunkSchemas() {
  const metadata = uiMessageMetadataSchema();
  return {
    start: z
      .object({
        type: z.literal('start'),
        messageId: z.string(),
        messageMetadata: metadata,
      })
      .check(z.describe("First: the answer's id, its conversation and model (message metadata).")),
    'start-step': z.object({ type: z.literal('start-step') }),
    'text-start': z.object({ type: z.literal('text-start'), id: TEXT_ID() }),
    'text-delta': z
      .object({ type: z.literal('text-delta'), id: TEXT_ID(), delta: z.string() })
      .check(z.describe("The next piece of the answer's text.")),
    'text-end': z.object({ type: z.literal('text-end'), id: TEXT_ID() }),
    'finish-step': z.object({ type: z.literal('finish-step') }),
    'message-metadata': z
      .object({ type: z.literal('message-metadata'), messageMetadata: metadata })
      .check(
        z.describe(
          'When the answer ended: why (`stopReason`), its tokens and its cost; or the type of its failure.',
        ),
      ),
    finish: z
      .object({
        type: z.literal('finish'),
        finishReason: z.enum(['stop', 'length', 'content-filter', 'interrupted', 'error', 'other']),
      })
      .check(
        z.describe(
          'Last but `[DONE]`, when the answer ended; `interrupted` with no `stopReason` when a resumed stream could not follow the answer to its end: it goes on, resume again.',
        ),
      ),
    error: z
      .object({ type: z.literal('error'), errorText: z.string() })
      .check(
        z.describe(
          'Last but `[DONE]`, when the answer failed after it started; the partial answer is kept.',
        ),
      ),
  };
}
