import { lastQuestion } from '../../functions/chat/turn/last-question.js';
import {
  type Conversation,
  isSuperseded,
  type Page,
  type StoredMessage,
  type TurnHold,
} from '../../shared/domain/conversation.js';
import { ConflictError, ValidationError } from '../../shared/domain/errors.js';
import { isMessageId } from '../../shared/domain/ids.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
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
} from '../../shared/ports/conversation-store.js';

interface ConversationRecord {
  conversation: Conversation;
  stopTurnId?: string;
  /** The client's id of the question the last turn recorded answers. */
  activeQuestionId?: string;
  /** The server's id of the question the last turn recorded asked, if it asked one. */
  activeQuestionMessageId?: string;
  /** By sequence number; `tokens` is the estimate the turn stored with the message. */
  messages: Map<number, { message: StoredMessage; tokens: number }>;
  /** Saved pieces of streaming answers, by answer seq, then offset. */
  pieces: Map<number, Map<number, { turnId: string; text: string; usage?: TokenUsage }>>;
}

/**
 * The ConversationStore port in memory, with the DynamoDB adapter's semantics: one
 * live turn per conversation, conditional writes that fail as ConflictError, pages
 * that end with a `nextCursor` whenever they are full, cursors bound to their owner.
 */
export class InMemoryConversationStore implements ConversationStore {
  private readonly records = new Map<string, ConversationRecord>();
  /** Stops of questions kept for their turn: until when a turn received stops, and when each expires. */
  private readonly pendingStops = new Map<string, { upToMs: number; expiresAtMs: number }>();

  async getConversation(userId: string, conversationId: string) {
    const record = this.records.get(keyOf(userId, conversationId));
    if (!record) return undefined;
    const conversation = structuredClone(record.conversation);
    if (conversation.activeTurn && record.stopTurnId === conversation.activeTurn.turnId) {
      conversation.activeTurn.stopping = true;
    }
    return conversation;
  }

  async conversationCreatedAt(userId: string, conversationId: string) {
    return this.records.get(keyOf(userId, conversationId))?.conversation.createdAt;
  }

  async listConversations(userId: string, page: PageRequest): Promise<Page<Conversation>> {
    const newestFirst = [...this.records.values()]
      .map((record) => record.conversation)
      .filter((conversation) => conversation.userId === userId)
      .map((conversation) => ({ key: activityOf(conversation), item: conversation }))
      .sort((a, b) => (a.key < b.key ? 1 : -1));
    return paginate(newestFirst, page, `conversations:${userId}`, (key, after) => key < after);
  }

  async listMessages(
    userId: string,
    conversationId: string,
    page: PageRequest & { skip?: ReadonlyArray<readonly [number, number]> },
  ): Promise<Page<StoredMessage>> {
    const oldestFirst = this.messagesOf(userId, conversationId)
      .filter(({ message }) => !isSuperseded(message.seq, page.skip))
      .map(({ message }) => ({ key: message.seq, item: message }));
    const listed = paginate(
      oldestFirst,
      page,
      `messages:${keyOf(userId, conversationId)}`,
      (key, after) => key > after,
    );
    // A full last page needs no cursor to an empty one.
    return listed.items.at(-1)?.seq === oldestFirst.at(-1)?.key ? { items: listed.items } : listed;
  }

  async message(
    userId: string,
    conversationId: string,
    seq: number,
  ): Promise<StoredMessage | undefined> {
    const stored = this.records.get(keyOf(userId, conversationId))?.messages.get(seq);
    return stored && structuredClone(stored.message);
  }

  async recentMessages(
    userId: string,
    conversationId: string,
    read: HistoryWindow | MessagesPage,
  ): Promise<Page<StoredMessage>> {
    const page = 'limit' in read ? read : undefined;
    const owner = `recent:${keyOf(userId, conversationId)}`;
    const afterSeq = 'limit' in read ? 0 : read.afterSeq;
    let streaming = page?.cursor === undefined ? page?.streaming : undefined;
    // Like the adapter: a page below its cursor, a first page up to its answer streaming, a
    // window up to its last message.
    const beforeSeq =
      'limit' in read
        ? (decodeCursor<number>(read.cursor, owner) ?? (streaming && streaming.seq + 1))
        : read.throughSeq === undefined
          ? undefined
          : read.throughSeq + 1;
    const limit = page ? page.limit : Number.POSITIVE_INFINITY;
    const newestFirst: StoredMessage[] = [];
    let tokens = streaming?.tokens ?? 0;
    for (const { message, tokens: messageTokens } of this.messagesOf(userId, conversationId)
      .filter(({ message }) => message.seq > afterSeq)
      .filter(({ message }) => beforeSeq === undefined || message.seq < beforeSeq)
      .filter(({ message }) => !isSuperseded(message.seq, read.skip))
      .reverse()) {
      if (message.seq === streaming?.seq) {
        tokens -= streaming.tokens;
        streaming = undefined;
      }
      tokens += messageTokens;
      // Like the adapter: a window ends at the first message that does not fit; a page
      // after its newest, or at its limit.
      const taken = newestFirst.length + (streaming ? 1 : 0);
      if (taken === limit || (tokens > read.maxTokens && (taken > 0 || !page))) {
        const items = newestFirst.reverse();
        return page ? { items, nextCursor: encodeCursor(owner, message.seq + 1) } : { items };
      }
      newestFirst.push(structuredClone(message));
    }
    return { items: newestFirst.reverse() };
  }

  async findMessage(
    userId: string,
    conversationId: string,
    messageId: string,
    fromSeq = 1,
  ): Promise<StoredMessage | undefined> {
    const found = this.messagesOf(userId, conversationId).findLast(
      ({ message }) =>
        message.seq >= fromSeq &&
        (message.id === messageId || message.clientMessageId === messageId),
    );
    return found && structuredClone(found.message);
  }

  async beginTurn(turn: BeginTurn): Promise<number> {
    const key = keyOf(turn.userId, turn.conversationId);
    const record = this.records.get(key);
    const question = turn.userMessage;
    const seq = (turn.existing?.lastSeq ?? 0) + (question ? 1 : 0);
    if (turn.existing ? !canTake(record, turn) : record !== undefined) {
      throw new ConflictError(
        'another turn is in progress in this conversation, or it changed meanwhile; retry when it ends',
      );
    }
    const held = record ?? this.create(turn);
    const { conversation } = held;
    if (record) {
      if (question) {
        conversation.messageCount += 1;
        conversation.uncompactedTokens += question.tokens;
      }
      conversation.updatedAt = turn.nowIso;
      if (turn.retitle) conversation.title = turn.title;
      if (turn.supersedeFrom !== undefined && turn.existing) {
        conversation.superseded = [
          ...(conversation.superseded ?? []),
          [turn.supersedeFrom, turn.existing.lastSeq],
        ];
      }
    }
    conversation.lastSeq = seq + 1;
    conversation.activeTurn = {
      turnId: turn.turnId,
      leaseUntilMs: turn.leaseUntilMs,
      ...(turn.hold && { hold: structuredClone(turn.hold) }),
    };
    delete held.stopTurnId;
    if (turn.clientQuestionId) held.activeQuestionId = turn.clientQuestionId;
    else delete held.activeQuestionId;
    if (question) held.activeQuestionMessageId = question.id;
    else delete held.activeQuestionMessageId;
    if (question) {
      const { id, content, tokens, clientMessageId } = question;
      held.messages.set(seq, {
        message: {
          id,
          seq,
          role: 'user',
          content,
          createdAt: turn.nowIso,
          ...(clientMessageId && { clientMessageId }),
        },
        tokens,
      });
    }
    return seq;
  }

  async finishTurn(turn: FinishTurn): Promise<void> {
    const record = this.records.get(keyOf(turn.userId, turn.conversationId));
    const answerSeq = turn.userSeq + 1;
    // Gone (or made again), or this answer was already stored: nothing is written, and
    // the pieces it saved go.
    if (
      record?.conversation.createdAt !== turn.conversationCreatedAt ||
      record.messages.has(answerSeq)
    ) {
      const pieces = record?.pieces.get(answerSeq);
      for (const [offset, piece] of pieces ?? []) {
        if (piece.turnId === turn.turnId) pieces?.delete(offset);
      }
      return;
    }
    this.storeAnswer(record, turn);
  }

  async interruptTurn(turn: FinishTurn): Promise<boolean> {
    const record = this.records.get(keyOf(turn.userId, turn.conversationId));
    if (!record || record.messages.has(turn.userSeq + 1)) return false;
    if (record.conversation.activeTurn?.turnId !== turn.turnId) return false;
    this.storeAnswer(record, turn);
    return true;
  }

  async abandonTurn(turn: BeginTurn): Promise<boolean> {
    const key = keyOf(turn.userId, turn.conversationId);
    const record = this.records.get(key);
    if (record?.conversation.activeTurn?.turnId !== turn.turnId) return false;
    if (!turn.existing) {
      this.records.delete(key);
      return true;
    }
    const { conversation } = record;
    const before = turn.existing;
    if (turn.userMessage) {
      record.messages.delete(before.lastSeq + 1);
      // Counted off, not set back: a compaction or a late answer may have moved them since.
      conversation.messageCount -= 1;
      conversation.uncompactedTokens -= turn.userMessage.tokens;
    }
    conversation.lastSeq = before.lastSeq;
    conversation.updatedAt = before.updatedAt;
    conversation.title = before.title;
    if (before.superseded) conversation.superseded = structuredClone(before.superseded);
    else delete conversation.superseded;
    delete conversation.activeTurn;
    delete record.activeQuestionId;
    delete record.activeQuestionMessageId;
    return true;
  }

  async renewLease(
    userId: string,
    conversationId: string,
    turnId: string,
    leaseUntilMs: number,
    hold?: TurnHold,
  ): Promise<boolean> {
    const activeTurn = this.records.get(keyOf(userId, conversationId))?.conversation.activeTurn;
    if (activeTurn?.turnId !== turnId) return false;
    activeTurn.leaseUntilMs = leaseUntilMs;
    if (hold) activeTurn.hold = structuredClone(hold);
    return true;
  }

  async saveAnswerPiece(piece: AnswerPiece): Promise<void> {
    const record = this.records.get(keyOf(piece.userId, piece.conversationId));
    // The adapter writes a piece item whatever the conversation's state; a piece of a
    // deleted conversation is unreachable either way.
    if (!record) return;
    const pieces = record.pieces.get(piece.answerSeq) ?? new Map();
    pieces.set(piece.offset, {
      turnId: piece.turnId,
      text: piece.text,
      ...(piece.usage && { usage: structuredClone(piece.usage) }),
    });
    record.pieces.set(piece.answerSeq, pieces);
  }

  async partialAnswer(
    userId: string,
    conversationId: string,
    answerSeq: number,
  ): Promise<PartialAnswer> {
    const pieces = this.records.get(keyOf(userId, conversationId))?.pieces.get(answerSeq);
    let text = '';
    let usage: TokenUsage | undefined;
    for (const [offset, piece] of [...(pieces ?? [])].sort(([a], [b]) => a - b)) {
      text = text.slice(0, offset) + piece.text;
      if (piece.usage) usage = structuredClone(piece.usage);
    }
    return usage ? { text, usage } : { text };
  }

  async answerPieces(
    userId: string,
    conversationId: string,
    answerSeq: number,
    fromOffset: number,
  ): Promise<Array<{ offset: number; text: string }>> {
    const pieces = this.records.get(keyOf(userId, conversationId))?.pieces.get(answerSeq);
    return [...(pieces ?? [])]
      .filter(([offset]) => offset >= fromOffset)
      .sort(([a], [b]) => a - b)
      .map(([offset, piece]) => ({ offset, text: piece.text }));
  }

  private storeAnswer(record: ConversationRecord, turn: FinishTurn): void {
    const answerSeq = turn.userSeq + 1;
    const { answer } = turn;
    const message: StoredMessage = {
      id: answer.id,
      seq: answerSeq,
      role: 'assistant',
      content: answer.content,
      createdAt: turn.nowIso,
      model: answer.model,
      ...(answer.upstreamModel && { upstreamModel: answer.upstreamModel }),
      stopReason: answer.stopReason,
      usage: structuredClone(answer.usage),
      costNanoUsd: answer.costNanoUsd,
      ...(answer.usageEstimated && { usageEstimated: true }),
      ...(answer.failure && { failure: { ...answer.failure } }),
    };
    record.messages.set(answerSeq, { message, tokens: answer.tokens });
    const { conversation } = record;
    conversation.messageCount += 1;
    conversation.uncompactedTokens += answer.tokens;
    conversation.updatedAt = turn.nowIso;
    // A turn whose lease was lost and taken over leaves the new turn's hold alone.
    if (conversation.activeTurn?.turnId === turn.turnId) {
      delete conversation.activeTurn;
      delete record.stopTurnId;
      if (turn.superseded) conversation.superseded = structuredClone(turn.superseded);
    }
  }

  async requestStop(
    userId: string,
    conversationId: string,
    nowMs: number,
    turnId?: string,
  ): Promise<boolean> {
    const record = this.records.get(keyOf(userId, conversationId));
    const activeTurn = record?.conversation.activeTurn;
    if (!record || !activeTurn || activeTurn.leaseUntilMs < nowMs) return false;
    if (turnId !== undefined && activeTurn.turnId !== turnId) return false;
    record.stopTurnId = activeTurn.turnId;
    return true;
  }

  async requestStopOfQuestion(
    userId: string,
    conversationId: string,
    clientQuestionId: string,
    nowMs: number,
    arrivedAtMs = nowMs,
  ): Promise<'stopping' | 'ended' | 'pending'> {
    const record = this.records.get(keyOf(userId, conversationId));
    const activeTurn = record?.conversation.activeTurn;
    const asked =
      record?.activeQuestionId === clientQuestionId ||
      record?.activeQuestionMessageId === clientQuestionId ||
      // A regenerate, named by the server's id of its question (a reopened chat's).
      (record !== undefined &&
        record.activeQuestionMessageId === undefined &&
        isMessageId(clientQuestionId) &&
        (await lastQuestion(this, userId, conversationId))?.id === clientQuestionId);
    if (asked && activeTurn && activeTurn.leaseUntilMs >= nowMs) {
      record!.stopTurnId = activeTurn.turnId;
      return 'stopping';
    }
    this.pendingStops.set(keyOf(userId, conversationId, clientQuestionId), {
      upToMs: asked ? arrivedAtMs : arrivedAtMs + PENDING_STOP_AHEAD_MS,
      expiresAtMs: nowMs + PENDING_STOP_TTL_MS,
    });
    return asked ? 'ended' : 'pending';
  }

  async isStopRequested(
    userId: string,
    conversationId: string,
    turnId: string,
    conversationCreatedAt: string,
    pendingStop?: PendingStopCheck,
  ) {
    const record = this.records.get(keyOf(userId, conversationId));
    // A deleted conversation stops its turn too, made again or not.
    if (record?.conversation.createdAt !== conversationCreatedAt || record.stopTurnId === turnId) {
      return true;
    }
    if (!pendingStop) return false;
    const key = keyOf(userId, conversationId, pendingStop.clientQuestionId);
    const kept = this.pendingStops.get(key);
    if (
      !kept ||
      pendingStop.receivedAtMs > kept.upToMs ||
      kept.expiresAtMs <= pendingStop.receivedAtMs
    ) {
      return false;
    }
    this.pendingStops.delete(key);
    return true;
  }

  async deleteConversation(userId: string, conversationId: string): Promise<boolean> {
    return this.records.delete(keyOf(userId, conversationId));
  }

  async saveSummary(
    userId: string,
    conversationId: string,
    summary: { text: string; throughSeq: number; tokensCompacted: number },
    basis: SummaryBasis,
  ): Promise<'saved' | 'stale' | 'gone'> {
    const conversation = this.records.get(keyOf(userId, conversationId))?.conversation;
    if (conversation?.createdAt !== basis.createdAt) return 'gone';
    if (
      (conversation.summary?.throughSeq ?? 0) !== basis.summaryThroughSeq ||
      JSON.stringify(conversation.superseded ?? []) !== JSON.stringify(basis.supersededRanges)
    ) {
      return 'stale';
    }
    conversation.summary = { text: summary.text, throughSeq: summary.throughSeq };
    conversation.uncompactedTokens -= summary.tokensCompacted;
    return 'saved';
  }

  private create(turn: BeginTurn): ConversationRecord {
    const record: ConversationRecord = {
      conversation: {
        id: turn.conversationId,
        userId: turn.userId,
        title: turn.title,
        createdAt: turn.nowIso,
        updatedAt: turn.nowIso,
        lastSeq: 0,
        messageCount: 1,
        uncompactedTokens: turn.userMessage?.tokens ?? 0,
      },
      messages: new Map(),
      pieces: new Map(),
    };
    this.records.set(keyOf(turn.userId, turn.conversationId), record);
    return record;
  }

  private messagesOf(userId: string, conversationId: string) {
    const record = this.records.get(keyOf(userId, conversationId));
    return [...(record?.messages.values() ?? [])].sort((a, b) => a.message.seq - b.message.seq);
  }
}

/** The conversation is still as the turn read it, and no live turn holds it. */
function canTake(record: ConversationRecord | undefined, turn: BeginTurn): boolean {
  if (!record || record.conversation.lastSeq !== turn.existing?.lastSeq) return false;
  const summarized = record.conversation.summary?.throughSeq ?? 0;
  if (turn.supersedeFrom !== undefined && turn.supersedeFrom <= summarized) return false;
  const activeTurn = record.conversation.activeTurn;
  return !activeTurn || activeTurn.leaseUntilMs < Date.parse(turn.nowIso);
}

const keyOf = (userId: string, conversationId: string, ...within: string[]) =>
  [userId, conversationId, ...within].join('\u0000');

/** A user's conversations sort by last activity, then id, as the adapter's index does. */
const activityOf = (conversation: Conversation) => `${conversation.updatedAt}#${conversation.id}`;

/**
 * One page after the cursor's key. Like DynamoDB with `Limit`, a full page always
 * carries a `nextCursor`, even when nothing follows (the next page is then empty).
 */
function paginate<K extends string | number, T>(
  sorted: Array<{ key: K; item: T }>,
  page: PageRequest,
  owner: string,
  follows: (key: K, after: K) => boolean,
): Page<T> {
  const after = decodeCursor<K>(page.cursor, owner);
  const rest = after === undefined ? sorted : sorted.filter(({ key }) => follows(key, after));
  const items = rest.slice(0, page.limit);
  const last = items.at(-1);
  const result: Page<T> = { items: items.map(({ item }) => structuredClone(item)) };
  if (items.length === page.limit && last) result.nextCursor = encodeCursor(owner, last.key);
  return result;
}

function encodeCursor(owner: string, key: string | number): string {
  return Buffer.from(JSON.stringify({ owner, key })).toString('base64url');
}

function decodeCursor<K>(cursor: string | undefined, owner: string): K | undefined {
  if (cursor === undefined) return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (decoded?.owner !== owner || decoded.key === undefined) throw new Error();
    return decoded.key as K;
  } catch {
    throw new ValidationError('cursor is not valid: pass back the nextCursor of a previous page');
  }
}
