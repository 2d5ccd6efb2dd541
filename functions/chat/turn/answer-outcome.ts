import type { StopReason } from '../../../shared/domain/conversation.js';
import { ModelError } from '../../../shared/domain/errors.js';
import { estimateOutputTokens, generatableTokens } from '../../../shared/domain/tokens.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import type { CollectedAnswer } from './collect-answer.js';
import type { InterruptReason } from './turn-controller.js';

export interface AnswerOutcome {
  stopReason: StopReason;
  /** Set when the answer failed (stopReason `error`). */
  failure?: ModelError;
  usage: TokenUsage;
  /** The usage is an estimate: the stream broke before Claude reported its final count. */
  usageEstimated: boolean;
}

/**
 * How an answer ended: the model's own stop reason (once it finished, whatever fired
 * after), or ours (`stopped`, `timeout`), or `error` with the failure to report. A stalled stream is a failure, not a stop.
 */
export function answerOutcome(
  answer: CollectedAnswer,
  interruptedBy: InterruptReason | undefined,
  maxTokens: number,
): AnswerOutcome {
  const failure = failureOf(answer, interruptedBy);
  // A watchdog or a stop that fired after the model finished interrupted nothing.
  const finished = answer.error === undefined && answer.stopReason !== undefined;
  const stopReason: StopReason = failure
    ? 'error'
    : finished
      ? answer.stopReason!
      : interruptedBy === 'stopped' || interruptedBy === 'timeout'
        ? interruptedBy
        : interruptedBy === 'displaced'
          ? 'interrupted'
          : (answer.stopReason ?? 'end_turn');
  // The stream ended before message_delta: bill what was surely produced (what was shown,
  // and what Claude can have generated while it thought unseen), erring high but never past
  // max_tokens.
  const produced = estimateOutputTokens(answer.text) + generatableTokens(answer.thoughtMs ?? 0);
  const usage = answer.finalUsage
    ? answer.usage
    : {
        ...answer.usage,
        outputTokens: Math.max(answer.usage.outputTokens, Math.min(maxTokens, produced)),
      };
  return { stopReason, usage, usageEstimated: !answer.finalUsage, ...(failure && { failure }) };
}

function failureOf(
  answer: CollectedAnswer,
  interruptedBy: InterruptReason | undefined,
): ModelError | undefined {
  if (answer.error === undefined) return undefined;
  if (interruptedBy === 'idle') {
    return new ModelError('timeout', 'the model stopped sending; the answer is incomplete', {
      cause: answer.error,
    });
  }
  // Stopped or out of time: the abort is ours, not a failure.
  if (interruptedBy) return undefined;
  return answer.error instanceof ModelError
    ? answer.error
    : new ModelError('api_error', 'the model stream failed', { cause: answer.error });
}
