import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import {
  type DynamoDbCall,
  recordDynamoDbCalls,
  sequentialRoundTrips,
} from './support/dynamodb-calls.js';
import { collectSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * What stands between a request and its model call: the DynamoDB round trips made one
 * after another. A structural property, counted, so it cannot regress silently.
 */
describe('round trips before the model call', () => {
  let stack: TestStack;
  const calls: DynamoDbCall[] = [];
  /** Operations held back, to show what the model call does not wait for. */
  const slowed = new Set<string>();

  beforeAll(async () => {
    stack = await startTestStack({
      observeChatDynamoDb: (client) => {
        recordDynamoDbCalls(client, calls);
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const operation = String(context.commandName).replace(/Command$/, '');
            if (slowed.has(operation)) await new Promise((done) => setTimeout(done, 300));
            return next(args);
          },
          { step: 'finalizeRequest', name: 'slowDynamoDbCalls' },
        );
      },
    });
    // The user's month starts (its budget is set) on their first call, once a month.
    await (await stack.chat('warm', { message: 'warm up' })).text();
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    // A turn's last writes (its usage record) follow the end of its stream.
    await untilQuiet();
    calls.length = 0;
    // The hold's index entry, which the model call does not wait for, held back.
    slowed.add('PutItem');
    onTestFinished(() => slowed.clear());
  });

  /** Once no DynamoDB call has ended for longer than a slowed one takes. */
  async function untilQuiet(): Promise<void> {
    let seen = -1;
    while (seen !== calls.length) {
      seen = calls.length;
      await new Promise((done) => setTimeout(done, 500));
    }
  }

  /** The calls that ended before the model received the request (its clock has whole ms). */
  function beforeModel(): DynamoDbCall[] {
    const receivedAt = stack.claude.requests.at(-1)!.receivedAt + 1;
    return calls.filter((call) => call.endedAt <= receivedAt);
  }

  it("is one for a turn that starts a conversation: the admission's", async () => {
    // The question's write (a transaction) and the hold's index entry, held back.
    slowed.add('TransactWriteItems').add('PutItem');
    onTestFinished(() => slowed.clear());

    const response = await stack.chat('warm', { message: 'A new conversation' });
    await response.text();

    // Admission: the user's month, the deployment's shard and the rate window, at once.
    const made = beforeModel();
    expect(made.map((call) => call.operation)).toEqual(['UpdateItem', 'UpdateItem', 'UpdateItem']);
    expect(sequentialRoundTrips(made)).toBe(1);
    // The model call waits for neither write: the hold's index entry is awaited by the
    // settle, the question by the answer's first byte (no other turn can take a
    // conversation not yet stored), which is sent once the turn is admitted.
    const modelReceivedAt = stack.claude.requests.at(-1)!.receivedAt;
    const writes = calls.filter((call) => slowed.has(call.operation));
    expect(writes.map((call) => call.operation)).toEqual(
      expect.arrayContaining(['PutItem', 'TransactWriteItems']),
    );
    expect(writes.every((call) => call.endedAt > modelReceivedAt)).toBe(true);
    const question = writes.find((call) => call.operation === 'TransactWriteItems')!;
    expect(question.startedAt).toBeGreaterThanOrEqual(
      Math.max(...made.map((call) => call.endedAt)),
    );
  });

  it('writes nothing but the admission for a turn that would start a conversation and is refused', async () => {
    await new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000).setUserBudgetOverride(
      'broke',
      0.000001,
      Date.now(),
    );

    const modelCalls = stack.claude.requests.length;

    const response = await stack.chat('broke', { message: 'Too dear' });

    expect(response.status).toBe(402);
    expect(stack.claude.requests).toHaveLength(modelCalls);
    // Holds given back (updates), but no question stored and undone, no index entry.
    const writes = calls.filter((call) =>
      /^(Put|Delete|TransactWrite|BatchWrite)/.test(call.operation),
    );
    expect(writes).toEqual([]);
  });

  it('is two for a turn that continues one: the conversation is read first', async () => {
    const first = await stack.chat('warm', { message: 'Start' });
    const [start] = await collectSse(first);
    const conversationId = String(start!.data.conversationId);
    await untilQuiet();
    calls.length = 0;
    // The hold's index entry, which the model call does not wait for, held back.
    slowed.add('PutItem');
    onTestFinished(() => slowed.clear());

    await (await stack.chat('warm', { message: 'Go on', conversationId })).text();

    expect(sequentialRoundTrips(beforeModel())).toBe(2);
  });
});
