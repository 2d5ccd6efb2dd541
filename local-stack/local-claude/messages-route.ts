import { DIRECTIVE_HEADER, type Fault, parseDirective } from './directives.js';
import { ApiError, invalidRequest } from './errors.js';
import type { Exchange } from './exchange.js';
import type { FaultLedger } from './faults.js';
import { newMessageId } from './ids.js';
import { sendMessage } from './message.js';
import { untilAborted } from './pacing.js';
import { directivesIn, lastUserText, promptSegments, withoutDirectives } from './prompt.js';
import type { PromptCache } from './prompt-cache.js';
import { planReply } from './reply.js';
import { parseMessagesRequest } from './request.js';
import { type Pacing, streamReply } from './stream.js';

/** What every request of one local Claude shares. */
export interface MessagesService {
  models: ReadonlySet<string>;
  cache: PromptCache;
  faults: FaultLedger;
  pacing: Pacing;
}

/** Real rate-limit answers always say when to retry; a fault that does not say gets this. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * POST /v1/messages: checks the request like the API, applies the test's directive,
 * then streams or returns the deterministic reply.
 * @throws ApiError for every answer that is an error before the response starts
 */
export async function handleMessages(
  exchange: Exchange,
  rawBody: string,
  service: MessagesService,
): Promise<void> {
  const { headers } = exchange.record;
  checkAuthentication(headers);
  if (!headers['anthropic-version']) throw invalidRequest('anthropic-version: header is required');
  const request = parseMessagesRequest(parseJson(rawBody), service.models);

  const prompt = lastUserText(request);
  const directive = parseDirective([...directivesIn(prompt), headers[DIRECTIVE_HEADER] ?? '']);
  const fault = service.faults.select(directive, request.model);
  if (fault?.kind === 'error-before') throw errorBefore(fault);
  if (fault?.kind === 'hang') return untilAborted(exchange.signal);

  const cache = service.cache.apply(request.model, promptSegments(request));
  const context = {
    messageId: newMessageId(),
    model: directive.answerModel ?? request.model,
    cache: { ...cache, inputTokens: directive.inputTokens ?? cache.inputTokens },
    reply: planReply({
      prompt: withoutDirectives(prompt).replace(/\s+/g, ' ').trim(),
      maxTokens: request.max_tokens,
      ...(directive.tokens !== undefined && { length: directive.tokens }),
      echo: directive.reply === 'echo',
      ...(request.stop_sequences && { stopSequences: request.stop_sequences }),
    }),
  };
  const pacing: Pacing = {
    ttftMs: directive.ttftMs ?? service.pacing.ttftMs,
    tokensPerSecond: directive.tokensPerSecond ?? service.pacing.tokensPerSecond,
  };
  const respond = request.stream ? streamReply : sendMessage;
  await respond(exchange, context, pacing, fault);
}

/** The SDK sends `Authorization: Bearer <key>`; curl users send `x-api-key`. Any value is accepted. */
function checkAuthentication(headers: Record<string, string>): void {
  const bearer = /^Bearer\s+\S/i.test(headers.authorization ?? '');
  if (!headers['x-api-key'] && !bearer) {
    throw new ApiError('authentication_error', 'x-api-key header is required');
  }
}

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    throw invalidRequest(`There was an error parsing the body: ${(error as Error).message}`);
  }
}

function errorBefore(fault: Extract<Fault, { kind: 'error-before' }>): ApiError {
  const retryAfter =
    fault.retryAfterSeconds ??
    (fault.type === 'rate_limit_error' ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  return new ApiError(
    fault.type,
    undefined,
    fault.status,
    retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
  );
}
