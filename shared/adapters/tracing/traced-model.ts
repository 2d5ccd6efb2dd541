import type { Tracer } from '@aws-lambda-powertools/tracer';
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
    if (error !== undefined) subsegment?.addError(error as Error);
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
