import type { Conversation, Page, StopReason, StoredMessage } from '../domain/conversation.js';
import type { TokenUsage } from '../domain/usage.js';

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface BeginTurn {
  userId: string;
  conversationId: string;
  /** The conversation as read before the turn; undefined starts a new one. */
  existing?: Conversation;
  turnId: string;
  title: string;
  userMessage: { id: string; content: string; tokens: number };
  nowIso: string;
  /** Until when the turn holds the conversation; a crashed turn frees it then. */
  leaseUntilMs: number;
}

export interface FinishTurn {
  userId: string;
  conversationId: string;
  turnId: string;
  /** Sequence number the turn took at begin: user message at seq, answer at seq + 1. */
  userSeq: number;
  answer: {
    id: string;
    content: string;
    /** The model asked for, and priced. */
    model: string;
    /** The model name the upstream answered with, when it differs (a proxy, a dated alias). */
    upstreamModel?: string;
    stopReason: StopReason;
    usage: TokenUsage;
    usageEstimated: boolean;
    costNanoUsd: number;
    tokens: number;
  };
  nowIso: string;
}

/** Conversation history, kept per user: every method is scoped by `userId`. */
export interface ConversationStore {
  getConversation(userId: string, conversationId: string): Promise<Conversation | undefined>;
  listConversations(userId: string, page: PageRequest): Promise<Page<Conversation>>;
  /** Messages in order, oldest first. */
  listMessages(
    userId: string,
    conversationId: string,
    page: PageRequest,
  ): Promise<Page<StoredMessage>>;
  /** The newest messages after `afterSeq`, oldest first, up to `maxTokens` (estimated). */
  recentMessages(
    userId: string,
    conversationId: string,
    options: { afterSeq: number; maxTokens: number },
  ): Promise<StoredMessage[]>;
  /**
   * Stores the user's message and takes the conversation for one turn, atomically.
   * @throws ConflictError when another turn holds it or it moved since it was read.
   * @returns the user message's sequence number
   */
  beginTurn(turn: BeginTurn): Promise<number>;
  /** Stores the answer and frees the conversation. */
  finishTurn(turn: FinishTurn): Promise<void>;
  /**
   * Asks the turn streaming in the conversation to stop.
   * @returns false when no turn is streaming
   */
  requestStop(userId: string, conversationId: string, nowMs: number): Promise<boolean>;
  isStopRequested(userId: string, conversationId: string, turnId: string): Promise<boolean>;
  /** @returns false when there was no such conversation */
  deleteConversation(userId: string, conversationId: string): Promise<boolean>;
  saveSummary(
    userId: string,
    conversationId: string,
    summary: { text: string; throughSeq: number; tokensCompacted: number },
  ): Promise<void>;
}
