import type { BeginTurn, FinishTurn } from '../../ports/conversation-store.js';
import { keys } from './keys.js';

/**
 * The writes of a turn, as TransactWriteItems entries. Starting a turn takes the
 * conversation (no live turn, nothing added since it was read) and stores the
 * question; finishing stores the answer in the next slot and releases the hold.
 */
export function beginTurnItems(tableName: string, turn: BeginTurn) {
  const seq = (turn.existing?.lastSeq ?? 0) + 1;
  const activity = {
    gsi1pk: keys.conversationsByUser(turn.userId),
    gsi1sk: keys.conversationActivity(turn.nowIso, turn.conversationId),
  };
  const takeConversation = turn.existing
    ? {
        Update: {
          TableName: tableName,
          Key: keys.conversation(turn.userId, turn.conversationId),
          UpdateExpression:
            'SET lastSeq = :answerSeq, activeTurnId = :turn, activeTurnLeaseUntil = :lease, ' +
            'updatedAt = :now, gsi1sk = :activity, messageCount = messageCount + :one, ' +
            `uncompactedTokens = uncompactedTokens + :tokens${turn.hold ? ', activeTurnHold = :hold' : ''} ` +
            `REMOVE stopTurnId${turn.hold ? '' : ', activeTurnHold'}`,
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
            ...(turn.hold && { ':hold': turn.hold }),
          },
        },
      }
    : {
        Put: {
          TableName: tableName,
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
            ...(turn.hold && { activeTurnHold: turn.hold }),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      };
  const putQuestion = {
    Put: {
      TableName: tableName,
      Item: {
        ...keys.message(turn.userId, turn.conversationId, seq),
        id: turn.userMessage.id,
        seq,
        role: 'user',
        content: turn.userMessage.content,
        tokens: turn.userMessage.tokens,
        createdAt: turn.nowIso,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
  return { seq, items: [takeConversation, putQuestion] };
}

/**
 * Undoes a begun turn, only while it holds the conversation: a new conversation is
 * deleted; an existing one gets back what it was before (counters, activity, sequence).
 */
export function abandonTurnItems(tableName: string, turn: BeginTurn) {
  const seq = (turn.existing?.lastSeq ?? 0) + 1;
  const conversationKey = keys.conversation(turn.userId, turn.conversationId);
  const held = { ':turn': turn.turnId, ':answerSeq': seq + 1 };
  const deleteQuestion = {
    Delete: { TableName: tableName, Key: keys.message(turn.userId, turn.conversationId, seq) },
  };
  if (!turn.existing) {
    return [
      {
        Delete: {
          TableName: tableName,
          Key: conversationKey,
          ConditionExpression: 'activeTurnId = :turn AND lastSeq = :answerSeq',
          ExpressionAttributeValues: held,
        },
      },
      deleteQuestion,
    ];
  }
  const before = turn.existing;
  return [
    {
      Update: {
        TableName: tableName,
        Key: conversationKey,
        UpdateExpression:
          'SET lastSeq = :lastSeq, updatedAt = :updatedAt, gsi1sk = :activity, ' +
          'messageCount = :messageCount, uncompactedTokens = :uncompacted ' +
          'REMOVE activeTurnId, activeTurnLeaseUntil, activeTurnHold',
        ConditionExpression: 'activeTurnId = :turn AND lastSeq = :answerSeq',
        ExpressionAttributeValues: {
          ...held,
          ':lastSeq': before.lastSeq,
          ':updatedAt': before.updatedAt,
          ':activity': keys.conversationActivity(before.updatedAt, before.id),
          ':messageCount': before.messageCount,
          ':uncompacted': before.uncompactedTokens,
        },
      },
    },
    deleteQuestion,
  ];
}

export function finishTurnItems(tableName: string, turn: FinishTurn) {
  const { answer } = turn;
  const conversationKey = keys.conversation(turn.userId, turn.conversationId);
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
  return {
    putAnswer: {
      Put: {
        TableName: tableName,
        Item: {
          ...keys.message(turn.userId, turn.conversationId, turn.userSeq + 1),
          id: answer.id,
          seq: turn.userSeq + 1,
          role: 'assistant',
          content: answer.content,
          tokens: answer.tokens,
          createdAt: turn.nowIso,
          model: answer.model,
          ...(answer.upstreamModel && { upstreamModel: answer.upstreamModel }),
          stopReason: answer.stopReason,
          usage: answer.usage,
          usageEstimated: answer.usageEstimated,
          costNanoUsd: answer.costNanoUsd,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    /** Counts the answer and frees the conversation, if this turn still holds it. */
    releaseHold: {
      Update: {
        TableName: tableName,
        Key: conversationKey,
        UpdateExpression: `${countersExpression} REMOVE activeTurnId, activeTurnLeaseUntil, activeTurnHold, stopTurnId`,
        ConditionExpression: 'activeTurnId = :turn',
        ExpressionAttributeValues: { ...counters, ':turn': turn.turnId },
      },
    },
    /** Counts the answer only, if the conversation still exists. */
    countOnly: {
      Update: {
        TableName: tableName,
        Key: conversationKey,
        UpdateExpression: countersExpression,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: counters,
      },
    },
  };
}
