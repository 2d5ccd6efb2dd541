import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Conversation, Page, StoredMessage } from '../../domain/conversation.js';
import { ConflictError } from '../../domain/errors.js';
import type {
  BeginTurn,
  ConversationStore,
  FinishTurn,
  PageRequest,
} from '../../ports/conversation-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { isConditionFailure } from './errors.js';
import { keys } from './keys.js';
import { toConversation, toMessage } from './records.js';

/** The ConversationStore port on the single table. */
export class DynamoConversationStore implements ConversationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getConversation(userId: string, conversationId: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.conversation(userId, conversationId),
        ConsistentRead: true,
      }),
    );
    return Item ? toConversation(Item) : undefined;
  }

  async listConversations(userId: string, page: PageRequest): Promise<Page<Conversation>> {
    const partition = keys.conversationsByUser(userId);
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, partition),
      }),
    );
    return pageOf((result.Items ?? []).map(toConversation), result.LastEvaluatedKey);
  }

  async listMessages(
    userId: string,
    conversationId: string,
    page: PageRequest,
  ): Promise<Page<StoredMessage>> {
    const partition = keys.conversationPartition(userId, conversationId);
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
        ExpressionAttributeValues: { ':pk': partition, ':msg': keys.messagePrefix },
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, partition),
      }),
    );
    return pageOf((result.Items ?? []).map(toMessage), result.LastEvaluatedKey);
  }

  async recentMessages(
    userId: string,
    conversationId: string,
    options: { afterSeq: number; maxTokens: number },
  ): Promise<StoredMessage[]> {
    const newestFirst: StoredMessage[] = [];
    let tokens = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :after AND :end',
          ExpressionAttributeValues: {
            ':pk': keys.conversationPartition(userId, conversationId),
            ':after': keys.messageSeqKey(options.afterSeq + 1),
            ':end': `${keys.messagePrefix}~`,
          },
          ScanIndexForward: false,
          Limit: 50,
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of result.Items ?? []) {
        tokens += Number(item.tokens ?? 0);
        if (tokens > options.maxTokens) return newestFirst.reverse();
        newestFirst.push(toMessage(item));
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return newestFirst.reverse();
  }

  async beginTurn(turn: BeginTurn): Promise<number> {
    const seq = (turn.existing?.lastSeq ?? 0) + 1;
    const userMessage = {
      ...keys.message(turn.userId, turn.conversationId, seq),
      id: turn.userMessage.id,
      seq,
      role: 'user',
      content: turn.userMessage.content,
      tokens: turn.userMessage.tokens,
      createdAt: turn.nowIso,
    };
    const activity = {
      gsi1pk: keys.conversationsByUser(turn.userId),
      gsi1sk: keys.conversationActivity(turn.nowIso, turn.conversationId),
    };
    const conversationUpdate = turn.existing
      ? {
          Update: {
            TableName: this.tableName,
            Key: keys.conversation(turn.userId, turn.conversationId),
            UpdateExpression:
              'SET lastSeq = :answerSeq, activeTurnId = :turn, activeTurnLeaseUntil = :lease, ' +
              'updatedAt = :now, gsi1sk = :activity, messageCount = messageCount + :one, ' +
              'uncompactedTokens = uncompactedTokens + :tokens REMOVE stopTurnId',
            ConditionExpression:
              'attribute_exists(pk) AND lastSeq = :seen AND ' +
              '(attribute_not_exists(activeTurnId) OR activeTurnLeaseUntil < :nowMs)',
            ExpressionAttributeValues: {
              ':answerSeq': seq + 1,
              ':seen': turn.existing.lastSeq,
              ':turn': turn.turnId,
              ':lease': turn.leaseUntilMs,
              ':now': turn.nowIso,
              ':nowMs': Date.parse(turn.nowIso),
              ':activity': activity.gsi1sk,
              ':one': 1,
              ':tokens': turn.userMessage.tokens,
            },
          },
        }
      : {
          Put: {
            TableName: this.tableName,
            Item: {
              ...keys.conversation(turn.userId, turn.conversationId),
              ...activity,
              userId: turn.userId,
              conversationId: turn.conversationId,
              title: turn.title,
              createdAt: turn.nowIso,
              updatedAt: turn.nowIso,
              lastSeq: seq + 1,
              messageCount: 1,
              uncompactedTokens: turn.userMessage.tokens,
              activeTurnId: turn.turnId,
              activeTurnLeaseUntil: turn.leaseUntilMs,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            conversationUpdate,
            {
              Put: {
                TableName: this.tableName,
                Item: userMessage,
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return seq;
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          'another turn is in progress in this conversation, or it changed meanwhile; retry when it ends',
          { cause: error },
        );
      }
      throw error;
    }
  }

  async finishTurn(turn: FinishTurn): Promise<void> {
    const { answer } = turn;
    const answerItem = {
      ...keys.message(turn.userId, turn.conversationId, turn.userSeq + 1),
      id: answer.id,
      seq: turn.userSeq + 1,
      role: 'assistant',
      content: answer.content,
      tokens: answer.tokens,
      createdAt: turn.nowIso,
      model: answer.model,
      stopReason: answer.stopReason,
      usage: answer.usage,
      usageEstimated: answer.usageEstimated,
      costNanoUsd: answer.costNanoUsd,
    };
    const counters = {
      ':now': turn.nowIso,
      ':activity': keys.conversationActivity(turn.nowIso, turn.conversationId),
      ':one': 1,
      ':tokens': answer.tokens,
      ':in': answer.usage.inputTokens,
      ':out': answer.usage.outputTokens,
      ':cacheRead': answer.usage.cacheReadInputTokens,
      ':cacheWrite': answer.usage.cacheCreationInputTokens,
      ':cost': answer.costNanoUsd,
    };
    const countersExpression =
      'SET updatedAt = :now, gsi1sk = :activity, messageCount = messageCount + :one, ' +
      'uncompactedTokens = uncompactedTokens + :tokens ' +
      'ADD inputTokens :in, outputTokens :out, cacheReadInputTokens :cacheRead, ' +
      'cacheCreationInputTokens :cacheWrite, costNanoUsd :cost';
    const putAnswer = {
      Put: {
        TableName: this.tableName,
        Item: answerItem,
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    const conversationKey = keys.conversation(turn.userId, turn.conversationId);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            putAnswer,
            {
              Update: {
                TableName: this.tableName,
                Key: conversationKey,
                UpdateExpression: `${countersExpression} REMOVE activeTurnId, activeTurnLeaseUntil, stopTurnId`,
                ConditionExpression: 'activeTurnId = :turn',
                ExpressionAttributeValues: { ...counters, ':turn': turn.turnId },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Our lease ran out and another turn holds the conversation now: our answer's
      // slot is still ours, so store it without touching the other turn's hold. If the
      // conversation was deleted meanwhile, this fails too and nothing is left behind.
      await this.client
        .send(
          new TransactWriteCommand({
            TransactItems: [
              putAnswer,
              {
                Update: {
                  TableName: this.tableName,
                  Key: conversationKey,
                  UpdateExpression: countersExpression,
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: counters,
                },
              },
            ],
          }),
        )
        .catch((fallbackError: unknown) => {
          if (!isConditionFailure(fallbackError)) throw fallbackError;
        });
    }
  }

  async requestStop(userId: string, conversationId: string, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          UpdateExpression: 'SET stopTurnId = activeTurnId',
          ConditionExpression: 'attribute_exists(activeTurnId) AND activeTurnLeaseUntil >= :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async isStopRequested(userId: string, conversationId: string, turnId: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.conversation(userId, conversationId),
        ProjectionExpression: 'stopTurnId',
        ConsistentRead: true,
      }),
    );
    // A deleted conversation stops its turn too.
    return !Item || Item.stopTurnId === turnId;
  }

  async deleteConversation(userId: string, conversationId: string): Promise<boolean> {
    const conversationKey = keys.conversation(userId, conversationId);
    try {
      // The conversation item goes first, so a turn finishing meanwhile cannot
      // recreate anything (its writes are conditional on it).
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: conversationKey,
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': conversationKey.pk },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: startKey,
        }),
      );
      await this.deleteAll((page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk })));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return true;
  }

  async saveSummary(
    userId: string,
    conversationId: string,
    summary: { text: string; throughSeq: number; tokensCompacted: number },
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          UpdateExpression:
            'SET summary = :text, summaryThroughSeq = :seq, uncompactedTokens = uncompactedTokens - :tokens',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(summaryThroughSeq) OR summaryThroughSeq < :seq)',
          ExpressionAttributeValues: {
            ':text': summary.text,
            ':seq': summary.throughSeq,
            ':tokens': summary.tokensCompacted,
          },
        }),
      );
    } catch (error) {
      // A newer summary already exists, or the conversation is gone: nothing to do.
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async deleteAll(itemKeys: Array<{ pk: unknown; sk: unknown }>) {
    const BATCH_LIMIT = 25;
    for (let i = 0; i < itemKeys.length; i += BATCH_LIMIT) {
      let requests = itemKeys.slice(i, i + BATCH_LIMIT).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }
}

function pageOf<T>(items: T[], lastKey: Record<string, unknown> | undefined): Page<T> {
  const nextCursor = encodeCursor(lastKey);
  return nextCursor ? { items, nextCursor } : { items };
}
