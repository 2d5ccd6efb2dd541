import type { Clock } from '../../../shared/domain/clock.js';
import { ModelError } from '../../../shared/domain/errors.js';
import type { PriceTable } from '../../../shared/domain/pricing/price-table.js';
import type {
  MessagesUpstream,
  UpstreamResponse,
} from '../../../shared/ports/messages-upstream.js';
import type { RateWindow } from '../../../shared/ports/rate-limiter.js';
import type { Admission } from '../../../shared/usage/admission.js';
import type { CountTokensRequest } from './messages-request.js';
import type { Caller, MessagesLimits } from './messages-types.js';
import { checkBetas, checkModel } from './model-access.js';
import { unreadableAnswer } from './unreadable-answer.js';

export type CountTokens = (request: {
  caller: Caller;
  body: CountTokensRequest;
  /** The body with its numbers as written, when parsing changed one: sent in its place. */
  exactBody?: Record<string, unknown>;
  anthropicVersion?: string;
  betas: readonly string[];
  /** The caller's client retries a failed call itself: sent upstream once per its attempt. */
  callerRetries: boolean;
}) => Promise<{ status: number; body: string; rateWindows: readonly RateWindow[] }>;

/** POST /v1/messages/count_tokens: forwarded as sent, free, counted in the rate windows. */
export function createTokenCounting(deps: {
  upstream: MessagesUpstream;
  admission: Admission;
  prices: PriceTable;
  clock: Clock;
  limits: MessagesLimits;
}): CountTokens {
  const { upstream, admission, prices, clock, limits } = deps;
  return async ({ caller, body, exactBody, anthropicVersion, betas, callerRetries }) => {
    checkModel(body.model, caller, limits, prices);
    checkBetas(betas, limits);
    const rateWindows = await admission.countFreeRequest({
      userId: caller.userId,
      nowMs: clock(),
      ...(caller.apiKey && { apiKey: caller.apiKey }),
    });
    const signal = AbortSignal.timeout(limits.firstByteTimeoutMs);
    const timedOut = () =>
      new ModelError(
        'timeout',
        `counting the tokens timed out: the model did not answer within ${limits.firstByteTimeoutMs} ms`,
      );
    let response: UpstreamResponse;
    try {
      response = await upstream.send({
        operation: 'count_tokens',
        body: exactBody ?? body,
        headers: {
          ...(anthropicVersion && { 'anthropic-version': anthropicVersion }),
          ...(betas.length > 0 && { 'anthropic-beta': betas.join(',') }),
        },
        signal,
        timeoutMs: limits.modelTimeoutMs,
        maxRetries: callerRetries ? 0 : limits.modelMaxRetries,
      });
    } catch (error) {
      throw signal.aborted ? timedOut() : error;
    }
    let text: string;
    try {
      text = await new Response(response.body).text();
      JSON.parse(text);
    } catch (error) {
      // As /v1/messages answers a whole answer it could not read: upstream's failure, retryable.
      throw signal.aborted ? timedOut() : unreadableAnswer(error);
    }
    return { status: response.status, body: text, rateWindows };
  };
}
