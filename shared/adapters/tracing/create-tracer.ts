import { Tracer } from '@aws-lambda-powertools/tracer';

/** Runs code in an X-Ray trace context of its own. */
export interface TraceContexts {
  /**
   * Runs `fn` in a trace context that starts as the current one: a segment made current
   * inside stays current inside only, not for work running beside it.
   */
  runInOwnContext<T>(fn: () => T): T;
}

/**
 * Powertools Tracer as the functions use it: AWS SDK clients captured one by one, the
 * model call by `tracedModel`, and no HTTP instrumentation. Tracer's fetch instrumentation
 * makes a call's HTTP subsegment current where the call starts and reads it back where the
 * response headers arrive, in the context that opened the keep-alive connection: it only
 * holds with one context for everything. Without it a request runs in a context of its
 * own (`traceRequest`): requests running at once in one process (the local stack, or
 * Lambda's multi-concurrency) stay apart, and calls made while Claude's headers are awaited
 * are not the HTTP subsegment's children.
 */
export function createTracer(serviceName: string): Tracer & TraceContexts {
  const tracer = new Tracer({ serviceName, captureHTTPsRequests: false });
  const namespace = tracer.provider.getNamespace();
  return Object.assign(tracer, {
    runInOwnContext: <T>(fn: () => T): T => namespace.runAndReturn(fn),
  });
}
