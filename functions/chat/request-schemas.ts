import { z } from 'zod';

export const ConversationIdSchema = z.string().regex(/^conv_[a-f0-9]{32}$/);

export function chatRequestSchema(limits: { maxMessageChars: number }) {
  return z.strictObject({
    message: z
      .string()
      .refine((text) => text.trim().length > 0, 'message must not be empty')
      .refine(
        (text) => text.length <= limits.maxMessageChars,
        `message must be at most ${limits.maxMessageChars} characters`,
      ),
    conversationId: z.string().min(1).max(100).optional(),
    model: z.string().min(1).max(100).optional(),
    system: z.string().max(limits.maxMessageChars).optional(),
    maxTokens: z.number().int().positive().optional(),
  });
}

export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>;

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(2048).optional(),
});
