import type { Clock } from '../../../shared/domain/clock.js';
import type { StopReason } from '../../../shared/domain/conversation.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import type { StartedTurn } from './turn-types.js';

/** What the model produced, however its stream ended. */
export interface CollectedAnswer {
  text: string;
  usage: TokenUsage;
  /** Claude reported its final usage (message_delta); else the output count is a guess. */
  finalUsage: boolean;
  /** The model's own stop reason, when it finished. */
  stopReason?: StopReason;
  /** What broke the stream, if anything did (an abort by a watchdog included). */
  error?: unknown;
}

/**
 * Reads the model's stream to its end, handing each piece of text on as it comes and
 * keeping the idle watchdog armed. Never throws: a broken stream is part of the result.
 */
export async function collectAnswer(
  turn: StartedTurn,
  options: { idleTimeoutMs: number; clock: Clock },
  onText: (text: string) => void,
): Promise<CollectedAnswer> {
  const { controller, stream } = turn;
  const answer: CollectedAnswer = { text: '', usage: stream.initialUsage, finalUsage: false };
  controller.touch(options.idleTimeoutMs);
  try {
    for await (const event of stream) {
      controller.touch(options.idleTimeoutMs);
      if (event.type === 'text') {
        if (!answer.text) turn.observer.firstToken(options.clock() - turn.receivedAtMs);
        answer.text += event.text;
        onText(event.text);
      } else if (event.type === 'usage') {
        answer.usage = event.usage;
        answer.finalUsage = true;
      } else {
        answer.stopReason = event.stopReason;
      }
    }
  } catch (error) {
    answer.error = error;
  }
  return answer;
}
