import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import type { RequestTracer } from '../observability/request-tracer.js';
import type { ChatRequestContext } from './chat-router.js';

/**
 * An X-Ray subsegment per request (`## POST /v1/chat`), the parent of every AWS SDK
 * and model call it makes, closed when the response ends (a stream's included).
 * Event Handler's own tracer middleware skips streaming responses, hence this one.
 */
export function traceRequest(tracer: RequestTracer): Middleware {
  return async ({ reqCtx, next }) => {
    const scope = (reqCtx as ChatRequestContext).get('scope');
    const current = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    if (!current || !scope) return next();
    // The invocation's segment, even when another request's subsegment is current: requests
    // running at once in one process (the local stack) hang side by side, not in a chain
    // that every subsegment's open and close walks.
    const segment = 'segment' in current ? current.segment : current;
    const subsegment = segment.addNewSubsegment(`## ${reqCtx.route ?? 'unmatched route'}`);
    tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    scope.onEnd(() => {
      subsegment.close();
      tracer.setSegment(segment);
    });
    try {
      await next();
    } catch (error) {
      tracer.addErrorAsMetadata(error as Error);
      throw error;
    }
  };
}
