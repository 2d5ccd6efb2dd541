import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../local-stack/function-env.js';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { ReservationIndex } from '../../shared/adapters/dynamodb/reservation-index.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { partitionOf } from './support/lost-answers.js';
import { collectSse } from './support/sse.js';
import { STARTED_USAGE, streamingTurn, sweepAt, TURN_MODEL } from './support/streaming-turns.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const MONTH = monthOf(T0);
const LEASE_MS = 20_000;
/** The chat function's timeout: a turn's reservation expires at its deadline. */
const DEADLINE_MS = 900_000;
const prices = new PriceTable();

/**
 * The writes that end a turn and those that bill it are not one: a function that dies,
 * or is throttled, between them must not leave a stored answer nobody bills. On DynamoDB
 * Local, the sweep meets the state such a turn leaves behind.
 */
describe('an answer stored is billed, though the settle after it never comes', () => {
  let client: DynamoDBClient;
  /** Partition-key prefixes whose next PutItem fails (a throttle after the SDK's retries). */
  const failNextPutOf: string[] = [];
  let tableName: string;
  let store: DynamoConversationStore;
  let ledger: DynamoUsageLedger;

  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const pk = partitionOf((args.input as { Item?: { pk?: unknown } }).Item?.pk);
        const i = failNextPutOf.findIndex((prefix) => pk?.startsWith(prefix));
        if (context.commandName === 'PutItemCommand' && i >= 0) {
          failNextPutOf.splice(i, 1);
          throw Object.assign(new Error('injected throttle'), {
            name: 'ProvisionedThroughputExceededException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottle' },
    );
  });
  beforeEach(async () => {
    failNextPutOf.length = 0;
    tableName = `answers-billed-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const documentClient = createDocumentClient(client);
    store = new DynamoConversationStore(documentClient, tableName);
    ledger = new DynamoUsageLedger(documentClient, tableName, 10);
  });

  const begunTurn = (userId: string) =>
    streamingTurn({ store, ledger }, userId, {
      startedAtMs: T0,
      expiresAtMs: T0 + DEADLINE_MS,
      leaseUntilMs: T0 + LEASE_MS,
    });

  const storedAnswer = async (userId: string, conversationId: string) =>
    (await store.message(userId, conversationId, 2))!;

  it('a sweep throttled after it ended the turn as interrupted still bills the stored answer', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const { conversationId } = await begunTurn(userId);

    // The function died; the lease runs out. The sweep ends the turn, then DynamoDB
    // throttles its next write (the settlement record the ledger writes first).
    failNextPutOf.push('SETTLEMENT#');
    expect(await sweepAt(client, tableName, T0 + LEASE_MS + 1)).toMatchObject({
      recovered: 0,
      failed: 1,
    });
    const answer = await storedAnswer(userId, conversationId);
    expect(answer.stopReason).toBe('interrupted');
    expect(answer.costNanoUsd).toBeGreaterThan(0);

    // The next sweeps, until the reservation has expired and beyond.
    for (const at of [T0 + LEASE_MS + 61_000, T0 + DEADLINE_MS + 1, T0 + DEADLINE_MS + 60_001]) {
      await sweepAt(client, tableName, at);
    }

    const month = await ledger.userMonth(userId, MONTH);
    // The answer the user was shown, stored with its cost, is billed: once, holding nothing more.
    expect(month.spentNanoUsd).toBe(answer.costNanoUsd);
    expect(month.heldNanoUsd).toBe(answer.costNanoUsd);
    expect(month.requests).toBe(1);
    expect(await ledger.globalMonthSpendNanoUsd(MONTH)).toBe(answer.costNanoUsd);
  });

  it('a chat function that dies between storing the answer and settling still bills it, once', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const { conversationId, turnId, userSeq, reservation, text } = await begunTurn(userId);
    const usage = { ...STARTED_USAGE, outputTokens: 15 };
    const costNanoUsd = prices.costNanoUsd(TURN_MODEL, usage);

    // finish-turn.ts: the answer is stored; the function is killed before it settles (a
    // timeout while settling, an out-of-memory kill).
    await store.finishTurn({
      userId,
      conversationId,
      turnId,
      userSeq,
      conversationCreatedAt: new Date(T0).toISOString(),
      answer: {
        id: turnId,
        content: text,
        model: TURN_MODEL,
        stopReason: 'end_turn',
        usage,
        usageEstimated: false,
        costNanoUsd,
        tokens: 15,
      },
      reservation,
      nowIso: new Date(T0 + 5_000).toISOString(),
    });

    for (const at of [T0 + 60_000, T0 + 120_000, T0 + DEADLINE_MS + 1, T0 + DEADLINE_MS + 60_001]) {
      await sweepAt(client, tableName, at);
    }

    expect((await storedAnswer(userId, conversationId)).costNanoUsd).toBe(costNanoUsd);
    const month = await ledger.userMonth(userId, MONTH);
    expect(month.spentNanoUsd).toBe(costNanoUsd);
    expect(month.heldNanoUsd).toBe(costNanoUsd);
    expect(month.requests).toBe(1);
    expect(await ledger.listReservations()).toEqual([]);

    // Had it only stalled, its settle comes after the sweep's: it adds nothing.
    await ledger.settle(reservation, { usage, costNanoUsd });
    expect(await ledger.userMonth(userId, MONTH)).toEqual(month);
  });

  it("keeps the figures to settle to when the reservation's own index entry lands after the answer", async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const { conversationId, turnId, userSeq, reservation } = await begunTurn(userId);
    const usage = { ...STARTED_USAGE, outputTokens: 15 };
    const costNanoUsd = prices.costNanoUsd(TURN_MODEL, usage);
    await store.finishTurn({
      userId,
      conversationId,
      turnId,
      userSeq,
      conversationCreatedAt: new Date(T0).toISOString(),
      answer: {
        id: turnId,
        content: 'A short story.',
        model: TURN_MODEL,
        stopReason: 'end_turn',
        usage,
        usageEstimated: false,
        costNanoUsd,
        tokens: 4,
      },
      reservation,
      nowIso: new Date(T0 + 5_000).toISOString(),
    });

    // The reservation's put, sent before the model call, sent again by the SDK after a lost
    // answer, lands now; then the function dies.
    await new ReservationIndex(createDocumentClient(client), tableName).put(reservation);
    await sweepAt(client, tableName, T0 + DEADLINE_MS + 1);

    expect((await ledger.userMonth(userId, MONTH)).spentNanoUsd).toBe(costNanoUsd);
  });
});

describe('a chat function whose writes fail once it has stored the answer', () => {
  let stack: TestStack;
  /** Users whose chat function fails every write after the one that stores their answer. */
  const doomed = new Set<string>();
  const WRITES = new Set([
    'PutItemCommand',
    'UpdateItemCommand',
    'DeleteItemCommand',
    'TransactWriteItemsCommand',
    'BatchWriteItemCommand',
  ]);

  beforeAll(async () => {
    stack = await startTestStack({
      maintenance: false,
      observeChatDynamoDb: (chatClient) => {
        let storedFor: string | undefined;
        chatClient.middlewareStack.add(
          (next, context) => async (args) => {
            if (storedFor && WRITES.has(String(context.commandName))) {
              throw Object.assign(new Error('injected: the function is gone'), {
                name: 'ProvisionedThroughputExceededException',
                $metadata: { httpStatusCode: 400 },
              });
            }
            const result = await next(args);
            const items = (args.input as { TransactItems?: Array<{ Put?: { Item?: unknown } }> })
              .TransactItems;
            // Marshalled or not, depending on where the document client's middleware runs.
            const answer = items?.find((item) => {
              const role = (item.Put?.Item as { role?: unknown } | undefined)?.role;
              return role === 'assistant' || (role as { S?: string })?.S === 'assistant';
            });
            const owner = partitionOf(
              (answer?.Put?.Item as { pk?: unknown } | undefined)?.pk,
            )?.split('#')[1];
            if (owner && doomed.has(owner)) storedFor = owner;
            return result;
          },
          { step: 'initialize', name: 'failAfterAnswer' },
        );
      },
    });
  });
  afterAll(() => stack.close());

  it('has its answer billed by the sweep once the reservation expires, not given back', async () => {
    doomed.add('doomed');
    const events = await collectSse(await stack.chat('doomed', { message: 'Tell me a story' }));
    const done = events.find((event) => event.event === 'done');
    expect(done).toBeDefined();

    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, stack.tableName, 10);
    const store = new DynamoConversationStore(documentClient, stack.tableName);
    const conversationId = String(events[0]!.data.conversationId);
    const answer = (await store.message('doomed', conversationId, 2))!;
    expect(answer.costNanoUsd).toBeGreaterThan(0);
    // Its settle failed: the month holds the call's worst case, and has spent nothing.
    const month = () => ledger.userMonth('doomed', monthOf(Date.now()));
    expect(await month()).toMatchObject({ spentNanoUsd: 0, requests: 0 });

    // Long past the function's deadline, when its reservation expired.
    await sweepAt(client, stack.tableName, Date.now() + 10 * 60_000);

    expect((await month()).spentNanoUsd).toBe(answer.costNanoUsd);
    expect((await month()).heldNanoUsd).toBe(answer.costNanoUsd);
    expect((await month()).requests).toBe(1);
  });
});
