import type { StopReason } from '../../../shared/domain/conversation.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import { responseCacheKey } from '../../../shared/gateway/response-cache-key.js';
import type { ModelStream } from '../../../shared/ports/model.js';
import type { ResponseCache } from '../../../shared/ports/response-cache.js';
import type { CacheDirective, CacheOutcome } from '../messages/messages-types.js';

/** Stop reasons of a whole answer: only those are kept. */
const COMPLETE: ReadonlySet<StopReason> = new Set(['end_turn', 'max_tokens', 'stop_sequence']);

export interface TurnCacheLookup {
  outcome: CacheOutcome;
  /** Where the answer is (or will be) kept; undefined when it is not cached. */
  key?: string;
  /** The model asked for: an answer from another (the fallback's) is not kept under its key. */
  model?: string;
  /** The kept answer, replayed as a stream. */
  replay?: ModelStream & { stopReason: StopReason; usage: TokenUsage };
}

export interface TurnCache {
  /** Only a turn that starts a conversation is cached: a later one depends on its history. */
  lookup(request: {
    userId: string;
    model: string;
    system?: string;
    message: string;
    maxTokens: number;
    cache?: CacheDirective;
    startsConversation: boolean;
    nowMs: number;
  }): Promise<TurnCacheLookup>;
  /**
   * Keeps a whole answer of the model asked for; a partial one (stopped, timed out, failed) never.
   * @returns whether it was kept
   */
  keep(
    lookup: TurnCacheLookup,
    answer: { text: string; model: string; stopReason: StopReason; usage: TokenUsage },
    nowMs: number,
  ): Promise<boolean>;
  /** Deletes the entry the turn's answer was kept under. */
  forget(lookup: TurnCacheLookup): Promise<void>;
}

/** The response cache for /v1/chat: a repeated first question is answered from it, for free. */
export function createTurnCache(deps: {
  cache: ResponseCache;
  ttlSeconds: number;
  scope: 'principal' | 'deployment';
  onError: (error: unknown) => void;
}): TurnCache {
  const { cache, ttlSeconds } = deps;
  return {
    async lookup(request) {
      if (ttlSeconds === 0 || !request.startsConversation) return { outcome: 'off' };
      const directive = request.cache ?? 'default';
      const key = responseCacheKey({
        scope: deps.scope === 'deployment' ? '*' : request.userId,
        api: 'chat',
        request: {
          model: request.model,
          system: request.system,
          message: request.message,
          maxTokens: request.maxTokens,
        },
        betas: [],
      });
      const { model } = request;
      if (directive !== 'default') return { outcome: directive, key, model };
      const kept = await cache.get(key, request.nowMs).catch((error: unknown) => {
        deps.onError(error);
        return undefined;
      });
      if (kept?.format !== 'text') return { outcome: 'miss', key, model };
      return {
        outcome: 'hit',
        key,
        model,
        replay: replayedStream(kept.body, kept.model, kept.stopReason as StopReason, kept.usage),
      };
    },
    async keep(lookup, answer, nowMs) {
      if (!lookup.key || lookup.outcome === 'hit' || lookup.outcome === 'bypass') return false;
      if (!COMPLETE.has(answer.stopReason) || answer.model !== lookup.model) return false;
      return cache
        .put(
          lookup.key,
          {
            format: 'text',
            body: answer.text,
            model: answer.model,
            stopReason: answer.stopReason,
            usage: answer.usage,
          },
          { ttlSeconds, nowMs },
        )
        .then(
          () => true,
          (error: unknown) => {
            deps.onError(error);
            // A put that failed may have landed all the same.
            return true;
          },
        );
    },
    async forget(lookup) {
      if (lookup.key) await cache.delete(lookup.key).catch(deps.onError);
    },
  };
}

/** A kept answer as the model's stream: its text, its usage, its stop. */
function replayedStream(
  text: string,
  model: string,
  stopReason: StopReason,
  usage: TokenUsage,
): TurnCacheLookup['replay'] {
  return {
    model,
    stopReason,
    usage,
    initialUsage: usage,
    async *[Symbol.asyncIterator]() {
      if (text !== '') yield { type: 'text' as const, text };
      yield { type: 'usage' as const, usage };
      yield { type: 'stop' as const, stopReason };
    },
  };
}
