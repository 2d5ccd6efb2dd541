import type { Clock } from '../domain/clock.js';
import type { Conversation } from '../domain/conversation.js';
import type { PriceTable } from '../domain/pricing/price-table.js';
import { type CountedSpend, countedBy, NOTHING_COUNTED } from '../domain/settlement.js';
import { estimateOutputTokens, estimateTokens } from '../domain/tokens.js';
import { ZERO_USAGE } from '../domain/usage.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import type { UsageRecords } from '../ports/usage-records.js';
import { givenBack, type Regenerated } from './given-back.js';

/**
 * What became of a conversation's turn: none running, one alive, one whose function
 * died and is now ended as `interrupted`, or no conversation at all.
 */
export type Recovery = 'idle' | 'alive' | 'recovered' | 'gone';

export type RecoverTurn = (userId: string, conversationId: string) => Promise<Recovery>;

/** A turn a recovery ended: for the operator's log and metrics. */
export interface RecoveredTurn {
  userId: string;
  conversationId: string;
  turnId: string;
  model: string;
  outputTokens: number;
  costNanoUsd: number;
  /**
   * What of it the ledger counts for this recovery (see `UsageLedger.settle`): what the spend
   * metrics publish, as the dead function never did. Nothing when its caller settled first;
   * should the settle fail, what it counted all the same (the sweep settles the rest to the
   * figures stored with the answer, and publishes what it counts).
   */
  counted: CountedSpend;
}

/** Reservation holders of chat turns: `CONV#<userId>#<conversationId>` (no `#` in either). */
export const turnHolder = (userId: string, conversationId: string) =>
  `CONV#${userId}#${conversationId}`;

export function parseTurnHolder(holder: string | undefined) {
  const match = /^CONV#([^#]+)#([^#]+)$/.exec(holder ?? '');
  return match ? { userId: match[1]!, conversationId: match[2]! } : undefined;
}

/**
 * Ends a turn whose function died mid-answer (killed, out of memory, timed out): its
 * lease, renewed by a live turn's heartbeat, has run out. What it had streamed is stored
 * as its answer, `interrupted`, priced from the usage Claude reported at the start and
 * the streamed text; its reservation is settled to that, releasing the rest (those
 * figures are stored with the answer as what the sweep settles the reservation to, should
 * this settle fail or this function die first); the conversation is free again; the call
 * is reported in the usage records. Safe to race:
 * the store ends a turn once. Should the function only have stalled, its own settle later
 * counts the call once, at its figures.
 */
export function createTurnRecovery(deps: {
  store: ConversationStore;
  ledger: Pick<UsageLedger, 'settle'>;
  usageRecords: Pick<UsageRecords, 'record'>;
  prices: PriceTable;
  clock: Clock;
  /** Told of each turn this recovery ended (not of one another recovery ended first). */
  onRecovered?: (turn: RecoveredTurn) => void;
  /** Told of a turn it ended whose usage record could not be written (none will be). */
  onUsageNotRecorded?: (turn: RecoveredTurn, error: unknown) => void;
}): RecoverTurn {
  const { store, ledger, usageRecords, prices, clock } = deps;
  return async (userId, conversationId) => {
    const conversation = await store.getConversation(userId, conversationId);
    if (!conversation) return 'gone';
    const active = conversation.activeTurn;
    if (!active) return 'idle';
    const nowMs = clock();
    if (active.leaseUntilMs >= nowMs) return 'alive';

    // The turn's answer takes the slot after its question: the last one taken.
    const answerSeq = conversation.lastSeq;
    const partial = await store.partialAnswer(userId, conversationId, answerSeq);
    // Erring high, but never past max_tokens: Claude bills no more.
    const estimate = Math.min(
      active.hold?.maxTokens ?? Number.POSITIVE_INFINITY,
      estimateOutputTokens(partial.text),
    );
    const usage = {
      ...(partial.usage ?? ZERO_USAGE),
      outputTokens: Math.max(partial.usage?.outputTokens ?? 0, estimate),
    };
    const stopReason = active.stopping ? 'stopped' : 'interrupted';
    const superseded =
      partial.text === ''
        ? givenBack(
            { regenerated: await asRegenerate(store, conversation, answerSeq) },
            {
              seq: answerSeq,
              text: partial.text,
              stopReason,
            },
          )
        : undefined;
    const model = active.hold?.model ?? 'unknown';
    const costNanoUsd = prices.has(model)
      ? prices.costNanoUsd(model, usage)
      : (active.hold?.reservation.amountNanoUsd ?? 0);
    const ended = await store.interruptTurn({
      userId,
      conversationId,
      turnId: active.turnId,
      userSeq: answerSeq - 1,
      conversationCreatedAt: conversation.createdAt,
      answer: {
        id: active.turnId,
        content: partial.text,
        model,
        // Asked to stop before its function died: stopped, as the stop's 202 said.
        stopReason,
        usage,
        usageEstimated: true,
        costNanoUsd,
        tokens: estimateTokens(partial.text),
      },
      // Billed even should the settle below fail, or this function die before it.
      ...(active.hold && { reservation: active.hold.reservation }),
      ...(superseded && { superseded }),
      nowIso: new Date(nowMs).toISOString(),
    });
    if (!ended) return 'idle';
    const recovered = {
      userId,
      conversationId,
      turnId: active.turnId,
      model,
      outputTokens: usage.outputTokens,
      costNanoUsd,
    };
    const { hold } = active;
    if (!hold) deps.onRecovered?.({ ...recovered, counted: NOTHING_COUNTED });
    else {
      const receivedAt = hold.receivedAt ?? new Date(nowMs).toISOString();
      // Recorded though the settle fails (the sweep settles to the figures stored with the
      // answer): the turn is ended, and no later recovery would record it.
      const [settled, recorded] = await Promise.allSettled([
        ledger.settle(hold.reservation, { usage, costNanoUsd }, { recovered: true }),
        usageRecords.record({
          // The turn's own request: should its function finish after all, its record replaces this.
          requestId: hold.requestId ?? `recovered:${active.turnId}`,
          at: receivedAt,
          principal: userId,
          ...(hold.reservation.keyId && { keyId: hold.reservation.keyId }),
          api: 'chat',
          model,
          usage,
          costNanoUsd,
          latencyMs: nowMs - Date.parse(receivedAt),
          stopReason: 'interrupted',
          cacheHit: false,
          recovered: true,
        }),
      ]);
      const counted = countedBy(settled);
      deps.onRecovered?.({ ...recovered, counted });
      if (recorded.status === 'rejected') {
        deps.onUsageNotRecorded?.({ ...recovered, counted }, recorded.reason);
      }
      if (settled.status === 'rejected') throw settled.reason;
    }
    return 'recovered';
  };
}

/**
 * The turn as a regenerate, when it was one: it asked no question, so the message before its
 * answer's slot is an answer it replaced, and the last range replaced is its own (no other turn
 * could add one while it held the conversation).
 */
async function asRegenerate(
  store: Pick<ConversationStore, 'message'>,
  conversation: Conversation,
  answerSeq: number,
): Promise<Regenerated | undefined> {
  const ranges = conversation.superseded ?? [];
  if (ranges.at(-1)?.[1] !== answerSeq - 1) return undefined;
  const before = await store.message(conversation.userId, conversation.id, answerSeq - 1);
  return before?.role === 'assistant' ? { supersededBefore: ranges.slice(0, -1) } : undefined;
}
