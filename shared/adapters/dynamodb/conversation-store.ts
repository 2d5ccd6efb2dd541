import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Conversation,
  isSuperseded,
  type Page,
  type StoredMessage,
  type TurnHold,
} from '../../domain/conversation.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { isMessageId } from '../../domain/ids.js';
import type { TokenUsage } from '../../domain/usage.js';
import {
  type AnswerPiece,
  type BeginTurn,
  type ConversationStore,
  type FinishTurn,
  type HistoryWindow,
  type MessagesPage,
  type PageRequest,
  type PartialAnswer,
  PENDING_STOP_AHEAD_MS,
  PENDING_STOP_TTL_MS,
  type PendingStopCheck,
  type SummaryBasis,
} from '../../ports/conversation-store.js';
import type { CursorCodec } from './cursor.js';
import { deleteFound } from './delete-found.js';
import { conditionHeld, failedItem, isConditionFailure, tooLargeToStore } from './errors.js';
import { keys, responseCacheKeys } from './keys.js';
import { toConversation, toMessage } from './records.js';
import { transactWrite } from './transact.js';
import { abandonTurnItems, beginTurnItems, finishTurnItems } from './turn-items.js';

/** Messages one query of a listing reads at most (a page holds at most 100, and one more). */
const MAX_MESSAGES_READ = 101;

/** A day: an answer is stored whole, or recovered, long before. */
const ANSWER_PIECE_TTL_SECONDS = 24 * 3600;

/** The ConversationStore port on the single table. */
export class DynamoConversationStore implements ConversationStore {
  /**
   * @param cursors encodes page cursors; a store without one cannot list (the worker's)
   * @param watchClient sends a streaming turn's stop polls and bare heartbeats: an
   *   uninstrumented client keeps them out of the turn's trace, where a poll every 250 ms
   *   would be most of its documents
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cursors?: CursorCodec,
    private readonly watchClient: DynamoDBDocumentClient = client,
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

  async conversationCreatedAt(userId: string, conversationId: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.conversation(userId, conversationId),
        // Not the whole item (its title, its summary) sent back each second. DynamoDB still
        // counts the read units of the whole item: a projection saves transfer, not capacity.
        ProjectionExpression: 'createdAt',
        ConsistentRead: true,
      }),
    );
    return typeof Item?.createdAt === 'string' ? Item.createdAt : undefined;
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
        ExclusiveStartKey: await this.codec().decode(page.cursor, partition),
      }),
    );
    return this.pageOf(
      (result.Items ?? []).map(toConversation),
      result.LastEvaluatedKey,
      partition,
    );
  }

  async listMessages(
    userId: string,
    conversationId: string,
    page: PageRequest & { skip?: ReadonlyArray<readonly [number, number]> },
  ): Promise<Page<StoredMessage>> {
    const partition = keys.conversationPartition(userId, conversationId);
    const items: StoredMessage[] = [];
    let startKey = await this.codec().decode(page.cursor, partition);
    do {
      const fromSeq = startKey ? (keys.seqOfMessageKey(String(startKey.sk)) ?? 0) + 1 : 0;
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
          ExpressionAttributeValues: { ':pk': partition, ':msg': keys.messagePrefix },
          // What fills the page, the skipped messages it may meet on the way, and one more
          // to tell whether any follow: a full last page needs no cursor to an empty one.
          Limit: Math.min(
            page.limit - items.length + skippedFrom(fromSeq, page.skip) + 1,
            MAX_MESSAGES_READ,
          ),
          ExclusiveStartKey: startKey,
        }),
      );
      const listed = (result.Items ?? []).filter((item) => !isSuperseded(item.seq, page.skip));
      for (const [index, item] of listed.entries()) {
        items.push(toMessage(item));
        if (items.length < page.limit) continue;
        if (index === listed.length - 1 && !result.LastEvaluatedKey) return { items };
        return this.pageOf(items, keys.message(userId, conversationId, item.seq), partition);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return { items };
  }

  async message(
    userId: string,
    conversationId: string,
    seq: number,
  ): Promise<StoredMessage | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.message(userId, conversationId, seq),
        ConsistentRead: true,
      }),
    );
    return Item ? toMessage(Item) : undefined;
  }

  async recentMessages(
    userId: string,
    conversationId: string,
    read: HistoryWindow | MessagesPage,
  ): Promise<Page<StoredMessage>> {
    const partition = keys.conversationPartition(userId, conversationId);
    const page = 'limit' in read ? read : undefined;
    const afterSeq = 'limit' in read ? 0 : read.afterSeq;
    // A page goes on below its cursor; a first page reads nothing newer than its answer
    // streaming. A history window reads up to its last message, else the newest.
    const beforeSeq =
      'limit' in read
        ? await this.pageEnd(read, partition)
        : read.throughSeq === undefined
          ? undefined
          : read.throughSeq + 1;
    if (beforeSeq !== undefined && beforeSeq <= afterSeq + 1) return { items: [] };
    const limit = page ? page.limit : Number.POSITIVE_INFINITY;
    let streaming = page?.cursor === undefined ? page?.streaming : undefined;
    const newestFirst: StoredMessage[] = [];
    let tokens = streaming?.tokens ?? 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :after AND :end',
          ExpressionAttributeValues: {
            ':pk': partition,
            ':after': keys.messageSeqKey(afterSeq + 1),
            ':end':
              beforeSeq === undefined
                ? `${keys.messagePrefix}~`
                : keys.messageSeqKey(beforeSeq - 1),
          },
          ScanIndexForward: false,
          // A page's messages, and one to tell whether there are more; a history, any number.
          Limit: page ? Math.min(page.limit + 1, 50) : 50,
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of result.Items ?? []) {
        const seq = Number(item.seq);
        if (isSuperseded(seq, read.skip)) continue;
        if (seq === streaming?.seq) {
          // The answer ended meanwhile: stored, it is in the page in the streaming one's place.
          tokens -= streaming.tokens;
          streaming = undefined;
        }
        tokens += Number(item.tokens ?? 0);
        const taken = newestFirst.length + (streaming ? 1 : 0);
        if (taken === limit || (tokens > read.maxTokens && (taken > 0 || !page))) {
          const items = newestFirst.reverse();
          if (!page) return { items };
          // Older ones are left: the next page reads from this one down.
          return this.pageOf(items, keys.message(userId, conversationId, seq + 1), partition);
        }
        newestFirst.push(toMessage(item));
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return { items: newestFirst.reverse() };
  }

  /** Where a page of messages ends (exclusive): at its cursor, or past its answer streaming. */
  private async pageEnd(page: MessagesPage, partition: string): Promise<number | undefined> {
    if (page.cursor === undefined) return page.streaming && page.streaming.seq + 1;
    const { sk } = (await this.codec().decode(page.cursor, partition))!;
    const seq = keys.seqOfMessageKey(sk ?? '');
    if (seq === undefined) {
      throw new ValidationError('cursor is not valid: pass back the nextCursor of a previous page');
    }
    return seq;
  }

  async findMessage(
    userId: string,
    conversationId: string,
    messageId: string,
    fromSeq = 1,
  ): Promise<StoredMessage | undefined> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :end',
          FilterExpression: 'id = :id OR clientMessageId = :id',
          ExpressionAttributeValues: {
            ':pk': keys.conversationPartition(userId, conversationId),
            ':from': keys.messageSeqKey(fromSeq),
            ':end': `${keys.messagePrefix}~`,
            ':id': messageId,
          },
          // Newest first: an edit or a regenerate is mostly of one of the last messages.
          ScanIndexForward: false,
          // A regenerate names the answer stored a moment ago: it must be found.
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      const found = result.Items?.[0];
      if (found) return toMessage(found);
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return undefined;
  }

  async beginTurn(turn: BeginTurn): Promise<number> {
    const { seq, items } = beginTurnItems(this.tableName, turn);
    try {
      await transactWrite(this.client, { TransactItems: items });
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
    const { putAnswer, releaseHold, countOnly, billed } = finishTurnItems(this.tableName, turn);
    try {
      await transactWrite(this.client, { TransactItems: [putAnswer, releaseHold, ...billed] });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Our lease ran out and another turn holds the conversation now: our answer's
      // slot is still ours, so store it without touching the other turn's hold. If the
      // conversation was deleted meanwhile (and perhaps made again under its id), this
      // fails too and nothing is left behind.
      try {
        await transactWrite(this.client, { TransactItems: [putAnswer, countOnly, ...billed] });
      } catch (fallbackError) {
        if (!isConditionFailure(fallbackError)) throw fallbackError;
        // A piece saved after a delete's sweep would outlive its conversation, or join
        // the answer of the one made again under its id. At best: pieces expire in a day.
        await this.deleteAnswerPieces(turn).catch(() => undefined);
      }
    }
  }

  private async deleteAnswerPieces(turn: FinishTurn): Promise<void> {
    await deleteFound(
      { client: this.client, tableName: this.tableName },
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'turnId = :turn',
        ExpressionAttributeValues: {
          ':pk': keys.conversationPartition(turn.userId, turn.conversationId),
          ':prefix': keys.answerPiecePrefix(turn.userSeq + 1),
          ':turn': turn.turnId,
        },
        ConsistentRead: true,
      },
    );
  }

  async abandonTurn(turn: BeginTurn): Promise<boolean> {
    return conditionHeld(
      transactWrite(this.client, { TransactItems: abandonTurnItems(this.tableName, turn) }),
    );
  }

  async renewLease(
    userId: string,
    conversationId: string,
    turnId: string,
    leaseUntilMs: number,
    hold?: TurnHold,
  ): Promise<boolean> {
    const client = hold ? this.client : this.watchClient;
    return conditionHeld(
      client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          UpdateExpression: `SET activeTurnLeaseUntil = :lease${hold ? ', activeTurnHold = :hold' : ''}`,
          ConditionExpression: 'activeTurnId = :turn',
          ExpressionAttributeValues: {
            ':lease': leaseUntilMs,
            ':turn': turnId,
            ...(hold && { ':hold': hold }),
          },
        }),
      ),
    );
  }

  async saveAnswerPiece(piece: AnswerPiece): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.answerPiece(piece.userId, piece.conversationId, piece.answerSeq, piece.offset),
          turnId: piece.turnId,
          offset: piece.offset,
          text: piece.text,
          ...(piece.usage && { usage: piece.usage }),
          // Needed only until the answer is stored whole, or recovered.
          expiresAt: Math.floor(piece.nowMs / 1000) + ANSWER_PIECE_TTL_SECONDS,
        },
      }),
    );
  }

  async partialAnswer(
    userId: string,
    conversationId: string,
    answerSeq: number,
  ): Promise<PartialAnswer> {
    let text = '';
    let usage: TokenUsage | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': keys.conversationPartition(userId, conversationId),
            ':prefix': keys.answerPiecePrefix(answerSeq),
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        text = text.slice(0, Number(item.offset)) + String(item.text ?? '');
        if (item.usage) usage = item.usage as TokenUsage;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return usage ? { text, usage } : { text };
  }

  async answerPieces(
    userId: string,
    conversationId: string,
    answerSeq: number,
    fromOffset: number,
  ): Promise<Array<{ offset: number; text: string }>> {
    const pieces: Array<{ offset: number; text: string }> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :end',
          ExpressionAttributeValues: {
            ':pk': keys.conversationPartition(userId, conversationId),
            ':from': keys.answerPiece(userId, conversationId, answerSeq, fromOffset).sk,
            ':end': `${keys.answerPiecePrefix(answerSeq)}~`,
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        pieces.push({ offset: Number(item.offset), text: String(item.text ?? '') });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return pieces;
  }

  async interruptTurn(turn: FinishTurn): Promise<boolean> {
    const { putAnswer, releaseHold, billed } = finishTurnItems(this.tableName, turn);
    return conditionHeld(
      transactWrite(this.client, { TransactItems: [putAnswer, releaseHold, ...billed] }),
    );
  }

  async requestStop(
    userId: string,
    conversationId: string,
    nowMs: number,
    turnId?: string,
  ): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          UpdateExpression: 'SET stopTurnId = activeTurnId',
          ConditionExpression: turnId
            ? 'activeTurnId = :turn AND activeTurnLeaseUntil >= :now'
            : 'attribute_exists(activeTurnId) AND activeTurnLeaseUntil >= :now',
          ExpressionAttributeValues: { ':now': nowMs, ...(turnId && { ':turn': turnId }) },
        }),
      ),
    );
  }

  async requestStopOfQuestion(
    userId: string,
    conversationId: string,
    clientQuestionId: string,
    nowMs: number,
    arrivedAtMs = nowMs,
  ): Promise<'stopping' | 'ended' | 'pending'> {
    const stopActive = () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          UpdateExpression: 'SET stopTurnId = activeTurnId',
          ConditionExpression:
            'attribute_exists(activeTurnId) AND (activeQuestionId = :question OR activeQuestionMessageId = :question) AND activeTurnLeaseUntil >= :now',
          ExpressionAttributeValues: { ':question': clientQuestionId, ':now': nowMs },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    const pendingKey = keys.pendingStop(userId, conversationId, clientQuestionId);
    let ended = false;
    try {
      await stopActive();
      return 'stopping';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The last turn recorded answered it: it has ended (or its function died).
      const conversation = failedItem(error);
      ended =
        conversation?.activeQuestionId === clientQuestionId ||
        conversation?.activeQuestionMessageId === clientQuestionId;
      if (!ended && conversation && (await this.answersAgain(conversation, clientQuestionId))) {
        const turn = toConversation(conversation).activeTurn;
        if (turn && (await this.requestStop(userId, conversationId, nowMs, turn.turnId))) {
          return 'stopping';
        }
        ended = true;
      }
    }
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...pendingKey,
          // Once its answer ended, only a turn for it already under way (a regenerate being
          // admitted) is stopped: one asked after this stop came is the user's next.
          stopsReceivedUpToMs: ended ? arrivedAtMs : arrivedAtMs + PENDING_STOP_AHEAD_MS,
          expiresAt: Math.ceil((nowMs + PENDING_STOP_TTL_MS) / 1000),
        },
      }),
    );
    // Looked for again once the stop is kept: a turn recorded meanwhile may have looked for
    // the stop before it was kept. One of the two sees the other (both reads are consistent).
    try {
      await stopActive();
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return ended ? 'ended' : 'pending';
    }
    // Stopped as it streams: the stop kept must not stop a later turn for the same question.
    await this.client
      .send(new DeleteCommand({ TableName: this.tableName, Key: pendingKey }))
      .catch(() => undefined);
    return 'stopping';
  }

  /**
   * Whether the conversation's last turn was a regenerate of the question the server's id
   * names: a regenerate records the client's id of its question only (its server id is read
   * with the history, after the turn is recorded), and a reopened chat has the server's.
   */
  private async answersAgain(item: Record<string, unknown>, questionId: string) {
    if (item.activeQuestionMessageId !== undefined || !isMessageId(questionId)) return false;
    const conversation = toConversation(item);
    for (let seq = conversation.lastSeq; seq >= 1; seq--) {
      if (isSuperseded(seq, conversation.superseded)) continue;
      const message = await this.message(conversation.userId, conversation.id, seq);
      if (message?.role === 'user') return message.id === questionId;
    }
    return false;
  }

  async isStopRequested(
    userId: string,
    conversationId: string,
    turnId: string,
    conversationCreatedAt: string,
    pendingStop?: PendingStopCheck,
  ) {
    const [{ Item }, pending] = await Promise.all([
      this.watchClient.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          ProjectionExpression: 'stopTurnId, createdAt',
          ConsistentRead: true,
        }),
      ),
      pendingStop && this.takePendingStop(userId, conversationId, pendingStop),
    ]);
    // A deleted conversation stops its turn too, made again under its id or not.
    return Item?.createdAt !== conversationCreatedAt || Item.stopTurnId === turnId || !!pending;
  }

  /** Whether a stop of the turn's question was kept for it; taken when it was. */
  private async takePendingStop(
    userId: string,
    conversationId: string,
    check: PendingStopCheck,
  ): Promise<boolean> {
    const key = keys.pendingStop(userId, conversationId, check.clientQuestionId);
    const { Item } = await this.watchClient.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    // Kept for turns received up to a time (DynamoDB's TTL deletes late; the item says until when).
    if (!(check.receivedAtMs <= Number(Item?.stopsReceivedUpToMs))) return false;
    if (Number(Item?.expiresAt) * 1000 <= check.receivedAtMs) return false;
    await this.watchClient.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
    return true;
  }

  async deleteConversation(userId: string, conversationId: string): Promise<boolean> {
    const conversationKey = keys.conversation(userId, conversationId);
    let responseCacheKey: unknown;
    let found = true;
    try {
      // The conversation item goes first, so a turn finishing meanwhile cannot
      // recreate anything (its writes are conditional on it).
      const { Attributes } = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: conversationKey,
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      responseCacheKey = Attributes?.responseCacheKey;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Gone already, but a delete that died (or failed) before its sweep finished left
      // the rest: sent again, it sweeps them; else no one could, nor remake a useChat id.
      // One made again under its id meanwhile is another conversation: left alone.
      if (await this.getConversation(userId, conversationId)) return false;
      found = false;
    }
    if (typeof responseCacheKey === 'string') {
      // Its first answer, kept by the response cache, is the conversation's text too.
      await deleteFound(
        { client: this.client, tableName: this.tableName },
        {
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': responseCacheKeys.partition(responseCacheKey) },
          ConsistentRead: true,
        },
      );
    }
    const swept = await deleteFound(
      { client: this.client, tableName: this.tableName },
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': conversationKey.pk },
        // The answer stored a moment ago goes too: missed, it would outlive its conversation.
        ConsistentRead: true,
      },
      // A stop kept for a question of a chat never started is no conversation to have found.
      (key) => !keys.isPendingStop(key.sk),
    );
    return found || swept > 0;
  }

  async saveSummary(
    userId: string,
    conversationId: string,
    summary: { text: string; throughSeq: number; tokensCompacted: number },
    basis: SummaryBasis,
  ): Promise<'saved' | 'stale' | 'gone'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(userId, conversationId),
          UpdateExpression:
            'SET summary = :text, summaryThroughSeq = :seq, uncompactedTokens = uncompactedTokens - :tokens',
          ConditionExpression: [
            'createdAt = :createdAt',
            basis.summaryThroughSeq === 0
              ? 'attribute_not_exists(summaryThroughSeq)'
              : 'summaryThroughSeq = :readSeq',
            basis.supersededRanges.length === 0
              ? 'attribute_not_exists(supersededRanges)'
              : 'supersededRanges = :ranges',
          ].join(' AND '),
          ExpressionAttributeValues: {
            ':text': summary.text,
            ':seq': summary.throughSeq,
            ':tokens': summary.tokensCompacted,
            ':createdAt': basis.createdAt,
            ...(basis.summaryThroughSeq !== 0 && { ':readSeq': basis.summaryThroughSeq }),
            ...(basis.supersededRanges.length > 0 && { ':ranges': basis.supersededRanges }),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'saved';
    } catch (error) {
      if (!isConditionFailure(error)) throw tooLargeToStore(error, 'the summary', summary.text);
      // Deleted, or deleted and made again under its id: this summary is of another.
      return failedItem(error)?.createdAt === basis.createdAt ? 'stale' : 'gone';
    }
  }

  private codec(): CursorCodec {
    if (!this.cursors) throw new Error('this conversation store was built without a cursor codec');
    return this.cursors;
  }

  private async pageOf<T>(
    items: T[],
    lastKey: Record<string, unknown> | undefined,
    owner: string,
  ): Promise<Page<T>> {
    const nextCursor = await this.codec().encode(lastKey, owner);
    return nextCursor ? { items, nextCursor } : { items };
  }
}

/** How many sequence numbers from `seq` on the ranges hold. */
function skippedFrom(seq: number, ranges: ReadonlyArray<readonly [number, number]> = []): number {
  return ranges.reduce((sum, [from, to]) => sum + Math.max(0, to - Math.max(from, seq) + 1), 0);
}
