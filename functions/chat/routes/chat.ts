import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseJsonBody } from '../../../shared/http/parse-request.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import { chatRequestSchema } from '../request-schemas.js';
import type { Route } from '../router.js';
import { startTurn } from '../turn/start-turn.js';
import { streamTurn } from '../turn/stream-turn.js';

/** POST /v1/chat: one turn, streamed as Server-Sent Events. */
export const chatRoute: Route = {
  method: 'POST',
  path: '/v1/chat',
  handle: async ({ deps, event, context, logger, metrics }, { userId }) => {
    const request = parseJsonBody(
      event,
      chatRequestSchema({ maxMessageChars: deps.settings.MAX_MESSAGE_CHARS }),
    );
    const turn = await startTurn(
      deps,
      userId,
      request,
      () => context.getRemainingTimeInMillis(),
      metrics,
    );
    metrics.addMetric(METRIC.requests, MetricUnit.Count, 1);
    logger.appendKeys({ conversationId: turn.conversationId, messageId: turn.messageId });
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
      body: streamTurn(deps, turn, logger, metrics),
    };
  },
};
