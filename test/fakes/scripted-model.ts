import type { StopReason } from '../../shared/domain/conversation.js';
import {
  type ContextOverflow,
  ModelError,
  type ModelErrorKind,
} from '../../shared/domain/errors.js';
import { estimateTokens } from '../../shared/domain/tokens.js';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type {
  Model,
  ModelAnswer,
  ModelRequest,
  ModelStream,
  ModelStreamEvent,
} from '../../shared/ports/model.js';

/** Text chunks, or how many made-up one-word chunks (`word1`, ` word2`, …). */
export type Chunks = readonly string[] | number;

/** What one model call does. One chunk is one output token, as with Claude's text deltas. */
export type ModelScript =
  /** Streams the chunks (cut at `maxTokens`), then the final usage, then the stop reason. */
  | {
      kind: 'answer';
      chunks: Chunks;
      /** Claude thinks first: thinking, then its end, before the chunks. */
      thinks?: boolean;
      /** @default 'end_turn', or 'max_tokens' when the chunks were cut */
      stopReason?: StopReason;
      /** Over the defaults: input tokens estimated from the prompt, one output token per chunk. */
      usage?: Partial<TokenUsage>;
    }
  /** Rejects openStream (or complete) before the stream opens, with the provider's retry-after if given. */
  | {
      kind: 'fail-before';
      error: ModelErrorKind;
      retryAfterSeconds?: number;
      /** The prompt was too long for the model, by its count. */
      contextOverflow?: ContextOverflow;
    }
  /** Streams the chunks, then throws; complete() rejects with the error. */
  | { kind: 'fail-mid'; chunks: Chunks; error: ModelErrorKind }
  /**
   * Streams the chunks, then sends nothing until the request's signal aborts; with `thinks`,
   * Claude thinks first (and, with no chunk, stalls while it thinks).
   */
  | { kind: 'stall'; chunks: Chunks; thinks?: boolean }
  /**
   * Streams the chunks, waits for `until`, then streams `after` one right after another and
   * ends: what a function that stalled mid-answer finds waiting for it as it wakes.
   */
  | { kind: 'paused'; chunks: Chunks; until: Promise<void>; after: readonly string[] };

/**
 * The Model port following a script per call, recording every request. Failures are
 * thrown as the Anthropic adapter throws them: an abort before the answer starts, or
 * during complete(), is kind `timeout`; an abort once the stream is open is kind
 * `connection` (the SDK ends an aborted body quietly, and the adapter reports a stream
 * that ended before message_stop).
 */
export class ScriptedModel implements Model {
  /** Every request received, oldest first. */
  readonly requests: ModelRequest[] = [];
  private readonly queue: ModelScript[] = [];
  private readonly otherwise: ((request: ModelRequest) => ModelScript) | undefined;

  /**
   * @param scripts one per call, in order; or a function that picks the script of
   *   every call that finds no queued one
   */
  constructor(scripts: ModelScript[] | ((request: ModelRequest) => ModelScript) = []) {
    if (typeof scripts === 'function') this.otherwise = scripts;
    else this.queue.push(...scripts);
  }

  /** Adds scripts for the calls after those already queued. */
  enqueue(...scripts: ModelScript[]): this {
    this.queue.push(...scripts);
    return this;
  }

  async openStream(request: ModelRequest): Promise<ModelStream> {
    const script = this.take(request);
    if (script.kind === 'fail-before') throw failedBefore(script);
    const plan = planOf(script, request);
    return {
      model: request.model,
      // Claude reports the first output token or so at message_start; the final count comes last.
      initialUsage: { ...plan.usage, outputTokens: Math.min(1, plan.usage.outputTokens) },
      [Symbol.asyncIterator]: () => events(script, plan, request.signal),
    };
  }

  async complete(request: ModelRequest): Promise<ModelAnswer> {
    const script = this.take(request);
    switch (script.kind) {
      case 'fail-before':
        throw failedBefore(script);
      case 'fail-mid':
        throw modelError(script.error);
      case 'stall':
        await aborted(request.signal);
        throw modelError('timeout', 'the model call was aborted');
    }
    const { chunks, usage, stopReason } = planOf(script, request);
    return { model: request.model, text: chunks.join(''), stopReason, usage };
  }

  private take(request: ModelRequest): ModelScript {
    this.requests.push(request);
    const script = this.queue.shift() ?? this.otherwise?.(request);
    if (!script) {
      throw new Error(`ScriptedModel: no script for call ${this.requests.length}; enqueue one`);
    }
    if (request.signal?.aborted) throw modelError('timeout', 'the model call was aborted');
    return script;
  }
}

async function* events(
  script: Exclude<ModelScript, { kind: 'fail-before' }>,
  plan: ReturnType<typeof planOf>,
  signal: AbortSignal | undefined,
): AsyncGenerator<ModelStreamEvent> {
  // The SDK ends an aborted body without an error; the adapter then reports a broken stream.
  const broken = () => modelError('connection', 'the model stream broke');
  if ((script.kind === 'answer' || script.kind === 'stall') && script.thinks) {
    yield { type: 'thinking' };
    // A stall before any chunk stalls while Claude still thinks.
    if (script.kind === 'answer' || plan.chunks.length > 0) yield { type: 'thought' };
  }
  for (const text of plan.chunks) {
    if (signal?.aborted) throw broken();
    yield { type: 'text', text };
  }
  if (script.kind === 'fail-mid') {
    throw script.error === 'connection' ? broken() : modelError(script.error);
  }
  if (script.kind === 'stall') {
    await aborted(signal);
    throw broken();
  }
  if (script.kind === 'paused') {
    await script.until;
    for (const text of script.after) yield { type: 'text', text };
  }
  if (signal?.aborted) throw broken();
  yield { type: 'usage', usage: plan.usage };
  yield { type: 'stop', stopReason: plan.stopReason };
}

function planOf(script: Exclude<ModelScript, { kind: 'fail-before' }>, request: ModelRequest) {
  const all = typeof script.chunks === 'number' ? words(script.chunks) : script.chunks;
  const chunks = all.slice(0, request.maxTokens);
  const cut = chunks.length < all.length;
  const usage: TokenUsage = {
    inputTokens: promptTokens(request),
    outputTokens: chunks.length,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheCreation1hInputTokens: 0,
    ...(script.kind === 'answer' && script.usage),
  };
  const stopReason: StopReason = cut
    ? 'max_tokens'
    : (script.kind === 'answer' && script.stopReason) || 'end_turn';
  return { chunks, usage, stopReason };
}

const words = (count: number) =>
  Array.from({ length: count }, (_, i) => (i === 0 ? 'word1' : ` word${i + 1}`));

function promptTokens(request: ModelRequest): number {
  const blocks = [...request.system, ...request.messages.flatMap((message) => message.blocks)];
  return blocks.reduce((sum, block) => sum + estimateTokens(block.text), 0);
}

/** Resolves when `signal` aborts; never, without one, like a real stalled connection. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

const MESSAGES: Partial<Record<ModelErrorKind, string>> = {
  overloaded: 'the model is overloaded; try again shortly',
  rate_limited: 'the model provider is rate limiting this deployment; try again shortly',
  invalid_request: 'the model rejected the request',
  authentication: "the model provider rejected this deployment's credentials",
  timeout: 'the model did not answer in time',
  connection: 'could not reach the model',
};

function failedBefore(script: Extract<ModelScript, { kind: 'fail-before' }>): ModelError {
  const { error, retryAfterSeconds, contextOverflow } = script;
  return new ModelError(error, MESSAGES[error] ?? 'the model failed', {
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    ...(contextOverflow && { contextOverflow }),
  });
}

function modelError(kind: ModelErrorKind, message = MESSAGES[kind] ?? 'the model failed') {
  return new ModelError(kind, message);
}
