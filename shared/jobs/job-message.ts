import { z } from 'zod';

/**
 * The jobs queue's message contract (full zod: the worker parses it with Powertools
 * parser, which builds on it), exported for producers as a TypeScript type
 * and as JSON Schema (docs/job-message.schema.json, generated from this schema).
 */
const UserIdSchema = z
  .string()
  .regex(/^[\w.@|:+-]{1,128}$/, 'userId must be 1-128 characters of letters, digits and ._@|:+-');

const JobIdSchema = z.string().regex(/^job_[a-f0-9]{32}$/, 'jobId must look like job_<32 hex>');

export const SummarizeDocumentMessageSchema = z.strictObject({
  type: z.literal('summarize.document'),
  /** @default a hash of the content: a producer that retries does not create a second job */
  jobId: JobIdSchema.optional(),
  userId: UserIdSchema,
  text: z.string().min(1),
  instructions: z.string().max(4000).optional(),
  model: z.string().min(1).optional(),
});

export const SummarizeConversationMessageSchema = z.strictObject({
  type: z.literal('summarize.conversation'),
  jobId: JobIdSchema.optional(),
  userId: UserIdSchema,
  conversationId: z.string().regex(/^conv_[a-f0-9]{32}$/),
});

export const JobMessageSchema = z.discriminatedUnion('type', [
  SummarizeDocumentMessageSchema,
  SummarizeConversationMessageSchema,
]);

export type JobMessage = z.infer<typeof JobMessageSchema>;
export type SummarizeDocumentMessage = z.infer<typeof SummarizeDocumentMessageSchema>;
export type SummarizeConversationMessage = z.infer<typeof SummarizeConversationMessageSchema>;
