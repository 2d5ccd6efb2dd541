import { estimateOutputTokens, generatableTokens } from '../../../shared/domain/tokens.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import {
  mergeWireUsage,
  usageFromWire,
  type WireUsage,
} from '../../../shared/gateway/wire-usage.js';

/** What the meter learned from an answer: enough to bill it and to decide whether to cache it. */
export interface MeteredAnswer {
  /** The model the upstream answered with. */
  model?: string;
  usage: TokenUsage;
  /**
   * The final output count never came (the stream was cut): output estimated, erring high
   * but never past max_tokens.
   */
  usageEstimated: boolean;
  stopReason?: string;
  /** message_stop arrived and no error did: the answer is whole. */
  complete: boolean;
  error?: { type: string; message: string };
}

/**
 * Reads the usage, stop reason and errors of an answer as it passes, without changing
 * it: from message_start and message_delta events, or from a whole message.
 */
export class AnswerMeter {
  /**
   * @param maxOutputTokens the request's max_tokens: no answer is billed more output
   * @param runningMs how long the call has run (since it was sent, or earlier): an answer cut
   *   once thinking began is billed as much as it can have generated meanwhile
   */
  constructor(
    private readonly maxOutputTokens: number,
    private readonly runningMs: () => number = () => Number.POSITIVE_INFINITY,
  ) {}

  private model: string | undefined;
  private usage: TokenUsage | undefined;
  private finalOutputSeen = false;
  private stopReason: string | undefined;
  private stopped = false;
  private error: { type: string; message: string } | undefined;
  /** Text, thinking and tool input generated so far, for an estimate should the stream break. */
  private generated = '';
  /** Thinking began: it is billed whole but streamed summarized, or not at all. */
  private thinking = false;
  /** Web searches whose results were streamed: each is billed, whatever usage then says. */
  private searchesShown = 0;

  /** Observes one streamed event (its name and parsed data). */
  observe(name: string, data: unknown): void {
    const event = (data ?? {}) as Record<string, unknown>;
    switch (name) {
      case 'message_start': {
        const message = (event.message ?? {}) as { model?: unknown; usage?: WireUsage };
        if (typeof message.model === 'string') this.model = message.model;
        this.usage = usageFromWire(message.usage);
        break;
      }
      case 'content_block_start': {
        const block = (event.content_block ?? {}) as { type?: unknown; content?: unknown };
        if (block.type === 'thinking' || block.type === 'redacted_thinking') this.thinking = true;
        // A failed search (its content an error, not results) is not billed.
        if (block.type === 'web_search_tool_result' && Array.isArray(block.content)) {
          this.searchesShown++;
        }
        break;
      }
      case 'content_block_delta': {
        const delta = (event.delta ?? {}) as Record<string, unknown>;
        for (const field of ['text', 'thinking', 'partial_json']) {
          if (typeof delta[field] === 'string') this.generated += delta[field];
        }
        break;
      }
      case 'message_delta': {
        const usage = event.usage as WireUsage | undefined;
        this.usage = mergeWireUsage(this.usage ?? usageFromWire(undefined), usage);
        if (typeof usage?.output_tokens === 'number') this.finalOutputSeen = true;
        const stop = (event.delta as { stop_reason?: unknown } | undefined)?.stop_reason;
        if (typeof stop === 'string') this.stopReason = stop;
        break;
      }
      case 'message_stop':
        this.stopped = true;
        break;
      case 'error':
        this.error = errorOf(event);
        break;
    }
  }

  /**
   * Observes an event whose data is not JSON: relayed as it came, the caller's SDK fails on it,
   * so the answer is not whole (never cached), however it ends.
   */
  observeUnreadable(): void {
    this.error ??= { type: 'api_error', message: 'an event of the answer was not JSON' };
  }

  /** Observes a whole (non-streamed) message. */
  observeMessage(data: unknown): void {
    const message = (data ?? {}) as Record<string, unknown>;
    if (typeof message.model === 'string') this.model = message.model;
    this.usage = usageFromWire(message.usage as WireUsage);
    this.finalOutputSeen = true;
    if (typeof message.stop_reason === 'string') this.stopReason = message.stop_reason;
    this.stopped = message.type === 'message';
  }

  /**
   * A cut stream's output: what was shown or, once thinking began, as much as the call can have
   * generated in the time it ran; never past max_tokens.
   */
  private estimatedOutputTokens(usage: TokenUsage): number {
    const shown = Math.max(usage.outputTokens, estimateOutputTokens(this.generated));
    const generatable = this.thinking ? generatableTokens(this.runningMs()) : 0;
    return Math.min(Math.max(shown, generatable), this.maxOutputTokens);
  }

  /** A cut stream's usage: its output estimated, and every search it showed counted. */
  private estimatedUsage(usage: TokenUsage): TokenUsage {
    const webSearchRequests = Math.max(usage.webSearchRequests ?? 0, this.searchesShown);
    return {
      ...usage,
      outputTokens: this.estimatedOutputTokens(usage),
      ...(webSearchRequests > 0 && { webSearchRequests }),
    };
  }

  result(): MeteredAnswer {
    const usage = this.usage ?? usageFromWire(undefined);
    const estimated = !this.finalOutputSeen;
    return {
      ...(this.model && { model: this.model }),
      usage: estimated ? this.estimatedUsage(usage) : usage,
      usageEstimated: estimated,
      ...(this.stopReason && { stopReason: this.stopReason }),
      complete: this.stopped && !this.error,
      ...(this.error && { error: this.error }),
    };
  }
}

function errorOf(event: Record<string, unknown>) {
  const error = (event.error ?? {}) as { type?: unknown; message?: unknown };
  return {
    type: typeof error.type === 'string' ? error.type : 'api_error',
    message: typeof error.message === 'string' ? error.message : '',
  };
}
