import Anthropic from '@anthropic-ai/sdk';
import type { ErrorType } from '../../domain/errors.js';
import { UpstreamError } from '../../domain/errors.js';
import type {
  MessagesUpstream,
  ModelInfo,
  UpstreamCall,
  UpstreamResponse,
} from '../../ports/messages-upstream.js';
import { refusesTheAccount } from './account-refusal.js';
import { type AwaitedAttempts, countAwaitedAttempts } from './awaited-attempts.js';
import { retryAfterMs, shouldRetryOf, toModelError } from './model-error.js';

const ERROR_TYPES = new Set<string>([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'billing_error',
  'rate_limit_error',
  'timeout_error',
  'overloaded_error',
  'api_error',
]);

/**
 * The MessagesUpstream port on the Anthropic SDK: the caller's body and version and
 * beta headers go out as sent, with the deployment's key; the SDK's retries apply
 * before the response starts.
 */
export class AnthropicMessagesUpstream implements MessagesUpstream {
  constructor(private readonly client: Anthropic) {}

  async send(call: UpstreamCall): Promise<UpstreamResponse> {
    const options = {
      headers: call.headers,
      signal: call.signal,
      timeout: call.timeoutMs,
      maxRetries: call.maxRetries,
    };
    // The SDK's types describe the parameters it knows; the body is the caller's, unknown fields included.
    const body = call.body as never;
    const attempts: AwaitedAttempts = { awaiting: 0, broken: [] };
    const onAbort = () => {
      if (call.cut) call.cut.whileAwaitingAnswer = attempts.awaiting > 0;
    };
    call.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await countAwaitedAttempts(attempts, () =>
        call.operation === 'count_tokens'
          ? this.client.messages.countTokens(body, options).asResponse()
          : this.client.messages.create(body, options).asResponse(),
      );
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? 'application/json',
        ...(response.headers.get('request-id') && {
          requestId: response.headers.get('request-id')!,
        }),
        body: response.body ?? new ReadableStream({ start: (controller) => controller.close() }),
      };
    } catch (error) {
      throw toUpstreamError(error);
    } finally {
      call.signal.removeEventListener('abort', onAbort);
      if (call.cut) call.cut.brokenAfterMs = attempts.broken;
    }
  }

  async listModels({
    signal,
    maxRetries,
  }: {
    signal: AbortSignal;
    maxRetries: number;
  }): Promise<ModelInfo[]> {
    try {
      const models: ModelInfo[] = [];
      // Every stage: the API leaves retired models out unless asked, and they may be allowed here.
      const everyStage: Anthropic.ModelListParams = {
        limit: 1000,
        lifecycle: ['active', 'deprecated', 'retired'],
      };
      for await (const model of this.client.models.list(everyStage, { signal, maxRetries })) {
        // As parsed, every field: those this SDK version does not type included (the caller's may).
        models.push({ ...model });
      }
      return models;
    } catch (error) {
      throw toUpstreamError(error);
    }
  }
}

/**
 * An error response keeps its status, type, details and `x-should-retry`; the deployment's
 * refused key or unpaid account is our failure, not the caller's (whose own 401 and 402
 * mean their credential and their budget), told in our words, and not to be retried unless
 * the upstream said so: an operator fixes it, while a 502 alone has the caller's SDK retry
 * (Claude Code for minutes) before anyone is told.
 */
function toUpstreamError(error: unknown): Error {
  if (!(error instanceof Anthropic.APIError) || error.status === undefined) {
    return toModelError(error);
  }
  const shouldRetry = shouldRetryOf(error.headers);
  if (error.status === 401 || error.status === 403) {
    return new UpstreamError(
      502,
      'api_error',
      "the Anthropic API refused this deployment's credentials",
      { shouldRetry: shouldRetry ?? false, refusedDeploymentStatus: error.status },
    );
  }
  if (refusesTheAccount(error.status, error.apiMessage)) {
    return new UpstreamError(
      502,
      'api_error',
      "the Anthropic API refused to bill this deployment's account",
      { shouldRetry: shouldRetry ?? false, refusedDeploymentStatus: error.status },
    );
  }
  const body = error.error as
    | { error?: { type?: unknown; message?: unknown; details?: unknown } }
    | undefined;
  const type = typeof body?.error?.type === 'string' ? body.error.type : undefined;
  const message = typeof body?.error?.message === 'string' ? body.error.message : error.message;
  const retryAfter = retryAfterMs(error.headers);
  return new UpstreamError(
    error.status,
    type && ERROR_TYPES.has(type)
      ? (type as ErrorType)
      : error.status >= 500
        ? 'api_error'
        : 'invalid_request_error',
    message,
    {
      retryAfterSeconds: retryAfter === undefined ? undefined : Math.ceil(retryAfter / 1000),
      shouldRetry,
      details: isJsonObject(body?.error?.details) ? body.error.details : undefined,
    },
  );
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
