import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import type { RequestTracer } from '../observability/request-tracer.js';
import type { ChatRequestContext } from './chat-router.js';
import { answerFor } from './error-response.js';

type Subsegment = ReturnType<
  NonNullable<ReturnType<RequestTracer['getSegment']>>['addNewSubsegment']
>;

/**
 * An X-Ray subsegment per request (`## POST /v1/chat`), the parent of every AWS SDK
 * and model call it makes, closed when the response ends (a stream's included).
 * Event Handler's own tracer middleware skips streaming responses, hence this one.
 * The request runs in a trace context of its own, where its subsegment is current.
 */
export function traceRequest(tracer: RequestTracer): Middleware {
  return async ({ reqCtx, next }) => {
    const scope = (reqCtx as ChatRequestContext).get('scope');
    const segment = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    if (!segment || !scope) return next();
    return tracer.runInOwnContext(async () => {
      const subsegment = segment.addNewSubsegment(`## ${reqCtx.route ?? 'unmatched route'}`);
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      scope.onEnd(() => subsegment.close());
      try {
        await next();
      } catch (error) {
        markFailure(tracer, subsegment, error);
        throw error;
      }
    });
  };
}

/**
 * As X-Ray reads a response: a 5xx is a fault (ours), with its exception; a 4xx an error
 * (the caller's), a 429 also a throttle. Refusals (tokens, budgets, rate limits) would
 * otherwise show on the service map, and in X-Ray Insights, as faults of the function.
 */
function markFailure(tracer: RequestTracer, subsegment: Subsegment, error: unknown): void {
  const { status } = answerFor(error);
  if (status >= 500) {
    tracer.addErrorAsMetadata(error as Error);
    return;
  }
  subsegment.addErrorFlag();
  if (status === 429) subsegment.addThrottleFlag();
}
