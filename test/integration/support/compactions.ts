import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { collectSse } from './sse.js';
import type { TestStack } from './test-stack.js';

/** A conversation of `messages`, one turn each, asked by `userId`: its id. */
export async function conversationOf(
  stack: TestStack,
  userId: string,
  messages: readonly string[],
  options: { maxTokens?: number } = {},
): Promise<string> {
  let conversationId: string | undefined;
  for (const message of messages) {
    const events = await collectSse(
      await stack.chat(userId, { message, ...options, ...(conversationId && { conversationId }) }),
    );
    conversationId = String(events[0]!.data.conversationId);
  }
  return conversationId!;
}

/** Asks for the conversation's compaction as the chat function does: its job message, queued. */
export async function requestCompaction(
  stack: TestStack,
  job: { jobId: string; userId: string; conversationId: string },
): Promise<void> {
  await stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queueUrl,
      MessageBody: JSON.stringify({ type: 'summarize.conversation', ...job }),
    }),
  );
}
