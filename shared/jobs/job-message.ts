import { z } from 'zod';
import { USER_ID_PATTERN } from '../auth/user-id.js';
import { JOB_ID_PATTERN } from '../domain/ids.js';
import { maxChars } from '../validation/max-chars.js';

/**
 * The jobs queue's message contract (full zod: the worker parses it with Powertools
 * parser, which builds on it), exported for producers as a TypeScript type
 * and as JSON Schema (docs/job-message.schema.json, generated from this schema).
 */
const UserIdSchema = z
  .string()
  .regex(
    USER_ID_PATTERN,
    'userId must be 1-128 characters of letters, digits and ._@|:+-, not only dots',
  );

/** Letters, digits and `._:-`: safe in a table key, a URL path and an SNS attribute. */
export const JobIdSchema = z
  .string()
  .regex(
    JOB_ID_PATTERN,
    'jobId must be 1-128 characters of letters, digits and ._:-, not only dots',
  );

/**
 * As long as any route takes one: unbounded, a model the worker refuses would be quoted whole
 * in the job's error, which then fits neither its item nor its event.
 */
const ModelSchema = z
  .string()
  .min(1)
  .check(...maxChars(200));

/** `standard`: summarized now. `batch`: through the Message Batches API, at half the token price, within 24 hours. */
export const JobPrioritySchema = z.enum(['standard', 'batch']);

export const SummarizeDocumentMessageSchema = z.strictObject({
  type: z.literal('summarize.document'),
  /**
   * The producer's own id: the idempotency key, per user. The same id twice is one job;
   * the same id with other content is refused (dead-lettered, reported).
   * @default a hash of the content: a producer that retries does not create a second job
   */
  jobId: JobIdSchema.optional(),
  userId: UserIdSchema,
  text: z.string().regex(/\S/, 'text must not be empty or only whitespace'),
  instructions: z
    .string()
    .check(...maxChars(4000))
    .optional(),
  model: ModelSchema.optional(),
  /** @default 'standard' */
  priority: JobPrioritySchema.optional(),
  /**
   * The API key the job was asked for with (POST /v1/jobs sets it; a producer may name one
   * of its user's keys): its own monthly budget binds each of the job's calls, read from the
   * key as the call is made, and its usage is reported under it. Once the key is revoked or
   * expired, the job spends nothing more: it fails. Not part of the job's identity: the same
   * document asked for with another key, or none, is the same job.
   * @default none: the user's and the deployment's budgets alone
   */
  apiKeyId: z
    .string()
    .regex(/^key_[a-f0-9]{32}$/, 'apiKeyId must be key_ and 32 hex digits')
    .optional(),
});

export const SummarizeConversationMessageSchema = z.strictObject({
  type: z.literal('summarize.conversation'),
  jobId: JobIdSchema.optional(),
  userId: UserIdSchema,
  conversationId: z.string().regex(/^conv_[a-f0-9]{32}$/),
  /**
   * What the summary is written with: the conversation's model, so an API key held to some
   * models is held to them here too.
   * @default the deployment's default model
   */
  model: ModelSchema.optional(),
  /**
   * Compacts only while the conversation's summary still ends at this message (0: no summary
   * yet): a request another compaction has overtaken succeeds without a model call.
   * @default compacts whatever the summary is
   */
  summaryThroughSeq: z.number().int().nonnegative().optional(),
});

export const JobMessageSchema = z.discriminatedUnion('type', [
  SummarizeDocumentMessageSchema,
  SummarizeConversationMessageSchema,
]);

export type JobMessage = z.infer<typeof JobMessageSchema>;
export type JobPriority = z.infer<typeof JobPrioritySchema>;
export type SummarizeDocumentMessage = z.infer<typeof SummarizeDocumentMessageSchema>;
export type SummarizeConversationMessage = z.infer<typeof SummarizeConversationMessageSchema>;
