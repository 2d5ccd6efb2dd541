import type { BeginTurn, FinishTurn } from '../../ports/conversation-store.js';
import { keys } from './keys.js';
import { settleToUpdate } from './reservation-index.js';

/**
 * The writes of a turn, as TransactWriteItems entries. Starting a turn takes the
 * conversation (no live turn, nothing added since it was read) and stores the
 * question; finishing stores the answer in the next slot and releases the hold.
 */
export function beginTurnItems(tableName: string, turn: BeginTurn) {
  const question = turn.userMessage;
  // A regenerated answer asks no new question: it takes the slot after the last one.
  const seq = (turn.existing?.lastSeq ?? 0) + (question ? 1 : 0);
  const activity = {
    gsi1pk: keys.conversationsByUser(turn.userId),
    gsi1sk: keys.conversationActivity(turn.nowIso, turn.conversationId),
  };
  const items: Array<Record<string, unknown>> = [];
  if (turn.existing) {
    const supersede = turn.supersedeFrom !== undefined;
    const set = [
      'lastSeq = :answerSeq',
      'activeTurnId = :turn',
      'activeTurnLeaseUntil = :lease',
      'updatedAt = :now',
      'gsi1sk = :activity',
      ...(question
        ? ['messageCount = messageCount + :one', 'uncompactedTokens = uncompactedTokens + :tokens']
        : []),
      ...(turn.hold ? ['activeTurnHold = :hold'] : []),
      ...(supersede
        ? ['supersededRanges = list_append(if_not_exists(supersededRanges, :none), :range)']
        : []),
      ...(turn.retitle ? ['title = :title'] : []),
      ...(turn.clientQuestionId ? ['activeQuestionId = :question'] : []),
      ...(question ? ['activeQuestionMessageId = :questionId'] : []),
    ];
    const remove = [
      'stopTurnId',
      ...(turn.hold ? [] : ['activeTurnHold']),
      ...(turn.clientQuestionId ? [] : ['activeQuestionId']),
      ...(question ? [] : ['activeQuestionMessageId']),
    ];
    items.push({
      Update: {
        TableName: tableName,
        Key: keys.conversation(turn.userId, turn.conversationId),
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        ConditionExpression:
          'attribute_exists(pk) AND lastSeq = :seen AND ' +
          '(attribute_not_exists(activeTurnId) OR activeTurnLeaseUntil < :nowMs)' +
          // A summary saved since the turn read the conversation may hold what it replaces.
          (supersede
            ? ' AND (attribute_not_exists(summaryThroughSeq) OR summaryThroughSeq < :supersedeFrom)'
            : ''),
        ExpressionAttributeValues: {
          ':answerSeq': seq + 1,
          ':seen': turn.existing.lastSeq,
          ':turn': turn.turnId,
          ':lease': turn.leaseUntilMs,
          ':now': turn.nowIso,
          ':nowMs': Date.parse(turn.nowIso),
          ':activity': activity.gsi1sk,
          ...(question && { ':one': 1, ':tokens': question.tokens }),
          ...(turn.hold && { ':hold': turn.hold }),
          ...(supersede && {
            ':none': [],
            ':range': [[turn.supersedeFrom, turn.existing.lastSeq]],
            ':supersedeFrom': turn.supersedeFrom,
          }),
          ...(turn.retitle && { ':title': turn.title }),
          ...(turn.clientQuestionId && { ':question': turn.clientQuestionId }),
          ...(question && { ':questionId': question.id }),
        },
      },
    });
  } else {
    items.push({
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
          uncompactedTokens: question?.tokens ?? 0,
          activeTurnId: turn.turnId,
          activeTurnLeaseUntil: turn.leaseUntilMs,
          ...(turn.hold && { activeTurnHold: turn.hold }),
          ...(turn.clientQuestionId && { activeQuestionId: turn.clientQuestionId }),
          ...(question && { activeQuestionMessageId: question.id }),
          ...(turn.responseCacheKey && { responseCacheKey: turn.responseCacheKey }),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  }
  if (question) {
    items.push({
      Put: {
        TableName: tableName,
        Item: {
          ...keys.message(turn.userId, turn.conversationId, seq),
          id: question.id,
          seq,
          role: 'user',
          content: question.content,
          tokens: question.tokens,
          ...(question.clientMessageId && { clientMessageId: question.clientMessageId }),
          createdAt: turn.nowIso,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  }
  return { seq, items };
}

/**
 * Undoes a begun turn, only while it holds the conversation: a new conversation is
 * deleted; an existing one gets back what it was before (counters, activity, sequence,
 * superseded messages).
 */
export function abandonTurnItems(tableName: string, turn: BeginTurn) {
  const { seq } = beginTurnItems(tableName, turn);
  const question = turn.userMessage;
  const conversationKey = keys.conversation(turn.userId, turn.conversationId);
  const held = { ':turn': turn.turnId, ':answerSeq': seq + 1 };
  const deleteQuestion = question
    ? [
        {
          Delete: {
            TableName: tableName,
            Key: keys.message(turn.userId, turn.conversationId, seq),
          },
        },
      ]
    : [];
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
      ...deleteQuestion,
    ];
  }
  const before = turn.existing;
  const ranges = before.superseded ?? [];
  return [
    {
      Update: {
        TableName: tableName,
        Key: conversationKey,
        UpdateExpression:
          'SET lastSeq = :lastSeq, updatedAt = :updatedAt, gsi1sk = :activity, title = :title' +
          // Counted off, not set back: a compaction or a late answer may have moved them since.
          (question
            ? ', messageCount = messageCount - :one, uncompactedTokens = uncompactedTokens - :tokens'
            : '') +
          `${ranges.length > 0 ? ', supersededRanges = :ranges' : ''} ` +
          `REMOVE activeTurnId, activeTurnLeaseUntil, activeTurnHold, activeQuestionId, activeQuestionMessageId${ranges.length > 0 ? '' : ', supersededRanges'}`,
        ConditionExpression: 'activeTurnId = :turn AND lastSeq = :answerSeq',
        ExpressionAttributeValues: {
          ...held,
          ':lastSeq': before.lastSeq,
          ':updatedAt': before.updatedAt,
          ':title': before.title,
          ':activity': keys.conversationActivity(before.updatedAt, before.id),
          ...(question && { ':one': 1, ':tokens': question.tokens }),
          ...(ranges.length > 0 && { ':ranges': ranges }),
        },
      },
    },
    ...deleteQuestion,
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
  const countersExpression = (alsoSet = '') =>
    'SET updatedAt = :now, gsi1sk = :activity, messageCount = messageCount + :one, ' +
    `uncompactedTokens = uncompactedTokens + :tokens${alsoSet} ` +
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
          ...(answer.failure && { failure: answer.failure }),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    /** Counts the answer and frees the conversation, if this turn still holds it. */
    releaseHold: {
      Update: {
        TableName: tableName,
        Key: conversationKey,
        UpdateExpression: `${countersExpression(turn.superseded ? ', supersededRanges = :ranges' : '')} REMOVE activeTurnId, activeTurnLeaseUntil, activeTurnHold, stopTurnId`,
        ConditionExpression: 'activeTurnId = :turn',
        ExpressionAttributeValues: {
          ...counters,
          ':turn': turn.turnId,
          ...(turn.superseded && { ':ranges': turn.superseded }),
        },
      },
    },
    /** Counts the answer only, if the conversation is still the one the turn began in. */
    countOnly: {
      Update: {
        TableName: tableName,
        Key: conversationKey,
        UpdateExpression: countersExpression(),
        ConditionExpression: 'createdAt = :createdAt',
        ExpressionAttributeValues: { ...counters, ':createdAt': turn.conversationCreatedAt },
      },
    },
    /**
     * The answer's figures on its reservation's index entry, so that a settle that never
     * comes is made by the sweep (none for a free answer).
     */
    billed: turn.reservation
      ? [
          settleToUpdate(tableName, turn.reservation, {
            usage: answer.usage,
            costNanoUsd: answer.costNanoUsd,
          }),
        ]
      : [],
  };
}
