import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BeginTurn } from '../../shared/ports/conversation-store.js';
import { answerText, collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** Longer than a stop poll (250 ms): DynamoDB retrying a throttled or conflicting transaction. */
const SLOW_WRITE_MS = 700;

describe("a new conversation whose question's write is slower than a stop poll", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 50 },
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
  });
  afterAll(() => stack.close());

  it('is answered in full, not stopped as if its conversation had been deleted', async () => {
    // The month's budgets set up by a first turn: admission is quick, as on a warm function.
    await collectSse(await stack.chat('patient', { message: 'Hello [[local-claude: tokens=1]]' }));
    const events = await collectSse(
      await stack.chat('patient', { message: 'Tell me a story [[local-claude: tokens=30]]' }),
    );

    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.stopReason).toBe('end_turn');
    const conversation = await json(
      await stack.request(
        'patient',
        'GET',
        `/v1/conversations/${String(events[0]!.data.conversationId)}`,
      ),
    );
    expect(conversation.messages.at(-1)).toMatchObject({
      role: 'assistant',
      stopReason: 'end_turn',
      content: answerText(events),
    });
    expect(answerText(events).split(' ').filter(Boolean)).toHaveLength(30);
  });
});
