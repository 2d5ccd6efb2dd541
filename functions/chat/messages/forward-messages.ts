import type { Clock } from '../../../shared/domain/clock.js';
import { type AppError, ModelError, ValidationError } from '../../../shared/domain/errors.js';
import type { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import { WEB_SEARCH_NANO_USD } from '../../../shared/domain/pricing/price-table.js';
import { generatableTokens } from '../../../shared/domain/tokens.js';
import { ZERO_USAGE } from '../../../shared/domain/usage.js';
import { responseCacheKey } from '../../../shared/gateway/response-cache-key.js';
import type {
  MessagesUpstream,
  UpstreamCall,
  UpstreamResponse,
} from '../../../shared/ports/messages-upstream.js';
import type { RateWindow } from '../../../shared/ports/rate-limiter.js';
import type { ResponseCache } from '../../../shared/ports/response-cache.js';
import type { UsageRecords } from '../../../shared/ports/usage-records.js';
import type { Admission, Admitted } from '../../../shared/usage/admission.js';
import { TurnController } from '../turn/turn-controller.js';
import { AnswerMeter, type MeteredAnswer } from './answer-meter.js';
import { handsOutContainer } from './hands-out-container.js';
import type { MessagesRequest } from './messages-request.js';
import type {
  CacheDirective,
  CacheOutcome,
  Caller,
  MessagesAnswer,
  MessagesLimits,
  MessagesObserver,
} from './messages-types.js';
import { checkBetas, checkModel } from './model-access.js';
import { type OpenedStream, openStream } from './open-stream.js';
import { measurePrompt, type PromptSize } from './prompt-size.js';
import { relayAnswer } from './relay-answer.js';
import { timeoutError } from './timeout-error.js';
import { unreadableAnswer } from './unreadable-answer.js';

export interface ForwardRequest {
  caller: Caller;
  /** The body as the caller sent it (validated): forwarded unchanged. */
  body: MessagesRequest;
  /**
   * The same body with its numbers as written, when parsing changed one (`bodyWithExactNumbers`):
   * what goes upstream and keys the response cache in its place. Governance reads `body`.
   */
  exactBody?: Record<string, unknown>;
  anthropicVersion?: string;
  betas: readonly string[];
  cache: CacheDirective;
  /**
   * The caller's client retries a failed call itself (an official SDK, the AI SDK): each of its
   * attempts is sent upstream once, so that its `maxRetries` is what it gets, and the
   * deployment's `modelMaxRetries` serve callers that do not retry (curl, plain fetch).
   */
  callerRetries: boolean;
  requestId: string;
  /** Milliseconds before the function is stopped. */
  remainingTimeMs: () => number;
  observer: MessagesObserver;
}

export type ForwardMessages = (request: ForwardRequest) => Promise<MessagesAnswer>;

/**
 * POST /v1/messages, governed: the caller's model, max_tokens and betas are checked,
 * a cached answer is replayed for free to a caller its budgets and rates admit, otherwise
 * the worst case is reserved against every budget that applies, the request goes upstream
 * as sent, and its answer comes back unchanged while it is metered; then the exact cost is
 * settled and recorded.
 */
export function createMessagesForwarding(deps: {
  upstream: MessagesUpstream;
  admission: Admission;
  prices: PriceTable;
  usageRecords: UsageRecords;
  responseCache: ResponseCache;
  clock: Clock;
  limits: MessagesLimits;
}): ForwardMessages {
  const { upstream, admission, prices, usageRecords, responseCache, clock, limits } = deps;

  return async (request) => {
    const startedAtMs = clock();
    const { body, caller, observer } = request;
    const stream = body.stream === true;
    try {
      checkGovernance(request, limits, prices);
    } catch (error) {
      observer.rejected(error as AppError);
      throw error;
    }
    const cacheKey =
      limits.cacheTtlSeconds > 0
        ? responseCacheKey({
            scope:
              limits.cacheScope === 'deployment' && !handsOutContainer(body) ? '*' : caller.userId,
            api: 'messages',
            request: request.exactBody ?? body,
            betas: request.betas,
            ...(request.anthropicVersion && { anthropicVersion: request.anthropicVersion }),
          })
        : undefined;
    const cacheOutcome: CacheOutcome =
      cacheKey === undefined ? 'off' : request.cache === 'default' ? 'miss' : request.cache;

    const prompt = measurePrompt(body);
    const admissionRequest = {
      userId: caller.userId,
      model: body.model,
      promptTokens: prompt.typicalTokens,
      promptMaxTokens: prompt.maxTokens,
      maxOutputTokens: body.max_tokens,
      extraNanoUsd: prompt.maxWebSearches * WEB_SEARCH_NANO_USD,
      ...(body.inference_geo && { inferenceGeo: body.inference_geo }),
      nowMs: startedAtMs,
      expiresAtMs: startedAtMs + request.remainingTimeMs(),
      ...(caller.apiKey && { apiKey: caller.apiKey }),
    };

    if (cacheKey && request.cache === 'default') {
      const hit = await responseCache.get(cacheKey, startedAtMs).catch((error: unknown) => {
        observer.cacheFailed(error);
        return undefined;
      });
      if (hit && (hit.format === 'sse') === stream) {
        // Free, but refused as the call would be: a principal or key whose budget is spent (or
        // set to 0), or whose rate is reached, gets nothing more. Checked only on a hit, so a
        // miss's path to the model has no round trip more; the hit holds and counts nothing.
        let rateWindows: readonly RateWindow[];
        try {
          rateWindows = await admission.check(admissionRequest);
        } catch (error) {
          observer.rejected(error as AppError);
          throw error;
        }
        const metered: MeteredAnswer = {
          model: hit.model,
          usage: hit.usage,
          usageEstimated: false,
          stopReason: hit.stopReason,
          complete: true,
        };
        await account(request, { metered, costNanoUsd: 0, cache: 'hit', startedAtMs });
        return hit.format === 'sse'
          ? { kind: 'stream', cache: 'hit', rateWindows, events: once(hit.body) }
          : { kind: 'json', status: 200, cache: 'hit', rateWindows, body: hit.body };
      }
    }

    const controller = new TurnController(request.remainingTimeMs() - limits.deadlineMarginMs);
    let admitted: Admitted;
    try {
      admitted = await admission.admit(admissionRequest);
    } catch (error) {
      controller.dispose();
      observer.rejected(error as AppError);
      throw error;
    }

    let response: UpstreamResponse;
    let opened: OpenedStream | undefined;
    const cut: NonNullable<UpstreamCall['cut']> = { whileAwaitingAnswer: false };
    const abandonedAs = {
      api: 'messages' as const,
      model: body.model,
      requestId: request.requestId,
      startedAtMs,
    };
    const maxRetries = request.callerRetries ? 0 : limits.modelMaxRetries;
    const send = () =>
      upstream.send({
        operation: 'messages',
        body: request.exactBody ?? body,
        headers: forwardedHeaders(request),
        signal: controller.signal,
        timeoutMs: stream
          ? limits.modelTimeoutMs
          : Math.max(limits.modelTimeoutMs, request.remainingTimeMs() - limits.deadlineMarginMs),
        maxRetries,
        cut,
      });
    try {
      if (stream) {
        opened = await openStream({
          send,
          controller,
          firstByteTimeoutMs: limits.firstByteTimeoutMs,
          idleTimeoutMs: limits.streamIdleTimeoutMs,
          maxRetries,
        });
        response = opened.response;
      } else {
        // A whole answer's headers come only once it is written (minutes, for a long one): it is
        // waited for until the function's deadline, as the SDK waits up to ten minutes for one.
        const answer = send();
        void admitted.billIfAbandoned(abandonedAs);
        response = await answer;
      }
    } catch (error) {
      controller.dispose();
      const broken = stream ? [] : (cut.brokenAfterMs ?? []);
      if (!stream && (cut.whileAwaitingAnswer || broken.length > 0)) {
        // A whole answer was being written upstream, and nothing says how far it got or that
        // leaving stopped it: it is billed as if written to max_tokens, the prompt as estimated.
        // The same call would run into the same deadline and be billed so again: the caller's
        // SDK is told not to send it again by itself (it did twice, tripling the bill). So is
        // one whose connection broke as it waited (each attempt billed as far as it can have
        // been written), which, sent again, would be written and billed again.
        const failure = cut.whileAwaitingAnswer
          ? new ModelError(
              'timeout',
              `${timeoutError(controller).message}: a whole answer this long cannot be waited for here; stream it (stream: true) or lower max_tokens`,
              { shouldRetry: false },
            )
          : new ModelError(
              'connection',
              'the connection to the model broke while it wrote a whole answer, which is billed as far as it can have been written, and not sent again here: stream it (stream: true)',
              { shouldRetry: false, cause: error },
            );
        const written = cut.whileAwaitingAnswer
          ? writtenToMaxTokens(prompt, body.max_tokens, failure)
          : nothingRead(failure);
        const metered = withBrokenAttempts(written, prompt, body.max_tokens, broken);
        const costNanoUsd = await settle(admitted, body, metered, observer);
        await account(request, { metered, costNanoUsd, cache: cacheOutcome, startedAtMs });
        throw failure;
      }
      await admitted.release();
      const failure = controller.interruptedBy ? timeoutError(controller) : error;
      observer.failedToStart(failure);
      throw failure;
    }
    controller.started();

    if (opened?.refusal) {
      // Refused before message_start: nothing was generated, and the API bills nothing.
      await controller.dispose();
      await admitted.release();
      if (request.callerRetries && opened.refusal.retryable) {
        // Not retried here: answered with the status the API refuses a call with before its
        // 200 (529 for an overload), which the caller's SDK retries, as it never does an event.
        observer.failedToStart(opened.refusal.error);
        throw opened.refusal.error;
      }
      // Passed on as the API sent it, its only event (the SDKs raise it, and do not retry it).
      observer.refusedInStream(opened.refusal.error);
      return {
        kind: 'stream',
        cache: cacheOutcome,
        rateWindows: [],
        ...(response.requestId && { upstreamRequestId: response.requestId }),
        events: once(opened.refusal.eventText),
      };
    }

    // Accepted: Claude bills it from here on, whether or not this function lives to settle it.
    if (stream) void admitted.billIfAbandoned(abandonedAs);

    const finish = async (answer: MeteredAnswer, answerBody: string | undefined) => {
      await controller.dispose();
      // Billed and recorded alike: the ledger and the usage report count the same tokens.
      const metered = withPromptCounted(answer, prompt);
      const costNanoUsd = await settle(admitted, body, metered, observer);
      await account(request, { metered, costNanoUsd, cache: cacheOutcome, startedAtMs });
      if (cacheKey && request.cache !== 'bypass' && answerBody !== undefined && metered.complete) {
        await responseCache
          .put(
            cacheKey,
            {
              format: stream ? 'sse' : 'json',
              body: answerBody,
              model: metered.model ?? body.model,
              stopReason: metered.stopReason ?? 'end_turn',
              usage: metered.usage,
            },
            { ttlSeconds: limits.cacheTtlSeconds, nowMs: clock() },
          )
          .catch((error: unknown) => observer.cacheFailed(error));
      }
    };
    // Counted from the request's arrival: more than the call has run, never less.
    const running = () => clock() - startedAtMs;
    const common = {
      cache: cacheOutcome,
      rateWindows: admitted.rateWindows,
      ...(response.requestId && { upstreamRequestId: response.requestId }),
    };

    if (!stream) {
      const meter = new AnswerMeter(body.max_tokens, running);
      let text: string;
      try {
        controller.touch(limits.streamIdleTimeoutMs);
        text = await new Response(response.body).text();
        meter.observeMessage(JSON.parse(text));
      } catch (error) {
        // Its headers came once the whole answer was written: the answer that could not be read
        // is billed as written to max_tokens, as one cut while upstream wrote it. Upstream's
        // failure, never a 500 of ours.
        const failure = controller.interruptedBy
          ? timeoutError(controller)
          : unreadableAnswer(error);
        await finish(
          withBrokenAttempts(
            writtenToMaxTokens(prompt, body.max_tokens, failure),
            prompt,
            body.max_tokens,
            cut.brokenAfterMs,
          ),
          undefined,
        );
        throw failure;
      }
      // Requests sent before this one whose connection broke may have been written too.
      await finish(
        withBrokenAttempts(meter.result(), prompt, body.max_tokens, cut.brokenAfterMs),
        text,
      );
      return { kind: 'json', status: response.status, ...common, body: text };
    }

    return {
      kind: 'stream',
      ...common,
      events: relayAnswer(opened!.events, {
        meter: new AnswerMeter(body.max_tokens, running),
        controller,
        idleTimeoutMs: limits.streamIdleTimeoutMs,
        onFirstEvent: () => observer.firstToken(clock() - startedAtMs),
        finish,
      }),
    };
  };

  async function settle(
    admitted: Admitted,
    request: Pick<MessagesRequest, 'model' | 'inference_geo'>,
    metered: MeteredAnswer,
    observer: MessagesObserver,
  ): Promise<number> {
    const { usage } = metered;
    // An answer that never said where it ran ran where the request asked.
    const geo = usage.inferenceGeo ?? request.inference_geo ?? undefined;
    const costNanoUsd = prices.costNanoUsd(request.model, {
      ...usage,
      ...(geo !== undefined && { inferenceGeo: geo }),
    });
    const outcome = await admitted.settle({ usage, costNanoUsd });
    if (outcome.ledgerError) {
      observer.settlementFailed({
        reservationId: outcome.reservationId,
        error: outcome.ledgerError,
      });
    }
    if (outcome.overrunNanoUsd > 0) {
      observer.budgetOverrun({
        overrunNanoUsd: outcome.overrunNanoUsd,
        reservationId: outcome.reservationId,
      });
    }
    return costNanoUsd;
  }

  async function account(
    request: ForwardRequest,
    outcome: {
      metered: MeteredAnswer;
      costNanoUsd: number;
      cache: CacheOutcome;
      startedAtMs: number;
    },
  ): Promise<void> {
    const { metered, costNanoUsd, cache, startedAtMs } = outcome;
    const latencyMs = clock() - startedAtMs;
    await usageRecords
      .record({
        requestId: request.requestId,
        at: new Date(startedAtMs).toISOString(),
        principal: request.caller.userId,
        ...(request.caller.apiKey && { keyId: request.caller.apiKey.id }),
        api: 'messages',
        model: request.body.model,
        usage: metered.usage,
        costNanoUsd,
        latencyMs,
        ...(metered.stopReason && { stopReason: metered.stopReason }),
        cacheHit: cache === 'hit',
      })
      .catch((error: unknown) => request.observer.usageNotRecorded(error));
    await request.observer.ended({
      model: request.body.model,
      ...(metered.model &&
        metered.model !== request.body.model && { upstreamModel: metered.model }),
      stream: request.body.stream === true,
      cache,
      ...(metered.stopReason && { stopReason: metered.stopReason }),
      usage: metered.usage,
      usageEstimated: metered.usageEstimated,
      costNanoUsd,
      latencyMs,
      ...(!metered.complete && {
        failure: metered.error ?? { type: 'api_error', message: 'the answer ended early' },
      }),
    });
  }
}

/** A whole answer no one read: billed as written to max_tokens, the prompt as estimated. */
function writtenToMaxTokens(prompt: PromptSize, maxTokens: number, failure: ModelError) {
  return {
    usage: { ...ZERO_USAGE, inputTokens: prompt.typicalTokens, outputTokens: maxTokens },
    usageEstimated: true,
    complete: false,
    error: { type: failure.type, message: failure.message },
  } satisfies MeteredAnswer;
}

/** A call that ended with no answer read: its broken attempts alone are billed. */
function nothingRead(failure: ModelError): MeteredAnswer {
  return {
    usage: ZERO_USAGE,
    usageEstimated: true,
    complete: false,
    error: { type: failure.type, message: failure.message },
  };
}

/**
 * The call's requests whose connection broke while a whole answer was awaited, added: each
 * may have been written upstream, and billed there, as far as it can have been in the time it
 * was awaited (the prompt, and output at `MAX_OUTPUT_TOKENS_PER_SECOND`, never past
 * max_tokens), which it is here too, erring high.
 */
function withBrokenAttempts(
  metered: MeteredAnswer,
  prompt: PromptSize,
  maxTokens: number,
  brokenAfterMs: readonly number[] = [],
): MeteredAnswer {
  if (brokenAfterMs.length === 0) return metered;
  const outputTokens = brokenAfterMs.reduce(
    (sum, ms) => sum + Math.min(maxTokens, generatableTokens(ms)),
    0,
  );
  return {
    ...metered,
    usage: {
      ...metered.usage,
      inputTokens: metered.usage.inputTokens + brokenAfterMs.length * prompt.typicalTokens,
      outputTokens: metered.usage.outputTokens + outputTokens,
    },
    usageEstimated: true,
  };
}

/** The answer broke before it said what the prompt cost: the prompt counts as estimated. */
function withPromptCounted(metered: MeteredAnswer, prompt: PromptSize): MeteredAnswer {
  if (metered.model !== undefined || metered.usage.inputTokens !== 0) return metered;
  return {
    ...metered,
    usage: { ...metered.usage, inputTokens: prompt.typicalTokens },
    usageEstimated: true,
  };
}

/** The checks governance needs; everything else is the upstream's to judge. */
function checkGovernance(
  request: ForwardRequest,
  limits: MessagesLimits,
  prices: PriceTable,
): void {
  checkModel(request.body.model, request.caller, limits, prices);
  if (request.body.max_tokens > limits.maxTokens) {
    throw new ValidationError(
      `max_tokens: ${request.body.max_tokens} is above this deployment's limit of ${limits.maxTokens}`,
    );
  }
  checkBetas(request.betas, limits);
}

function forwardedHeaders(request: ForwardRequest): Record<string, string> {
  return {
    ...(request.anthropicVersion && { 'anthropic-version': request.anthropicVersion }),
    ...(request.betas.length > 0 && { 'anthropic-beta': request.betas.join(',') }),
  };
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}
