/**
 * Every key the store builds. User-owned keys start with the user id, so a query
 * can only ever reach the caller's own items. See docs/data-model.md.
 */
const SEQ_DIGITS = 10;

export const keys = {
  conversation: (userId: string, conversationId: string) => ({
    pk: `USER#${userId}#CONV#${conversationId}`,
    sk: 'META',
  }),
  message: (userId: string, conversationId: string, seq: number) => ({
    pk: `USER#${userId}#CONV#${conversationId}`,
    sk: `MSG#${String(seq).padStart(SEQ_DIGITS, '0')}`,
  }),
  messagePrefix: 'MSG#',
  messageSeqKey: (seq: number) => `MSG#${String(seq).padStart(SEQ_DIGITS, '0')}`,
  conversationPartition: (userId: string, conversationId: string) =>
    `USER#${userId}#CONV#${conversationId}`,
  /** The saved pieces of an answer that is streaming (or whose function died). */
  answerPiece: (userId: string, conversationId: string, answerSeq: number, offset: number) => ({
    pk: `USER#${userId}#CONV#${conversationId}`,
    sk: `PART#${String(answerSeq).padStart(SEQ_DIGITS, '0')}#${String(offset).padStart(SEQ_DIGITS, '0')}`,
  }),
  answerPiecePrefix: (answerSeq: number) => `PART#${String(answerSeq).padStart(SEQ_DIGITS, '0')}#`,
  /** gsi1: a user's conversations by last activity. */
  conversationsByUser: (userId: string) => `USER#${userId}#CONVS`,
  conversationActivity: (updatedAt: string, conversationId: string) =>
    `${updatedAt}#${conversationId}`,
} as const;

/** Usage, budgets, reservations and rate windows. See docs/data-model.md. */
export const ledgerKeys = {
  userMonth: (userId: string, month: string) => ({ pk: `USER#${userId}`, sk: `USAGE#${month}` }),
  userBudget: (userId: string) => ({ pk: `USER#${userId}`, sk: 'BUDGET' }),
  globalShard: (month: string, shard: number) => ({
    pk: `GLOBAL#USAGE#${month}#${String(shard).padStart(2, '0')}`,
    sk: 'USAGE',
  }),
  /** Reservations live in one partition per shard, sorted by expiry, so expired ones are one query away. */
  reservationPartition: (shard: number) => `RESV#${String(shard).padStart(2, '0')}`,
  reservation: (shard: number, expiresAtMs: number, id: string) => ({
    pk: `RESV#${String(shard).padStart(2, '0')}`,
    sk: `${String(expiresAtMs).padStart(15, '0')}#${id}`,
  }),
  reservationExpiry: (expiresAtMs: number) => String(expiresAtMs).padStart(15, '0'),
  rateWindow: (userId: string, windowStartMs: number) => ({
    pk: `USER#${userId}`,
    sk: `RATE#${windowStartMs}`,
  }),
} as const;

export const jobKeys = {
  job: (userId: string, jobId: string) => ({ pk: `USER#${userId}#JOB#${jobId}`, sk: 'JOB' }),
} as const;
