import type { Tracer } from '@aws-lambda-powertools/tracer';
import { ModelError, type ModelErrorKind } from '../../domain/errors.js';
import type { Model, ModelRequest, ModelStream } from '../../ports/model.js';

type Subsegment = NonNullable<ReturnType<Tracer['getSegment']>>;

/**
 * The model port with an X-Ray subsegment per call: opened with the request, closed
 * when the answer ends (for a stream: its last event, not its first), annotated with
 * the model, and marked remote: Anthropic's node on the service map.
 */
export function tracedModel(
  model: Model,
  tracer: Pick<Tracer, 'isTracingEnabled' | 'getSegment'>,
): Model {
  if (!tracer.isTracingEnabled()) return model;
  const open = (name: string, request: ModelRequest): Subsegment | undefined => {
    const subsegment = tracer.getSegment()?.addNewSubsegment(name);
    subsegment?.addAttribute('namespace', 'remote');
    subsegment?.addAnnotation('model', request.model);
    return subsegment;
  };
  const close = (subsegment: Subsegment | undefined, error?: unknown) => {
    if (error !== undefined && subsegment) markFailure(subsegment, error);
    subsegment?.close();
  };
  return {
    async openStream(request) {
      const subsegment = open('## anthropic.messages.stream', request);
      try {
        return closedAtEnd(await model.openStream(request), (error) => close(subsegment, error));
      } catch (error) {
        close(subsegment, error);
        throw error;
      }
    },
    async complete(request) {
      const subsegment = open('## anthropic.messages', request);
      try {
        const answer = await model.complete(request);
        close(subsegment);
        return answer;
      } catch (error) {
        close(subsegment, error);
        throw error;
      }
    },
  };
}

/**
 * As X-Ray reads a call to another service: the provider's 4xx an error on its edge (a 429 a
 * throttle), without the exception; its 5xx, a timeout or a broken connection a fault with it.
 */
function markFailure(subsegment: Subsegment, error: unknown): void {
  const kind = error instanceof ModelError ? error.kind : undefined;
  if (kind === undefined || !REFUSED_BY_PROVIDER.has(kind)) {
    subsegment.addError(error as Error);
    return;
  }
  subsegment.addErrorFlag();
  if (kind === 'rate_limited') subsegment.addThrottleFlag();
}

const REFUSED_BY_PROVIDER: ReadonlySet<ModelErrorKind> = new Set([
  'rate_limited',
  'invalid_request',
  'authentication',
  'billing',
  'model_unavailable',
]);

function closedAtEnd(stream: ModelStream, onEnd: (error?: unknown) => void): ModelStream {
  return {
    model: stream.model,
    initialUsage: stream.initialUsage,
    async *[Symbol.asyncIterator]() {
      let failure: unknown;
      try {
        yield* stream;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        onEnd(failure);
      }
    },
  };
}
