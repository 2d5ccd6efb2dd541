import { z } from 'zod';

const CacheControlSchema = z.strictObject({
  type: z.literal('ephemeral'),
  ttl: z.enum(['5m', '1h']).optional(),
});

/**
 * Any content block. The block types the local Claude knows (text, image, document,
 * tool_use, tool_result, thinking…) are checked by `checkBlocks`; others pass through and
 * count by their JSON size.
 */
const ContentBlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  cache_control: CacheControlSchema.nullish(),
});

const SystemBlockSchema = z.looseObject({
  type: z.literal('text'),
  text: z.string(),
  cache_control: CacheControlSchema.nullish(),
});

const MessageSchema = z.strictObject({
  // `system`: an instruction mid-conversation (the mid-conversation-system beta).
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(ContentBlockSchema)]),
});

/** A custom tool (`type` absent, null or `custom`) or a server tool such as web search. */
const ToolSchema = z.looseObject({
  name: z.string(),
  type: z.string().nullish(),
  input_schema: z.unknown().optional(),
  cache_control: CacheControlSchema.nullish(),
});

const ToolChoiceSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({
    type: z.literal('tool'),
    name: z.string(),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('none') }),
]);

const ThinkingDisplaySchema = z.enum(['summarized', 'omitted']).nullish();

/** `budget_tokens` bounds are checked by `checkThinking`, with the API's own wording. */
const ThinkingSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('enabled'),
    budget_tokens: z.int(),
    display: ThinkingDisplaySchema,
  }),
  z.strictObject({ type: z.literal('adaptive'), display: ThinkingDisplaySchema }),
  z.strictObject({ type: z.literal('between_tools') }),
  z.strictObject({ type: z.literal('disabled') }),
]);

/**
 * The body of POST /v1/messages. Strict like the real API: an unknown top-level field is
 * a 400 ("Extra inputs are not permitted"), which catches typos such as `maxTokens`.
 */
export const MessagesRequestSchema = z.strictObject({
  model: z.string(),
  // 0 is allowed: the API documents it for pre-warming the prompt cache without a reply.
  max_tokens: z.int().nonnegative(),
  messages: z
    .array(MessageSchema)
    .min(1, 'at least one message is required')
    .max(100_000, 'a request may hold at most 100000 messages'),
  system: z.union([z.string(), z.array(SystemBlockSchema)]).optional(),
  stream: z.boolean().optional(),
  cache_control: CacheControlSchema.nullish(),
  stop_sequences: z.array(z.string()).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  tools: z.array(ToolSchema).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().nonnegative().optional(),
  tool_choice: ToolChoiceSchema.optional(),
  thinking: ThinkingSchema.optional(),
  output_config: z.unknown().optional(),
  service_tier: z.unknown().optional(),
  speed: z.unknown().optional(),
  container: z.unknown().optional(),
  context_management: z.unknown().optional(),
  diagnostics: z.unknown().optional(),
  inference_geo: z.unknown().optional(),
  mcp_servers: z.unknown().optional(),
});

/**
 * The body of POST /v1/messages/count_tokens: the prompt fields of a Messages request,
 * without what only shapes the output (`max_tokens`, `stream`, `stop_sequences`, sampling…).
 */
export const CountTokensRequestSchema = MessagesRequestSchema.pick({
  model: true,
  messages: true,
  system: true,
  tools: true,
  tool_choice: true,
  thinking: true,
  cache_control: true,
  output_config: true,
  speed: true,
  context_management: true,
  mcp_servers: true,
});

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof CountTokensRequestSchema>;
/** What both endpoints share: everything that makes up the prompt (a MessagesRequest is one). */
export type PromptRequest = CountTokensRequest;
export type ContentBlock = z.infer<typeof ContentBlockSchema>;
export type CacheControl = z.infer<typeof CacheControlSchema>;
export type Tool = z.infer<typeof ToolSchema>;
export type ThinkingConfig = z.infer<typeof ThinkingSchema>;
