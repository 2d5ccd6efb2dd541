import { ModelError } from '../../../shared/domain/errors.js';
import type { Model, ModelRequest, ModelStream } from '../../../shared/ports/model.js';

/**
 * Opens the answer stream. The model has already retried throttling and overload
 * (honouring retry-after) within the request's signal; if overload outlasts that, the
 * fallback model (another, which the caller may use) is opened, with the same retries,
 * before anything reached the client: no third model follows.
 * @returns the stream and the model asked for (the fallback, if it was used)
 */
export async function openWithFallback(
  model: Model,
  request: ModelRequest,
  fallbackModel: string | undefined,
): Promise<{ stream: ModelStream; model: string }> {
  try {
    return { stream: await model.openStream(request), model: request.model };
  } catch (error) {
    const overloaded = error instanceof ModelError && error.kind === 'overloaded';
    if (!overloaded || !fallbackModel || request.signal?.aborted) throw error;
    return {
      stream: await model.openStream({ ...request, model: fallbackModel }),
      model: fallbackModel,
    };
  }
}
