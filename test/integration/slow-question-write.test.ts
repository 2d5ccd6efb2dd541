import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatTuning } from '../../functions/chat/compose.js';
import type { BeginTurn } from '../../shared/ports/conversation-store.js';
import { answerText, collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Longer than a stop poll (250 ms): DynamoDB retrying a throttled or conflicting transaction. */
const SLOW_WRITE_MS = 700;

/** A stack whose new conversations' first write (the question, the conversation item) lands late. */
function stackWithSlowFirstWrites(chatTuning?: ChatTuning): Promise<TestStack> {
  return startTestStack({
    claude: { tokensPerSecond: 50 },
    ...(chatTuning && { chatTuning }),
    customizeChat: (adapters) => {
      const { store } = adapters;
      const slowFirstWrite = Object.assign(Object.create(store), {
        beginTurn: async (begin: BeginTurn) => {
          if (!begin.existing) await new Promise((resolve) => setTimeout(resolve, SLOW_WRITE_MS));
          return store.beginTurn(begin);
        },
      });
      return { ...adapters, store: slowFirstWrite };
    },
  });
}

/** Starts a new conversation, its question written late, and expects its answer whole. */
async function expectAnsweredInFull(stack: TestStack, userId: string) {
  // The month's budgets set up by a first turn: admission is quick, as on a warm function.
  await collectSse(await stack.chat(userId, { message: 'Hello [[local-claude: tokens=1]]' }));

  const events = await collectSse(
    await stack.chat(userId, { message: 'Tell me a story [[local-claude: tokens=30]]' }),
  );

  const done = events.at(-1)!;
  expect(done.event).toBe('done');
  expect(done.data.stopReason).toBe('end_turn');
  expect(answerText(events).split(' ').filter(Boolean)).toHaveLength(30);
  const conversationId = String(events[0]!.data.conversationId);
  const conversation = await json(
    await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`),
  );
  expect(conversation.messages.at(-1)).toMatchObject({
    role: 'assistant',
    stopReason: 'end_turn',
    content: answerText(events),
  });
}

describe("a new conversation whose question's write is slower than a stop poll", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await stackWithSlowFirstWrites();
  });
  afterAll(() => stack.close());

  it('is answered in full, not stopped as if its conversation had been deleted', async () => {
    await expectAnsweredInFull(stack, 'patient');
  });
});

describe("a new conversation whose question's write is slower than a heartbeat", () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Heartbeats every 250 ms.
    stack = await stackWithSlowFirstWrites({ turnLeaseMs: 1_000 });
  });
  afterAll(() => stack.close());

  it('is answered in full, not cut as if another turn had taken its conversation', async () => {
    await expectAnsweredInFull(stack, 'steady');
  });
});
