import type { Reservation } from '../domain/budget.js';
import type {
  AnswerFailure,
  Conversation,
  Page,
  StopReason,
  StoredMessage,
  TurnHold,
} from '../domain/conversation.js';
import type { TokenUsage } from '../domain/usage.js';

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** The newest messages a conversation's summary does not hold, as many as fit: a turn's history. */
export interface HistoryWindow {
  /** Only the messages after this sequence number (those the summary holds are not). */
  afterSeq: number;
  /** Estimated tokens: the window ends at the first message that does not fit, however small an older one. */
  maxTokens: number;
  /** Ranges of sequence numbers a regenerate or an edit replaced: neither read nor counted. */
  skip?: ReadonlyArray<readonly [number, number]>;
  /**
   * Only the messages up to this sequence number: a turn reads its history while its own
   * question is stored, which must neither be read nor take a place in the window.
   */
  throughSeq?: number;
}

/**
 * A page of a conversation's messages from its newest back (`nextCursor` reads the ones
 * before them, on to the first): at most `limit` of them and `maxTokens` (estimated), the
 * newest always (or the answer streaming), so that a page is never empty while messages are left.
 */
export interface MessagesPage extends PageRequest {
  maxTokens: number;
  skip?: ReadonlyArray<readonly [number, number]>;
  /**
   * The answer streaming at `seq` (a first page only: no `cursor`), which the caller shows
   * as the page's newest message, with `tokens` of text so far: it counts in `limit` and
   * `maxTokens` as one of the page's messages, unless the store has a message at `seq` (the
   * answer ended meanwhile), which takes its place. Nothing newer than `seq` is read.
   */
  streaming?: { seq: number; tokens: number };
}

/** A piece of an answer, saved as it streams so that it outlives its function. */
export interface AnswerPiece {
  userId: string;
  conversationId: string;
  /** The turn streaming it: a turn that cannot store its answer removes its own pieces. */
  turnId: string;
  answerSeq: number;
  /** Where the piece starts in the answer, in UTF-16 code units. */
  offset: number;
  text: string;
  /** The usage Claude reported when the answer started (input and cache tokens). */
  usage?: TokenUsage;
  nowMs: number;
}

/** The answer streamed so far, from its saved pieces. */
export interface PartialAnswer {
  text: string;
  usage?: TokenUsage;
}

export interface BeginTurn {
  userId: string;
  conversationId: string;
  /** The conversation as read before the turn; undefined starts a new one. */
  existing?: Conversation;
  turnId: string;
  /** A new conversation's title; an existing one's only with `retitle`. */
  title: string;
  /** An edit of the conversation's first question: the title follows the new text. */
  retitle?: boolean;
  /** The question, stored at the next slot; absent when the turn answers the last one again (regenerate). */
  userMessage?: { id: string; content: string; tokens: number; clientMessageId?: string };
  /**
   * The client's id of the question the turn answers (useChat's, asked or answered again):
   * a stop can name the turn by it before the answer has an id (see `requestStopOfQuestion`).
   */
  clientQuestionId?: string;
  /** Marks the messages from this sequence number to the last as superseded (regenerate, edit). */
  supersedeFrom?: number;
  nowIso: string;
  /** Until when the turn holds the conversation, unless it renews the lease. */
  leaseUntilMs: number;
  hold?: TurnHold;
  /**
   * The response cache entry a new conversation's first answer is kept under (or was
   * replayed from): it goes when the conversation is deleted.
   */
  responseCacheKey?: string;
}

export interface FinishTurn {
  userId: string;
  conversationId: string;
  turnId: string;
  /** Sequence number the turn took at begin: user message at seq, answer at seq + 1. */
  userSeq: number;
  /**
   * When the conversation the turn began in was created: one made again under the same id
   * after a delete (a `useChat` id) is another conversation, and gets none of this turn.
   */
  conversationCreatedAt: string;
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
    /** How it failed (`stopReason: error`), as the stream told it: kept for whoever reads it again. */
    failure?: AnswerFailure;
  };
  /**
   * The budget reservation the answer is billed from (none for a free one). Its settle
   * comes after the answer is stored; with the answer, in the same write, the store makes
   * the answer's cost and usage what the ledger settles the reservation to should that
   * settle never come (its function killed, its writes failed): the sweep settles it to
   * them once it expires, instead of giving the hold back. Never one without the other: an
   * answer stored is billed, and billed once however the settles race.
   */
  reservation?: Reservation;
  /**
   * The conversation's replaced messages as the turn ends, when it changes them: a regenerate
   * whose answer showed nothing gives back the answers it was to replace, its own replaced
   * instead. Set only while the turn holds the conversation.
   */
  superseded?: ReadonlyArray<readonly [number, number]>;
  nowIso: string;
}

/** Conversation history, kept per user: every method is scoped by `userId`. */
export interface ConversationStore {
  getConversation(userId: string, conversationId: string): Promise<Conversation | undefined>;
  /**
   * When the conversation was made (a conversation deleted and made again under its id has
   * another), or undefined when there is none: all that a watcher looking every second for
   * its delete reads.
   */
  conversationCreatedAt(userId: string, conversationId: string): Promise<string | undefined>;
  listConversations(userId: string, page: PageRequest): Promise<Page<Conversation>>;
  /**
   * Messages in order, oldest first, those in `skip` left out: each page but the last holds
   * `limit` of them, however many skipped ones lie between.
   */
  listMessages(
    userId: string,
    conversationId: string,
    page: PageRequest & { skip?: ReadonlyArray<readonly [number, number]> },
  ): Promise<Page<StoredMessage>>;
  /** The message at `seq`, if there is one. */
  message(userId: string, conversationId: string, seq: number): Promise<StoredMessage | undefined>;
  /**
   * The newest messages, oldest first, those in `skip` left out: a turn's history (a
   * {@link HistoryWindow}) or a page of a chat reopened at its end (a {@link MessagesPage}).
   * Only a page has a `nextCursor`.
   */
  recentMessages(
    userId: string,
    conversationId: string,
    read: HistoryWindow | MessagesPage,
  ): Promise<Page<StoredMessage>>;
  /**
   * The newest message from `fromSeq` on with this id, or that its client knows by it (a
   * question's `clientMessageId`: useChat names a question it has not reloaded by its own id, and
   * keeps that id through an edit). Only those messages are read (an id it does not have costs
   * reads of them, not of the whole history).
   */
  findMessage(
    userId: string,
    conversationId: string,
    messageId: string,
    fromSeq?: number,
  ): Promise<StoredMessage | undefined>;
  /**
   * Stores the user's message and takes the conversation for one turn, atomically.
   * @throws ConflictError when another turn holds it or it moved since it was read.
   * @returns the user message's sequence number
   */
  beginTurn(turn: BeginTurn): Promise<number>;
  /**
   * Undoes `beginTurn` for a turn refused before its model call (budget, rate limit),
   * while the turn still holds the conversation: a conversation it started is deleted;
   * in an existing one its question is removed and the conversation is as it was.
   * @returns false when the turn no longer holds the conversation (nothing is undone)
   */
  abandonTurn(turn: BeginTurn): Promise<boolean>;
  /** Stores the answer and frees the conversation. */
  finishTurn(turn: FinishTurn): Promise<void>;
  /**
   * Extends the turn's hold on the conversation (its heartbeat); with `hold`, also
   * replaces the budget hold recorded for it.
   * @returns false when the turn no longer holds it: taken over, finished, or deleted
   */
  renewLease(
    userId: string,
    conversationId: string,
    turnId: string,
    leaseUntilMs: number,
    hold?: TurnHold,
  ): Promise<boolean>;
  saveAnswerPiece(piece: AnswerPiece): Promise<void>;
  partialAnswer(userId: string, conversationId: string, answerSeq: number): Promise<PartialAnswer>;
  /**
   * The saved pieces of an answer that start at `fromOffset` or later, in order: a follower
   * that read up to a piece reads on from it (saved again when its save failed), not the
   * whole answer at each poll.
   */
  answerPieces(
    userId: string,
    conversationId: string,
    answerSeq: number,
    fromOffset: number,
  ): Promise<Array<{ offset: number; text: string }>>;
  /**
   * Ends a turn whose function is gone: stores its answer and frees the conversation,
   * only if that turn still holds it.
   * @returns false when it does not (it finished meanwhile, or someone else ended it)
   */
  interruptTurn(turn: FinishTurn): Promise<boolean>;
  /**
   * Asks the turn streaming in the conversation to stop: any turn, or only `turnId`.
   * @returns false when no turn is streaming (or another one is)
   */
  requestStop(
    userId: string,
    conversationId: string,
    nowMs: number,
    turnId?: string,
  ): Promise<boolean>;
  /**
   * Asks the turn answering the question the client names `clientQuestionId` (or, once
   * recorded, the server's id of the question it asked or, for a regenerate, answers again)
   * to stop, from before it is recorded
   * on. `stopping` when it is streaming. Otherwise the stop is kept (ten minutes) for the turn
   * for that question received up to now (being admitted), or, when none has been recorded
   * for it yet, up to {@link PENDING_STOP_AHEAD_MS} from now (the question may still be on
   * its way); that turn stops once it is recorded. `ended` when the conversation's last
   * turn answered it and streams no more: a late stop, which stops no turn received after it
   * (a `regenerate()` of the same question); else `pending`.
   */
  requestStopOfQuestion(
    userId: string,
    conversationId: string,
    clientQuestionId: string,
    nowMs: number,
    /** When the stop reached the function URL (the turns it applies to are told by theirs); `nowMs` when not given. */
    arrivedAtMs?: number,
  ): Promise<'stopping' | 'ended' | 'pending'>;
  /**
   * Whether the turn is to stop: asked to, or its conversation deleted (or deleted and made
   * again under its id: `conversationCreatedAt` tells the two apart). With `pendingStop`,
   * also whether a stop of its question was kept before the turn was recorded (a stop kept
   * for it is then taken, so that it stops no later turn).
   */
  isStopRequested(
    userId: string,
    conversationId: string,
    turnId: string,
    conversationCreatedAt: string,
    pendingStop?: PendingStopCheck,
  ): Promise<boolean>;
  /** @returns false when there was no such conversation */
  deleteConversation(userId: string, conversationId: string): Promise<boolean>;
  /**
   * Saves a compaction's summary, if the conversation is still as the summary read it:
   * the same conversation (not one made again under its id), the same summary, the same
   * messages replaced.
   * @returns `gone` when the conversation was deleted meanwhile, `stale` when it changed
   * @throws PayloadTooLargeError when the conversation's item cannot hold the summary
   */
  saveSummary(
    userId: string,
    conversationId: string,
    summary: { text: string; throughSeq: number; tokensCompacted: number },
    basis: SummaryBasis,
  ): Promise<'saved' | 'stale' | 'gone'>;
}

/** A turn's one look, once recorded, for a stop of its question kept before it was. */
export interface PendingStopCheck {
  clientQuestionId: string;
  /** When the turn's request reached the function URL: a stop kept applies to the turns received up to a time. */
  receivedAtMs: number;
}

/**
 * How long after a stop of a question no turn has been recorded for the turn for it may be
 * received and still stop: the question is sent before its Stop, but two requests may reach
 * two instances (and their clocks) in either order.
 */
export const PENDING_STOP_AHEAD_MS = 2_000;

/** How long a stop of a question not yet recorded is kept. */
export const PENDING_STOP_TTL_MS = 10 * 60_000;

/** What a summary was made from: the conversation as the compaction read it. */
export interface SummaryBasis {
  createdAt: string;
  /** The summary it extends (0: none). */
  summaryThroughSeq: number;
  /** The replaced ranges the conversation had (`[from, to]` seqs, as stored). */
  supersededRanges: ReadonlyArray<readonly [number, number]>;
}
