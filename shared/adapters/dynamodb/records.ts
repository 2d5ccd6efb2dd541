import type {
  AnswerFailure,
  Conversation,
  StoredMessage,
  TurnHold,
} from '../../domain/conversation.js';
import { isModelErrorKind } from '../../domain/errors.js';
import type { TokenUsage } from '../../domain/usage.js';

type Item = Record<string, unknown>;

export function toConversation(item: Item): Conversation {
  const conversation: Conversation = {
    id: String(item.conversationId),
    userId: String(item.userId),
    title: String(item.title ?? ''),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    lastSeq: Number(item.lastSeq ?? 0),
    messageCount: Number(item.messageCount ?? 0),
    uncompactedTokens: Number(item.uncompactedTokens ?? 0),
  };
  if (typeof item.activeTurnId === 'string') {
    conversation.activeTurn = {
      turnId: item.activeTurnId,
      leaseUntilMs: Number(item.activeTurnLeaseUntil ?? 0),
      ...(item.activeTurnHold !== undefined && { hold: item.activeTurnHold as TurnHold }),
      ...(item.stopTurnId === item.activeTurnId && { stopping: true }),
    };
  }
  if (typeof item.summary === 'string') {
    conversation.summary = { text: item.summary, throughSeq: Number(item.summaryThroughSeq ?? 0) };
  }
  const ranges = supersededRanges(item.supersededRanges);
  if (ranges.length > 0) conversation.superseded = ranges;
  return conversation;
}

/** `[[from, to], …]` as stored; anything else in it is ignored. */
function supersededRanges(value: unknown): Array<[number, number]> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((range) =>
    Array.isArray(range) && range.length === 2 && range.every(Number.isSafeInteger)
      ? [[Number(range[0]), Number(range[1])] as [number, number]]
      : [],
  );
}

export function toMessage(item: Item): StoredMessage {
  const message: StoredMessage = {
    id: String(item.id),
    seq: Number(item.seq),
    role: item.role === 'assistant' ? 'assistant' : 'user',
    content: String(item.content ?? ''),
    createdAt: String(item.createdAt),
  };
  if (typeof item.model === 'string') message.model = item.model;
  if (typeof item.upstreamModel === 'string') message.upstreamModel = item.upstreamModel;
  if (typeof item.stopReason === 'string') {
    message.stopReason = item.stopReason as StoredMessage['stopReason'];
  }
  if (item.usage) message.usage = item.usage as TokenUsage;
  if (item.costNanoUsd !== undefined) message.costNanoUsd = Number(item.costNanoUsd);
  if (item.usageEstimated === true) message.usageEstimated = true;
  if (typeof item.clientMessageId === 'string') message.clientMessageId = item.clientMessageId;
  const failure = answerFailure(item.failure);
  if (failure) message.failure = failure;
  return message;
}

/** A failure as stored; one of a kind this version does not know reads as none (a failure untold). */
function answerFailure(value: unknown): AnswerFailure | undefined {
  const { kind, message } = (value ?? {}) as Record<string, unknown>;
  return isModelErrorKind(kind) && typeof message === 'string' ? { kind, message } : undefined;
}
