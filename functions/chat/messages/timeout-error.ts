import { ModelError } from '../../../shared/domain/errors.js';
import type { TurnController } from '../turn/turn-controller.js';

/** Why the controller cut the call, as its caller is told: a silent stream, a slow start or the deadline. */
export function timeoutError(controller: TurnController): ModelError {
  const what =
    controller.interruptedBy === 'idle'
      ? 'the model stream went silent'
      : controller.interruptedBy === 'slow-start'
        ? 'the model did not start answering in time'
        : "the request ran into the function's time limit";
  return new ModelError('timeout', what);
}
