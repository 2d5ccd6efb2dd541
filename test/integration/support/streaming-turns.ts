import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { newConversationId, newMessageId } from '../../../shared/domain/ids.js';
import { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { createTurnRecovery, turnHolder } from '../../../shared/turns/recover-turn.js';
import { createTurnSweeper } from '../../../shared/turns/sweep-turns.js';

export const TURN_MODEL = 'claude-sonnet-4-6';
/** The usage Claude reports as an answer starts. */
export const STARTED_USAGE = {
  inputTokens: 2_000,
  outputTokens: 1,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};
export const SHOWN_TEXT = 'Once upon a time there was a long story that the user was shown.';

/** The maintenance sweep as functions/maintenance/compose.ts wires it, at `nowMs`. */
export function sweepAt(client: DynamoDBClient, tableName: string, nowMs: number) {
  const documentClient = createDocumentClient(client);
  const ledger = new DynamoUsageLedger(documentClient, tableName, 10);
  const clock = () => nowMs;
  const recover = createTurnRecovery({
    store: new DynamoConversationStore(documentClient, tableName),
    ledger,
    usageRecords: new DynamoUsageRecords(documentClient, tableName),
    prices: new PriceTable(),
    clock,
  });
  return createTurnSweeper({ ledger, recover, clock })();
}

/**
 * A chat turn as start-turn.ts begins it, at `startedAtMs`: its reservation held until
 * `expiresAtMs`, its question stored, its lease until `leaseUntilMs`, and the first piece of
 * its answer saved (what the user was shown).
 */
export async function streamingTurn(
  deps: { store: DynamoConversationStore; ledger: DynamoUsageLedger },
  userId: string,
  times: { startedAtMs: number; expiresAtMs: number; leaseUntilMs: number },
) {
  const { store, ledger } = deps;
  const conversationId = newConversationId();
  const reservation = await ledger.reserve({
    userId,
    amountNanoUsd: 50_000_000,
    userDefaultBudgetNanoUsd: 10_000_000_000,
    globalBudgetNanoUsd: 10_000_000_000,
    nowMs: times.startedAtMs,
    expiresAtMs: times.expiresAtMs,
    holder: turnHolder(userId, conversationId),
  });
  const turnId = newMessageId();
  const startedAt = new Date(times.startedAtMs).toISOString();
  const userSeq = await store.beginTurn({
    userId,
    conversationId,
    turnId,
    title: 'A story',
    userMessage: { id: newMessageId(), content: 'Tell me a story', tokens: 4 },
    nowIso: startedAt,
    leaseUntilMs: times.leaseUntilMs,
    hold: {
      reservation,
      model: TURN_MODEL,
      maxTokens: 1000,
      requestId: `req-${turnId}`,
      receivedAt: startedAt,
    },
  });
  await store.saveAnswerPiece({
    userId,
    conversationId,
    turnId,
    answerSeq: userSeq + 1,
    offset: 0,
    text: SHOWN_TEXT,
    usage: STARTED_USAGE,
    nowMs: times.startedAtMs,
  });
  return { conversationId, turnId, userSeq, reservation, text: SHOWN_TEXT };
}
