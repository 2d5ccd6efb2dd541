import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createConversationCompactor } from '../../functions/worker/compact-conversation.js';
import type { JobRun } from '../../functions/worker/job-run.js';
import { ensureTable } from '../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../local-stack/function-env.js';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { newConversationId, newMessageId } from '../../shared/domain/ids.js';
import { type DynamoDbRequest, recordDynamoDbRequests } from './support/dynamodb-calls.js';

const USER_ID = 'watched';
const WATCH_EVERY_MS = 20;
/** How long the summary takes: the watcher looks about ten times meanwhile. */
const SUMMARIZING_MS = 10 * WATCH_EVERY_MS;

/**
 * A compaction looks every second whether its conversation was deleted, for as long as
 * Claude summarizes it (minutes for a long one): each look reads only what tells a delete,
 * not the whole conversation item (its title and summary, up to 400 KB).
 */
describe("a compaction's watch for its conversation's delete", () => {
  let store: DynamoConversationStore;
  let recording: DynamoConversationStore;
  const requests: DynamoDbRequest[] = [];

  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    const tableName = `compaction-watch-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    store = new DynamoConversationStore(createDocumentClient(client), tableName);
    const recorded = createDynamoDbClient(inject('dynamodbEndpoint'));
    recordDynamoDbRequests(recorded, requests);
    recording = new DynamoConversationStore(createDocumentClient(recorded), tableName);
  });

  /** A conversation of three turns: older messages to fold, recent ones to keep. */
  async function conversation(): Promise<string> {
    const conversationId = newConversationId();
    for (let turn = 0; turn < 3; turn++) {
      const turnId = newMessageId();
      const existing = await store.getConversation(USER_ID, conversationId);
      const nowIso = new Date().toISOString();
      const userSeq = await store.beginTurn({
        userId: USER_ID,
        conversationId,
        ...(existing && { existing }),
        turnId,
        title: 'Tea',
        userMessage: { id: newMessageId(), content: `Question ${turn} about tea`, tokens: 5 },
        nowIso,
        leaseUntilMs: Date.now() + 20_000,
      });
      await store.finishTurn({
        userId: USER_ID,
        conversationId,
        turnId,
        userSeq,
        conversationCreatedAt: (existing?.createdAt ?? nowIso) as string,
        answer: {
          id: turnId,
          content: `Answer ${turn} about tea`,
          model: 'claude-sonnet-4-6',
          stopReason: 'end_turn',
          usage: {
            inputTokens: 5,
            outputTokens: 5,
            cacheReadInputTokens: 0,
            cacheCreationInputTokens: 0,
          },
          usageEstimated: false,
          costNanoUsd: 0,
          tokens: 5,
        },
        nowIso,
      });
    }
    return conversationId;
  }

  it('reads only when the conversation was made, each time it looks', async () => {
    const conversationId = await conversation();
    const compact = createConversationCompactor({
      conversations: recording,
      summarize: async () => {
        await sleep(SUMMARIZING_MS);
        return 'The user asked about tea.';
      },
      deletePollMs: WATCH_EVERY_MS,
    });
    requests.length = 0;

    await compact({ type: 'summarize.conversation', userId: USER_ID, conversationId }, {
      ends: {},
    } as JobRun);

    // The compaction's own read of the conversation comes first; then the watcher's looks.
    const [, ...looks] = requests.filter((request) => request.operation === 'GetItem');
    expect(looks.length).toBeGreaterThan(2);
    for (const look of looks) {
      expect(look.input).toMatchObject({ ProjectionExpression: 'createdAt', ConsistentRead: true });
    }
  });
});
