import type { StopReason } from '../../../shared/domain/conversation.js';
import type { ErrorType } from '../../../shared/domain/errors.js';
import type { ReportedUsage } from '../../../shared/domain/usage.js';

/*
 * The types a UI message stream client reads (the playground imports them): no runtime
 * code, and nothing that needs Node's types.
 */

/** The AI SDK's finish reasons (`FinishReason` of `ai` 7). */
export type UiFinishReason =
  | 'stop'
  | 'length'
  | 'content-filter'
  | 'tool-calls'
  | 'error'
  | 'interrupted'
  | 'other';

/**
 * The metadata of an assistant message (`message.metadata` in `useChat`): who and what
 * at `start`, usage and cost once the answer has ended.
 */
export interface UiMessageMetadata {
  conversationId?: string;
  model?: string;
  /** Ours: `end_turn`, `max_tokens`, `stopped`, `timeout`, `error`… */
  stopReason?: StopReason;
  usage?: ReportedUsage;
  costUsd?: number;
  /**
   * Why the answer failed mid-stream: its type, whether asking again may succeed, and the
   * message (the `error` chunk that follows has it too, for the chat's `error`). A reopened
   * chat's failed answer has it as the stream told it (answers stored before it was kept, none).
   */
  error?: { type: ErrorType; retryable: boolean; message: string };
}
