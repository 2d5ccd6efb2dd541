import { maxChars } from '../../../shared/validation/max-chars.js';
import * as z from '../../../shared/validation/zod.js';

/** An image or a document is measured by its source (see prompt-size.ts). */
const Block = z.looseObject({ type: z.string().check(z.minLength(1)) }).check(
  z.refine((block) => !['image', 'document'].includes(block.type) || hasSource(block), {
    message: 'an image or document block needs a source object with a type',
  }),
);

function hasSource(block: Record<string, unknown>): boolean {
  const source = block.source;
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as { type?: unknown }).type === 'string'
  );
}

/** A server tool's `max_uses` is what its cost is reserved by: a count, or null for none. */
const Tool = z.looseObject({
  max_uses: z.nullish(z.int().check(z.positive())),
});

/**
 * Fast mode costs a multiple of the list price (twice it on Opus 4.8, with prompt caching and
 * data residency multiplied on top) that no price table here knows: neither held before the
 * call nor billed after, so refused.
 */
const Speed = z.nullish(
  z.literal('standard', {
    error: 'fast mode is not offered here: its price is a multiple this gateway does not bill',
  }),
);

/**
 * Not Messages API fields: the SDKs send them as headers (anthropic-workspace-id,
 * anthropic-user-profile-id), and the SDK that calls upstream would turn them into
 * headers too, choosing for the caller which workspace the deployment's key bills.
 */
const headerOnly = () =>
  z.optional(
    z.never({
      error:
        'is not a body field, and this gateway chooses the workspace and the user profile itself',
    }),
  );

const Message = z.looseObject({
  // `system`: an instruction mid-conversation (the mid-conversation-system beta).
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(Block)]),
});

/**
 * POST /v1/messages: only what governance reads is checked (the model, max_tokens, the
 * shape it measures, server tools' max_uses); every other field, known or not, goes
 * upstream as sent.
 */
export const MessagesRequestSchema = z.looseObject({
  model: z.string().check(z.minLength(1), ...maxChars(200)),
  max_tokens: z.int().check(z.nonnegative()),
  messages: z.array(Message).check(z.minLength(1, 'at least one message is required')),
  system: z.optional(z.union([z.string(), z.array(Block)])),
  tools: z.optional(z.array(Tool)),
  stream: z.optional(z.boolean()),
  speed: Speed,
  /** Read to hold a regional call's dearer worst case. */
  inference_geo: z.nullish(z.string()),
  workspace_id: headerOnly(),
  user_profile_id: headerOnly(),
});

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

/** POST /v1/messages/count_tokens: the same, without max_tokens and stream. */
export const CountTokensRequestSchema = z.looseObject({
  model: z.string().check(z.minLength(1), ...maxChars(200)),
  messages: z.array(Message).check(z.minLength(1, 'at least one message is required')),
  system: z.optional(z.union([z.string(), z.array(Block)])),
  tools: z.optional(z.array(Tool)),
  workspace_id: headerOnly(),
  user_profile_id: headerOnly(),
});

export type CountTokensRequest = z.infer<typeof CountTokensRequestSchema>;
