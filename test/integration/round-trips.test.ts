import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DynamoDbCall,
  type DynamoDbRequest,
  recordDynamoDbCalls,
  recordDynamoDbRequests,
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
  const requests: DynamoDbRequest[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      observeChatDynamoDb: (client) => {
        recordDynamoDbCalls(client, calls);
        recordDynamoDbRequests(client, requests);
      },
    });
    // The user's month starts (its budget is set) on their first call, once a month.
    await (await stack.chat('warm', { message: 'warm up' })).text();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    calls.length = 0;
    requests.length = 0;
  });

  /**
   * The calls made for the turn sent at `sentAt` that ended before the model received its
   * request (its clock has whole ms). A turn before it may still be writing once its stream has
   * ended (its settle, its usage record): those are not this turn's.
   */
  function beforeModel(sentAt: number): DynamoDbCall[] {
    const receivedAt = stack.claude.requests.at(-1)!.receivedAt + 1;
    return calls.filter((call) => call.startedAt >= sentAt && call.endedAt <= receivedAt);
  }
  const now = () => performance.timeOrigin + performance.now();

  it('is one for a turn that starts a conversation', async () => {
    const sentAt = now();
    const response = await stack.chat('warm', { message: 'A new conversation' });
    await response.text();

    // Admission: the user's month, the deployment's shard and the rate window, at once.
    const admission = calls
      .filter((call) => call.operation === 'UpdateItem' && call.startedAt >= sentAt)
      .sort((a, b) => a.startedAt - b.startedAt)
      .slice(0, 3);
    expect(sequentialRoundTrips(admission)).toBe(1);
    const admittedAt = Math.max(...admission.map((call) => call.endedAt));
    expect(stack.claude.requests.at(-1)!.receivedAt + 1).toBeGreaterThanOrEqual(admittedAt);
    // The hold's index entry and the question's write (a transaction) go out with them, but
    // the model call waits for neither: the entry is awaited by the settle, the question by
    // the answer's first byte (no other turn can take a conversation not yet stored).
    const made = beforeModel(sentAt);
    expect(made.map((call) => call.operation)).toEqual(
      expect.arrayContaining(['UpdateItem', 'UpdateItem', 'UpdateItem']),
    );
    expect(sequentialRoundTrips(made)).toBe(1);
  });

  it('is two for a turn that continues one: the conversation is read first', async () => {
    const first = await stack.chat('warm', { message: 'Start' });
    const [start] = await collectSse(first);
    const conversationId = String(start!.data.conversationId);
    const sentAt = now();
    await (await stack.chat('warm', { message: 'Go on', conversationId })).text();

    expect(sequentialRoundTrips(beforeModel(sentAt))).toBe(2);
  });

  it("reads a continued conversation's history in one query of up to 50 whole messages", async () => {
    const first = await stack.chat('warm', { message: 'Begin' });
    const [start] = await collectSse(first);
    const conversationId = String(start!.data.conversationId);
    requests.length = 0;

    await (await stack.chat('warm', { message: 'Continue', conversationId })).text();

    // The messages' sort keys are MSG#<seq>: the history is every query that reads them.
    const historyReads = requests.filter(
      (request) =>
        request.operation === 'Query' &&
        JSON.stringify(request.input.ExpressionAttributeValues).includes('MSG#'),
    );
    expect(historyReads).toEqual([
      {
        operation: 'Query',
        input: {
          TableName: stack.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :after AND :end',
          ExpressionAttributeValues: {
            ':pk': `USER#warm#CONV#${conversationId}`,
            ':after': 'MSG#0000000001',
            ':end': 'MSG#0000000002', // the first turn's question and answer: not the one being stored
          },
          ScanIndexForward: false,
          Limit: 50,
          ConsistentRead: true,
        },
      },
    ]);
  });
});
