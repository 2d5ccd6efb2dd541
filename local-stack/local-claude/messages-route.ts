import { planAnswer } from './answer.js';
import { checkApiHeaders } from './api-headers.js';
import { type Exchange, parseJsonBody } from './exchange.js';
import { newMessageId } from './ids.js';
import { sendMessage } from './message.js';
import { reportedInferenceGeo } from './models.js';
import { promptSegments } from './prompt.js';
import { parseMessagesRequest } from './request.js';
import { directRequest } from './request-directive.js';
import type { LocalClaudeService } from './service.js';
import { type Pacing, streamReply } from './stream.js';

/**
 * POST /v1/messages: checks the request like the API, applies the test's directive,
 * then streams or returns the deterministic reply.
 * @throws ApiError for every answer that is an error before the response starts
 */
export async function handleMessages(
  exchange: Exchange,
  rawBody: string,
  service: LocalClaudeService,
): Promise<void> {
  checkApiHeaders(exchange.record.headers);
  const request = parseMessagesRequest(parseJsonBody(rawBody), service.models);
  const directed = await directRequest(exchange, request, service);
  if (!directed) return;
  const { directive, fault, prompt } = directed;

  // Planned before the cache is touched: a directive the reply cannot honour writes nothing.
  const answer = planAnswer(request, directive, prompt);
  const cache = service.cache.apply(request.model, promptSegments(request));
  const model = directive.answerModel ?? request.model;
  const context = {
    messageId: newMessageId(),
    model,
    cache: { ...cache, inputTokens: directive.inputTokens ?? cache.inputTokens },
    answer,
    inferenceGeo: reportedInferenceGeo(model, request.inference_geo),
  };
  const pacing: Pacing = {
    ttftMs: directive.ttftMs ?? service.pacing.ttftMs,
    tokensPerSecond: directive.tokensPerSecond ?? service.pacing.tokensPerSecond,
    keepAliveMs: directive.keepAliveMs ?? service.pacing.keepAliveMs,
  };
  const respond = request.stream ? streamReply : sendMessage;
  await respond(exchange, context, pacing, fault);
}
