import type { AnswerFailure } from '../../../shared/domain/conversation.js';
import { type ErrorType, ModelError } from '../../../shared/domain/errors.js';

/** How a failure is told with the answer it ended: its error type, our message, whether to retry. */
export interface FailureAsTold {
  type: ErrorType;
  message: string;
  retryable: boolean;
}

/** A ModelError as told; a stored answer's failure as its stream told it (ModelError decides). */
export function failureAsTold(failure: ModelError | AnswerFailure): FailureAsTold {
  const error =
    failure instanceof ModelError ? failure : new ModelError(failure.kind, failure.message);
  return { type: error.type, message: error.message, retryable: error.retryable };
}
