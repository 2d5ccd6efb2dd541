import type { ApiKeyGrant } from '../../../shared/domain/api-key.js';
import type { StopReason } from '../../../shared/domain/conversation.js';
import type { ContextOverflow, ModelError } from '../../../shared/domain/errors.js';
import type { CountedSpend } from '../../../shared/domain/settlement.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import type { ModelStream } from '../../../shared/ports/model.js';
import type { Regenerated } from '../../../shared/turns/given-back.js';
import type { Admitted } from '../../../shared/usage/admission.js';
import type { CacheDirective } from '../messages/messages-types.js';
import type { TurnCacheLookup } from './turn-cache.js';
import type { TurnController } from './turn-controller.js';

/** One question to answer, as the caller asked it (validated). */
export interface TurnRequest {
  userId: string;
  message: string;
  /** Continue this conversation; a new one is started without it. */
  conversationId?: string;
  /** The id a new conversation takes (a client's chat id, mapped); a fresh one without it. */
  newConversationId?: string;
  /**
   * Answers the conversation's last question again (`message` is not used): the last
   * answer is kept, superseded by the new one.
   */
  regenerate?: boolean;
  /**
   * With `regenerate`, an earlier answer to give again, or the question to answer again,
   * by id: it and everything after it are superseded (useChat's `regenerate({ messageId })`).
   */
  regenerates?: string;
  /** Replaces this earlier question (and everything after it, kept as superseded) with `message`. */
  replaces?: string;
  /** The question's id in the client that sent it (useChat's), stored with it. */
  clientMessageId?: string;
  /**
   * The client's id of the question the turn answers, asked or answered again (useChat's): a
   * stop names the turn by it before the answer has started (`POST /v1/ui/chat/{id}/stop`).
   */
  clientQuestionId?: string;
  model?: string;
  system?: string;
  maxTokens?: number;
  /** How the response cache is to treat the turn (`cache-control`). */
  cache?: CacheDirective;
  /** The API key the turn came with: its budget and rates apply too. */
  apiKey?: ApiKeyGrant;
}

/** The turn's bounds, from the settings, built once at the composition root. */
export interface TurnLimits {
  defaultModel: string;
  /** Every model a request may name. */
  models: ReadonlySet<string>;
  fallbackModel?: string;
  maxOutputTokens: number;
  contextWindowTokens: number;
  modelTimeoutMs: number;
  modelMaxRetries: number;
  /** The answer must start this long after the request arrived, retries included. */
  firstByteTimeoutMs: number;
  streamIdleTimeoutMs: number;
  /** The turn ends this long before the function would be killed. */
  deadlineMarginMs: number;
  /** How often a streaming turn checks for a stop request. */
  stopPollIntervalMs: number;
  /**
   * How long a turn holds its conversation unless it renews the hold (a heartbeat every
   * quarter of it): a turn whose function died frees the conversation this long after.
   */
  turnLeaseMs: number;
  /** How often the streamed answer is saved, so it outlives a function that dies. */
  answerPieceIntervalMs: number;
}

/**
 * What a turn tells the world as it goes: each wire protocol (our SSE, and later
 * others) is an encoder of these events.
 */
export type TurnEvent =
  | { type: 'start'; conversationId: string; messageId: string; model: string }
  | { type: 'text'; text: string }
  | {
      type: 'done';
      messageId: string;
      stopReason: StopReason;
      usage: TokenUsage;
      /** The usage is our estimate: the answer was cut before Claude counted it. */
      usageEstimated?: true;
      costNanoUsd: number;
    }
  | {
      type: 'error';
      error: ModelError;
      /** The answer that failed after it began, as stored and billed: its id, tokens and cost. */
      billed?: {
        messageId: string;
        usage: TokenUsage;
        usageEstimated?: true;
        costNanoUsd: number;
      };
      /**
       * Not the answer's end: this stream lost it (a follower that could not read it on),
       * and it goes on; resuming after this event's position follows it again.
       */
      answerGoesOn?: true;
    };

/** How a turn ended, for metrics and the log line an operator reads. */
export interface TurnSummary {
  conversationId: string;
  messageId: string;
  model: string;
  /** The model name the upstream answered with, when it differs from `model`. */
  upstreamModel?: string;
  stopReason: StopReason;
  usage: TokenUsage;
  usageEstimated: boolean;
  costNanoUsd: number;
  /** What of it the spend metrics count: the settle's `counted` (see `SettleOutcome`). */
  counted: CountedSpend;
  failure?: ModelError;
  latencyMs: number;
}

/**
 * What a turn reports for operators (metrics and logs), in the turn's own words.
 * The composition root maps these to Powertools metrics and log lines.
 */
export interface TurnObserver {
  /** Rejected before the model call: budget or rate limit. */
  rejected(error: Error): void;
  started(): void;
  /** The model could not start answering (after the SDK's retries and the fallback model). */
  failedToStart(error: unknown): void;
  /**
   * The model refused the prompt as too long for it (our estimate undercounted its history):
   * it is asked again without the oldest messages.
   */
  promptShortened(details: { messagesLeftOut: number } & ContextOverflow): void;
  firstToken(latencyMs: number): void;
  answerNotStored(error: unknown): void;
  settlementFailed(details: {
    error: unknown;
    reservationId: string;
    costNanoUsd: number;
    usage: TokenUsage;
  }): void;
  rateWindowNotCorrected(error: unknown): void;
  /** The answer cost more than the worst case reserved for it. */
  budgetOverrun(details: { overrunNanoUsd: number; reservationId: string }): void;
  compactionNotRequested(error: unknown): void;
  usageNotRecorded(error: unknown): void;
  /** A piece of the streaming answer could not be saved (the next one will be tried). */
  pieceNotSaved(error: unknown): void;
  /** Awaited before the response ends, so what it records is published with it. */
  ended(summary: TurnSummary): Promise<void>;
}

/** Per request: who observes, and how long the function still has. */
export interface TurnContext {
  /** Names the turn's usage record. */
  requestId: string;
  observer: TurnObserver;
  remainingTimeMs: () => number;
  /**
   * When the request reached the function URL (the turn's clock reads later after a cold
   * start): a stop of its question kept before the turn was recorded applies by it.
   */
  arrivedAtMs?: number;
}

/** A turn whose question is stored and whose answer has begun streaming upstream. */
export interface StartedTurn {
  userId: string;
  conversationId: string;
  /** The answer's id; also the turn's id. */
  messageId: string;
  userSeq: number;
  /** When its conversation was created: a conversation made again under its id is not its. */
  conversationCreatedAt: string;
  /** The model asked for (the fallback, if it was used): the answer is priced as it. */
  model: string;
  stream: ModelStream;
  controller: TurnController;
  admitted: Admitted;
  receivedAtMs: number;
  /** Estimated tokens of the conversation not yet compacted, this turn's question included. */
  uncompactedTokens: number;
  /** The last message the conversation's summary covers (0: no summary yet). */
  summaryThroughSeq: number;
  /** Messages replaced by a regenerate or an edit (`[from, to]` seqs), this turn's included. */
  superseded: ReadonlyArray<readonly [number, number]>;
  /**
   * A regenerate's: the messages replaced before it, which its answer gives back should it show
   * nothing (failed or stopped before its first token).
   */
  regenerated?: Regenerated;
  /**
   * Whether the conversation is surely still this turn's: the lease its heartbeats last renewed
   * has not run out. Once it has (the function stalled past it), a recovery may have stored the
   * answer as it was: nothing more may be shown.
   */
  holdsConversation: () => boolean;
  /** The answer's max_tokens: Claude bills no more, so neither does an estimate. */
  maxTokens: number;
  observer: TurnObserver;
  requestId: string;
  apiKeyId?: string;
  /** Whether the answer is replayed from the response cache (free), or to be kept in it. */
  cache: TurnCacheLookup;
}
