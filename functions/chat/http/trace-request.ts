import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import type { RequestTracer } from '../observability/request-tracer.js';
import type { ChatRequestContext } from './chat-router.js';

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
        tracer.addErrorAsMetadata(error as Error);
        throw error;
      }
    });
  };
}
