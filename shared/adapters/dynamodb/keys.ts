/**
 * Every key the store builds. User-owned keys start with the user id, so a query
 * can only ever reach the caller's own items. See docs/data-model.md.
 */
const SEQ_DIGITS = 10;
const MESSAGE_SORT_KEY = new RegExp(`^MSG#\\d{${SEQ_DIGITS}}$`);

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
  /** The sequence number a message's sort key holds, or undefined for any other key. */
  seqOfMessageKey: (sk: string) =>
    MESSAGE_SORT_KEY.test(sk) ? Number(sk.slice('MSG#'.length)) : undefined,
  conversationPartition: (userId: string, conversationId: string) =>
    `USER#${userId}#CONV#${conversationId}`,
  /** The saved pieces of an answer that is streaming (or whose function died). */
  answerPiece: (userId: string, conversationId: string, answerSeq: number, offset: number) => ({
    pk: `USER#${userId}#CONV#${conversationId}`,
    sk: `PART#${String(answerSeq).padStart(SEQ_DIGITS, '0')}#${String(offset).padStart(SEQ_DIGITS, '0')}`,
  }),
  /** A stop of a question kept before the turn answering it was recorded (useChat's id of it). */
  pendingStop: (userId: string, conversationId: string, clientQuestionId: string) => ({
    pk: `USER#${userId}#CONV#${conversationId}`,
    sk: `STOP#${clientQuestionId}`,
  }),
  isPendingStop: (sk: unknown) => typeof sk === 'string' && sk.startsWith('STOP#'),
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
  /**
   * The index of open reservations, spread over partitions by id and sorted by expiry, so
   * expired ones are a query per partition away.
   */
  reservationPartition: (partition: number) => `RESV#${String(partition).padStart(2, '0')}`,
  reservation: (partition: number, expiresAtMs: number, id: string) => ({
    pk: `RESV#${String(partition).padStart(2, '0')}`,
    sk: `${String(expiresAtMs).padStart(15, '0')}#${id}`,
  }),
  /** Who took a reservation's hold from its caller (a recovery, a reclaim), written first. */
  settlement: (reservationId: string) => ({ pk: `SETTLEMENT#${reservationId}`, sk: 'SETTLEMENT' }),
  /**
   * Beside the settlement record, one item per mark: `took#<item>` (its party took the
   * hold on that month item) or `spent#<item>` (a late spend on it was made). Items of
   * their own, so that the transactions setting them on several month items at once
   * never meet on one item.
   */
  settlementMark: (reservationId: string, mark: string) => ({
    pk: `SETTLEMENT#${reservationId}`,
    sk: mark,
  }),
  /** On each month item a reservation holds money on, the hold itself: released once. */
  holdAttribute: (reservationId: string) => `hold_${reservationId}`,
  /** The reservation a month item's attribute holds money for, if it is a hold. */
  holdReservation: (attribute: string) =>
    attribute.startsWith('hold_') ? attribute.slice('hold_'.length) : undefined,
  reservationExpiry: (expiresAtMs: number) => String(expiresAtMs).padStart(15, '0'),
  rateWindow: (userId: string, windowStartMs: number) => ({
    pk: `USER#${userId}`,
    sk: `RATE#${windowStartMs}`,
  }),
} as const;

export const jobKeys = {
  job: (userId: string, jobId: string) => ({ pk: `USER#${userId}#JOB#${jobId}`, sk: 'JOB' }),
  /** A model call's result kept for a retry, in the job's partition. */
  checkpoint: (userId: string, jobId: string, key: string) => ({
    pk: `USER#${userId}#JOB#${jobId}`,
    sk: `CKPT#${key}`,
  }),
  checkpointPrefix: 'CKPT#',
  jobPartition: (userId: string, jobId: string) => `USER#${userId}#JOB#${jobId}`,
  /** gsi1: a user's jobs, newest first. */
  jobsByUser: (userId: string) => `USER#${userId}#JOBS`,
  jobCreated: (createdAt: string, jobId: string) => `${createdAt}#${jobId}`,
} as const;

/** Budget notices already sent: one item per scope, month and threshold. */
export const budgetNoticeKeys = {
  principal: (userId: string, month: string, percent: number) => ({
    pk: `USER#${userId}`,
    sk: `BUDGETNOTICE#${month}#${String(percent).padStart(3, '0')}`,
  }),
  apiKey: (keyId: string, month: string, percent: number) => ({
    pk: `APIKEY#${keyId}`,
    sk: `BUDGETNOTICE#${month}#${String(percent).padStart(3, '0')}`,
  }),
  deployment: (month: string, percent: number) => ({
    pk: `GLOBAL#BUDGETNOTICE#${month}`,
    sk: String(percent).padStart(3, '0'),
  }),
} as const;

/** Project API keys: one item by id, one by the hash of the secret. See docs/data-model.md. */
export const apiKeyKeys = {
  byId: (id: string) => ({ pk: `APIKEY#${id}`, sk: 'APIKEY' }),
  byHash: (secretHash: string) => ({ pk: `APIKEYHASH#${secretHash}`, sk: 'APIKEYHASH' }),
  /** The record of a key created with an Idempotency-Key, by the request's digest. */
  issuance: (requestId: string) => ({ pk: `APIKEYREQ#${requestId}`, sk: 'APIKEYREQ' }),
  /** gsi1: every key, newest first. */
  listPartition: 'APIKEYS',
  listSort: (createdAt: string, id: string) => `${createdAt}#${id}`,
  /** A key's own monthly usage and budget hold, as a user month has. */
  month: (id: string, month: string) => ({ pk: `APIKEY#${id}`, sk: `USAGE#${month}` }),
  rateWindow: (id: string, windowStartMs: number) => ({
    pk: `APIKEY#${id}`,
    sk: `RATE#${windowStartMs}`,
  }),
} as const;

/** Usage records and the monthly report totals. See docs/data-model.md. */
export const usageRecordKeys = {
  /** One item per request, in its principal's partition for the month. */
  record: (principal: string, month: string, at: string, requestId: string) => ({
    pk: `USER#${principal}#REQS#${month}`,
    sk: `${at}#${requestId}`,
  }),
  /** Report totals are spread over shards so no month partition gets hot. */
  totals: (
    month: string,
    shard: number,
    dimension: 'principal' | 'key' | 'model',
    name: string,
  ) => ({
    pk: `REPORT#${month}#${String(shard).padStart(2, '0')}`,
    sk: `${dimension}#${name}`,
  }),
  totalsPartition: (month: string, shard: number) =>
    `REPORT#${month}#${String(shard).padStart(2, '0')}`,
} as const;

/** Response cache entries: a head item, and the answer in one or more parts. */
export const responseCacheKeys = {
  head: (key: string) => ({ pk: `RCACHE#${key}`, sk: 'HEAD' }),
  part: (key: string, index: number) => ({
    pk: `RCACHE#${key}`,
    sk: `PART#${String(index).padStart(4, '0')}`,
  }),
  partition: (key: string) => `RCACHE#${key}`,
  partPrefix: 'PART#',
} as const;
