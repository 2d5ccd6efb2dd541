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
  /** gsi1: a user's conversations by last activity. */
  conversationsByUser: (userId: string) => `USER#${userId}#CONVS`,
  conversationActivity: (updatedAt: string, conversationId: string) =>
    `${updatedAt}#${conversationId}`,
} as const;
