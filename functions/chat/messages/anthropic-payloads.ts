import * as z from '../../../shared/validation/zod.js';

/*
 * What /v1/messages and its siblings answer is Anthropic's own payload, passed on
 * unchanged: these schemas name only its outline (for the API document, which links
 * Anthropic's reference for the rest). Built on call, never at load.
 */

/** Anthropic's API reference, linked from the document's pass-through routes. */
export const ANTHROPIC_API_REFERENCE = 'https://docs.anthropic.com/en/api/messages';

/** A Message, as the Anthropic API returns it. */
export const anthropicMessageSchema = () =>
  z.looseObject({
    id: z.string(),
    type: z.literal('message'),
    role: z.literal('assistant'),
    content: z.array(z.looseObject({ type: z.string() })),
    model: z.string(),
    stop_reason: z.nullable(z.string()),
    usage: z.looseObject({ input_tokens: z.int(), output_tokens: z.int() }),
  });

const STREAM_EVENTS = [
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
  'error',
] as const;

/** How Anthropic frames a streamed Message, for the API document. */
export const ANTHROPIC_STREAM_FRAMING =
  "Anthropic's own events, passed on: each an `event: <name>` line and a `data: <JSON>` line whose `type` repeats the name; described here is the outline of the JSON. `ping` events keep the connection open.";

/** The events of a streamed Message, by name; each payload is Anthropic's. */
export const anthropicStreamEventSchemas = () =>
  Object.fromEntries(
    STREAM_EVENTS.map((event) => [event, z.looseObject({ type: z.literal(event) })]),
  );

/** Response headers of the governed routes: the caller's rate-limit windows and the request id. */
export const GOVERNED_HEADERS: Readonly<Record<string, string>> = {
  'request-id': 'The request id (as the Anthropic API names it).',
  'anthropic-ratelimit-requests-limit':
    'Requests per minute allowed (the tighter of the principal and the key).',
  'anthropic-ratelimit-requests-remaining': 'Requests left in the current minute.',
  'anthropic-ratelimit-requests-reset': 'When the request window resets (RFC 3339).',
  'anthropic-ratelimit-tokens-limit': 'Tokens per minute allowed.',
  'anthropic-ratelimit-tokens-remaining': 'Tokens left in the current minute.',
  'anthropic-ratelimit-tokens-reset': 'When the token window resets (RFC 3339).',
};
