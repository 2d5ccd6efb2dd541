import type { Role, StopReason } from '../domain/conversation.js';
import type { TokenUsage } from '../domain/usage.js';

export interface PromptBlock {
  text: string;
  /** A prompt-cache breakpoint after this block. */
  cache?: boolean;
}

export interface PromptMessage {
  role: Role;
  blocks: PromptBlock[];
}

export interface ModelRequest {
  model: string;
  system: PromptBlock[];
  messages: PromptMessage[];
  maxTokens: number;
  signal?: AbortSignal;
  /** Longest wait for response headers per attempt, and attempts after the first. */
  timeoutMs?: number;
  maxRetries?: number;
}

export type ModelStreamEvent =
  | { type: 'text'; text: string }
  /**
   * Claude thinks (a thinking block began, or went on): nothing to show, and under the newest
   * models' default display not even its text, yet billed as output. The API only pings
   * meanwhile, which the SDK does not pass on: silence then is no stall.
   */
  | { type: 'thinking' }
  /** Claude's thinking ended: what follows is shown, and silence is a stall again. */
  | { type: 'thought' }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'stop'; stopReason: StopReason };

/** An answer being streamed; iterate it for text, usage updates and the stop reason. */
export interface ModelStream extends AsyncIterable<ModelStreamEvent> {
  readonly model: string;
  /** Usage Claude reported at message_start: input and cache tokens. */
  readonly initialUsage: TokenUsage;
}

export interface ModelAnswer {
  model: string;
  text: string;
  stopReason: StopReason;
  usage: TokenUsage;
}

/** The model provider, in our words. Failures are thrown as ModelError. */
export interface Model {
  /** Resolves once the answer has started (message_start), so failures before it can still be retried or answered as HTTP errors. */
  openStream(request: ModelRequest): Promise<ModelStream>;
  complete(request: ModelRequest): Promise<ModelAnswer>;
}
