/** One answer the stack gave a soak client. */
export interface Answered {
  route: string;
  status: number;
  body?: string;
  /** An upstream failure was asked for: a 5xx passed on is the spec's. */
  faulted: boolean;
}

/** An answer's text as a client was shown it, kept with the answer's id. */
export interface Shown {
  userId: string;
  conversationId: string;
  messageId: string;
  text: string;
}

/**
 * What the soak's clients did and saw, for the checks once it is quiesced: every answer's
 * status, every text shown, each user's conversations (and those deleted), the jobs asked
 * for, and what broke on the client's side.
 */
export interface SoakLog {
  answered: Answered[];
  shown: Shown[];
  conversations: Map<string, string[]>;
  deleted: Set<string>;
  jobIds: Array<{ userId: string; jobId: string }>;
  /** Jobs whose cancel was accepted (200). */
  cancelledJobIds: Set<string>;
  /**
   * Jobs whose cancel was accepted while they ran (202): the text their document holds, and
   * the answer's length asked of the local Claude.
   */
  runningCancels: Array<{
    userId: string;
    jobId: string;
    batch: boolean;
    marker: string;
    outputTokens: number;
  }>;
  /** When the zero-budget principal's budget was 0 (its PUT answered). */
  zeroBudgetSince?: number;
  failures: string[];
}

export function createSoakLog(users: readonly string[]): SoakLog {
  return {
    answered: [],
    shown: [],
    conversations: new Map(users.map((u) => [u, []])),
    deleted: new Set(),
    jobIds: [],
    cancelledJobIds: new Set(),
    runningCancels: [],
    failures: [],
  };
}
