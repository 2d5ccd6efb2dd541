import type { Clock } from '../../../shared/domain/clock.js';
import { ModelError } from '../../../shared/domain/errors.js';
import type { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { estimateTokens } from '../../../shared/domain/tokens.js';
import type { ConversationStore } from '../../../shared/ports/conversation-store.js';
import type { UsageRecords } from '../../../shared/ports/usage-records.js';
import { givenBack } from '../../../shared/turns/given-back.js';
import { answerOutcome } from './answer-outcome.js';
import type { CollectedAnswer } from './collect-answer.js';
import type { CompactionRequests } from './compaction-requests.js';
import type { TurnCache } from './turn-cache.js';
import type { StartedTurn, TurnEvent } from './turn-types.js';

/**
 * @param keepShown saves what the user was shown where a recovery finds it, should the
 * answer not be stored
 */
export type FinishTurn = (
  turn: StartedTurn,
  answer: CollectedAnswer,
  keepShown: () => Promise<void>,
) => Promise<TurnEvent>;

/**
 * What an answer leaves behind, whatever way it ended: the answer stored (before the
 * stream's last event) with its cost as what its reservation is settled to should this
 * function die before it settles, then its cost settled against the budget and the rate window,
 * compaction requested when the history grew past the threshold. Only a failure to
 * store the answer fails the turn; the rest is reported to the observer.
 * @returns the turn's last event: `done`, or `error`
 */
export function createTurnFinish(deps: {
  store: ConversationStore;
  prices: PriceTable;
  compaction: CompactionRequests;
  turnCache: TurnCache;
  usageRecords: UsageRecords;
  clock: Clock;
}): FinishTurn {
  const { store, prices, compaction, turnCache, usageRecords, clock } = deps;
  return async (turn, answer, keepShown) => {
    const { observer } = turn;
    const outcome = answerOutcome(answer, turn.controller.interruptedBy, turn.maxTokens);
    const { usage } = outcome;
    const { model } = turn;
    const upstreamModel = turn.stream.model !== model ? turn.stream.model : undefined;
    let failure = outcome.failure;
    let costNanoUsd: number;
    try {
      costNanoUsd = turn.cache.outcome === 'hit' ? 0 : prices.costNanoUsd(model, usage);
    } catch (error) {
      // Never reached with validated settings (every allowed model is priced); should it
      // be, the call is charged the worst case it held rather than nothing.
      costNanoUsd = turn.admitted.reservedNanoUsd;
      failure ??= new ModelError('api_error', 'the answer could not be priced', { cause: error });
    }
    const superseded = givenBack(turn, {
      seq: turn.userSeq + 1,
      text: answer.text,
      stopReason: outcome.stopReason,
    });
    try {
      await store.finishTurn({
        userId: turn.userId,
        conversationId: turn.conversationId,
        turnId: turn.messageId,
        userSeq: turn.userSeq,
        conversationCreatedAt: turn.conversationCreatedAt,
        answer: {
          id: turn.messageId,
          content: answer.text,
          model,
          ...(upstreamModel && { upstreamModel }),
          stopReason: outcome.stopReason,
          usage,
          usageEstimated: outcome.usageEstimated,
          costNanoUsd,
          tokens: estimateTokens(answer.text),
          // On the failure path only: whoever reads it again is told what this stream tells.
          ...(failure && { failure: { kind: failure.kind, message: failure.message } }),
        },
        // Billed should this function die before its settle below: a replay is free.
        ...(turn.cache.outcome !== 'hit' && { reservation: turn.admitted.reservation }),
        ...(superseded && { superseded }),
        nowIso: new Date(clock()).toISOString(),
      });
    } catch (error) {
      observer.answerNotStored(error);
      failure ??= new ModelError('api_error', 'the answer could not be stored', { cause: error });
      // The turn still holds the conversation: the next turn or stop recovers the answer
      // from its pieces, which lack what was shown since the last one.
      await keepShown();
    }

    const settled = await turn.admitted.settle({ usage, costNanoUsd });
    if (settled.ledgerError !== undefined) {
      const { reservationId, ledgerError: error } = settled;
      observer.settlementFailed({ error, reservationId, costNanoUsd, usage });
    }
    if (settled.rateWindowError !== undefined) {
      observer.rateWindowNotCorrected(settled.rateWindowError);
    }
    if (settled.overrunNanoUsd > 0) {
      const { overrunNanoUsd, reservationId } = settled;
      observer.budgetOverrun({ overrunNanoUsd, reservationId });
    }
    if (!failure) {
      const kept = await turnCache.keep(
        turn.cache,
        { text: answer.text, model, stopReason: outcome.stopReason, usage },
        clock(),
      );
      // Deleted since its answer was stored, its sweep may have missed the entry just kept:
      // the conversation's text would outlive it there.
      if (kept && !(await isStill(store, turn))) await turnCache.forget(turn.cache);
    }
    await usageRecords
      .record({
        requestId: turn.requestId,
        at: new Date(turn.receivedAtMs).toISOString(),
        principal: turn.userId,
        ...(turn.apiKeyId && { keyId: turn.apiKeyId }),
        api: 'chat',
        model,
        usage,
        costNanoUsd,
        latencyMs: clock() - turn.receivedAtMs,
        stopReason: outcome.stopReason,
        cacheHit: turn.cache.outcome === 'hit',
      })
      .catch((error: unknown) => observer.usageNotRecorded(error));
    await compaction
      .requestIfDue({
        userId: turn.userId,
        conversationId: turn.conversationId,
        conversationCreatedAt: turn.conversationCreatedAt,
        model,
        summaryThroughSeq: turn.summaryThroughSeq,
        lastSeq: turn.userSeq + 1,
        superseded: superseded ?? turn.superseded,
        historyTokens: turn.uncompactedTokens + estimateTokens(answer.text),
      })
      // The next turn asks again: compaction is an optimisation, never a failure.
      .catch((error: unknown) => observer.compactionNotRequested(error));

    await observer
      .ended({
        conversationId: turn.conversationId,
        messageId: turn.messageId,
        model,
        ...(upstreamModel && { upstreamModel }),
        stopReason: outcome.stopReason,
        usage,
        usageEstimated: outcome.usageEstimated,
        costNanoUsd,
        counted: settled.counted,
        latencyMs: clock() - turn.receivedAtMs,
        ...(failure && { failure }),
      })
      // Observing is best effort: it never turns a stored answer into an error.
      .catch(() => undefined);
    const estimated = outcome.usageEstimated ? { usageEstimated: true as const } : {};
    if (failure) {
      return {
        type: 'error',
        error: failure,
        billed: { messageId: turn.messageId, usage, ...estimated, costNanoUsd },
      };
    }
    return {
      type: 'done',
      messageId: turn.messageId,
      stopReason: outcome.stopReason,
      usage,
      ...estimated,
      costNanoUsd,
    };
  };
}

/** Whether the turn's conversation is still there, and not one made again under its id. */
async function isStill(store: ConversationStore, turn: StartedTurn): Promise<boolean> {
  const conversation = await store
    .getConversation(turn.userId, turn.conversationId)
    // Unread, the entry is let go: a cache miss costs less than a remnant.
    .catch(() => undefined);
  return conversation?.createdAt === turn.conversationCreatedAt;
}
