import { MESSAGE_ID_PATTERN } from '../../shared/domain/ids.js';
import { maxChars } from '../../shared/validation/max-chars.js';
import * as z from '../../shared/validation/zod.js';

/** A string of 1 to `max` characters. */
export const boundedText = (max: number) => z.string().check(z.minLength(1), ...maxChars(max));

/**
 * A query parameter that is a whole number from `min` to `max` (`fallback` when absent),
 * in decimal digits only: Number() would also take `0x10`, `1e3` or ` 7`.
 */
/** A message id as the API gives it (`msg_` and 32 hex digits). */
export const messageIdSchema = () =>
  z.string().check(z.regex(MESSAGE_ID_PATTERN, 'a message id is msg_ and 32 hex digits'));

export const queryInt = (options: { min: number; max: number; fallback: number }) =>
  z._default(
    z.pipe(
      z.pipe(
        z.string().check(z.regex(/^[0-9]{1,9}$/, 'must be a whole number, in decimal digits')),
        z.transform(Number),
      ),
      z.int().check(z.minimum(options.min), z.maximum(options.max)),
    ),
    options.fallback,
  );

/** POST /v1/chat */
export function chatRequestSchema(limits: { maxMessageChars: number }) {
  return z.strictObject({
    message: z.string().check(
      z.refine((text) => text.trim().length > 0, 'message must not be empty'),
      // A length check (not a refinement), so the API document states the bound.
      ...maxChars(
        limits.maxMessageChars,
        `message must be at most ${limits.maxMessageChars} characters`,
      ),
    ),
    conversationId: z.optional(boundedText(100)),
    /** An earlier question of `conversationId` (its message id) that `message` replaces. */
    replaces: z.optional(boundedText(100)),
    model: z.optional(boundedText(100)),
    system: z.optional(z.string().check(...maxChars(limits.maxMessageChars))),
    maxTokens: z.optional(z.int().check(z.positive())),
  });
}

export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>;

/** `?limit&cursor` of every listing. */
export const PageQuerySchema = z.object({
  limit: queryInt({ min: 1, max: 100, fallback: 20 }),
  cursor: z.optional(boundedText(2048)),
});
