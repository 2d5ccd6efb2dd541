import type { StopReason } from '../../shared/domain/conversation.js';
import * as z from '../../shared/validation/zod.js';
import { errorTypeSchema } from './http/error-response.js';

/*
 * Pieces of the response bodies, for the API document (GET /openapi.json) and the tests
 * that check real responses against it. Each is a function: schemas are built when the
 * document is, never while the function loads (building them costs cold start).
 */

// A record, so that a StopReason this list lacks fails to compile.
const STOP_REASONS: Record<StopReason, true> = {
  end_turn: true,
  max_tokens: true,
  stop_sequence: true,
  refusal: true,
  pause_turn: true,
  model_context_window_exceeded: true,
  stopped: true,
  timeout: true,
  interrupted: true,
  error: true,
};

/** A count of tokens, requests, … */
export const countSchema = () => z.int().check(z.nonnegative());

/** An amount in US dollars. */
export const usdSchema = () => z.number().check(z.nonnegative());

/** An ISO 8601 instant (`2026-11-15T09:30:00.000Z`). */
export const instantSchema = () => z.iso.datetime({ offset: true });

/** Why an answer ended: Claude's reasons, and ours (`stopped`, `timeout`, `interrupted`, `error`). */
export const stopReasonSchema = () =>
  z.enum(Object.keys(STOP_REASONS) as [StopReason, ...StopReason[]]);

/** Why a failed answer failed, as its stream told it (`FailureAsTold`). */
export const answerFailureSchema = () =>
  z
    .object({ type: errorTypeSchema(), message: z.string(), retryable: z.boolean() })
    .check(
      z.describe(
        'Why the answer failed (`stopReason: error`), as its stream told it: the error type, the message, and whether asking again may succeed. Absent on answers stored before this was kept.',
      ),
    );

/** The tokens of one answer, or of a month. */
export const tokenUsageSchema = () =>
  z.object({
    inputTokens: countSchema(),
    outputTokens: countSchema(),
    cacheReadInputTokens: countSchema(),
    cacheCreationInputTokens: countSchema(),
  });

/** An answer's tokens, and whether they are estimated (the answer cut before Claude counted it). */
export const answerUsageSchema = () =>
  z.extend(tokenUsageSchema(), {
    estimated: z.optional(
      z
        .literal(true)
        .check(
          z.describe(
            "true: the answer was cut (stopped, failed, broken off) before Claude counted it, so these are this gateway's estimate, erring high; billed as such.",
          ),
        ),
    ),
  });

/** Tokens as a usage record keeps them: with the 1-hour cache writes and web searches. */
export const recordedUsageSchema = () =>
  z.extend(tokenUsageSchema(), {
    cacheCreation1hInputTokens: z.optional(
      countSchema().check(z.describe('Of the cache writes, those at the 1-hour price.')),
    ),
    webSearchRequests: z.optional(countSchema()),
    inferenceGeo: z.optional(
      z
        .string()
        .check(
          z.describe(
            'Where inference ran, as the Anthropic API reported it; any geography but `global` costs 1.1 times the list price.',
          ),
        ),
    ),
  });

/** A page's continuation: pass it as `?cursor=` for the next page; absent on the last. */
export const nextCursorSchema = () => z.optional(z.string().check(z.minLength(1)));
