import { ModelError } from '../../../shared/domain/errors.js';

/**
 * A whole answer's body that broke off while it was read, or is not JSON: upstream's
 * failure, retryable, never a 500 of ours.
 */
export function unreadableAnswer(error: unknown): ModelError {
  return error instanceof SyntaxError
    ? new ModelError('api_error', "the model's answer could not be read: it is not JSON", {
        cause: error,
      })
    : new ModelError('connection', "the model's answer broke off while it was read", {
        cause: error,
      });
}
