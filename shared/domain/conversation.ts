import type { Reservation } from './budget.js';
import type { ModelErrorKind } from './errors.js';
import type { TokenUsage } from './usage.js';

/**
 * What a turn holds while it runs, kept with the conversation: should its function die,
 * whoever finds the turn dead settles its reservation with what it had streamed.
 */
export interface TurnHold {
  reservation: Reservation;
  /** The model asked for: the answer is priced as it. */
  model: string;
  /** The answer's max_tokens: a recovery's estimate of what it generated bills no more. */
  maxTokens?: number;
  /**
   * The request the turn answers, and when it arrived: a recovery reports the call's usage
   * under them, so a turn that only stalled and then finished is counted once.
   */
  requestId?: string;
  receivedAt?: string;
}

export type Role = 'user' | 'assistant';

/** Why an answer ended: the model's own reasons, and ours. */
export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'refusal'
  | 'pause_turn'
  /** The conversation filled the model's context window before the answer ended. */
  | 'model_context_window_exceeded'
  | 'stopped'
  | 'timeout'
  /** The turn's function died mid-answer: what it had streamed was kept by someone else. */
  | 'interrupted'
  | 'error';

/**
 * How a failed answer failed, as its stream told it: the ModelError's kind (its error type and
 * whether to retry follow from it, as they did live) and the message the stream showed.
 */
export interface AnswerFailure {
  kind: ModelErrorKind;
  message: string;
}

export interface StoredMessage {
  id: string;
  seq: number;
  role: Role;
  content: string;
  createdAt: string;
  model?: string;
  /** The model name the upstream answered with, when it differs from `model`. */
  upstreamModel?: string;
  stopReason?: StopReason;
  usage?: TokenUsage;
  costNanoUsd?: number;
  /** The usage is an estimate: the stream broke before Claude reported its final count. */
  usageEstimated?: boolean;
  /** A question's id in the client that sent it (useChat's), when it gave one. */
  clientMessageId?: string;
  /** Why a failed answer (`stopReason: error`) failed; answers stored before it was kept lack it. */
  failure?: AnswerFailure;
}

export interface Conversation {
  id: string;
  userId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  /** Sequence number of the newest message slot taken; the next turn expects it. */
  lastSeq: number;
  messageCount: number;
  activeTurn?: {
    turnId: string;
    leaseUntilMs: number;
    hold?: TurnHold;
    /** Asked to stop: it ends at its next look for a stop. */
    stopping?: boolean;
  };
  /** Compacted history: a summary of every message up to `throughSeq`. */
  summary?: { text: string; throughSeq: number };
  /** Estimated tokens of the messages not yet compacted. */
  uncompactedTokens: number;
  /**
   * Messages replaced by a regenerated answer or an edited question: inclusive ranges of
   * sequence numbers. They are kept, and left out of prompts and of the default listing.
   */
  superseded?: ReadonlyArray<readonly [number, number]>;
}

/** The newest messages a compaction keeps verbatim; only older ones are folded into the summary. */
export const COMPACTION_KEEPS_RECENT_MESSAGES = 4;

/**
 * The most replaced ranges (regenerates and edits) a conversation keeps. They live in its
 * one DynamoDB item, ~20 bytes each: past ~25,000 the item's 400 KB is full and every turn
 * of the conversation, a plain question too, is refused by DynamoDB. 2,000 leave room for
 * the largest summary a compaction stores (functions/worker/answer-size.ts).
 */
export const MAX_SUPERSEDED_RANGES = 2_000;

/** Whether message `seq` was replaced by a regenerated answer or an edited question. */
export function isSuperseded(
  seq: number,
  ranges: ReadonlyArray<readonly [number, number]> | undefined,
): boolean {
  return (ranges ?? []).some(([from, to]) => seq >= from && seq <= to);
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
