import { CappedText } from '../../../shared/domain/capped-text.js';
import type { Clock } from '../../../shared/domain/clock.js';
import type { StopReason } from '../../../shared/domain/conversation.js';
import { ThinkingTime } from '../../../shared/domain/thinking-time.js';
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
  /**
   * How long Claude thought, unseen (none if it never did): a cut answer is billed as much as
   * it can have generated meanwhile.
   */
  thoughtMs?: number;
}

/**
 * The most answer a message item holds: DynamoDB items are at most 400 KB, and the answer
 * shares its item with its other attributes (~80,000 tokens of English).
 */
export const MAX_ANSWER_BYTES = 350_000;

/**
 * Reads the model's stream to its end, handing each piece of text on as it comes and
 * keeping the idle watchdog armed (resting while Claude thinks, which the API keeps alive
 * with pings only); an answer that outgrows what can be stored ends there,
 * as `max_tokens`, upstream stopped, so nothing is shown that could not be kept. Never
 * throws: a broken stream is part of the result.
 */
export async function collectAnswer(
  turn: StartedTurn,
  options: { idleTimeoutMs: number; clock: Clock },
  onText: (text: string) => void,
): Promise<CollectedAnswer> {
  const { controller, stream } = turn;
  const answer: CollectedAnswer = { text: '', usage: stream.initialUsage, finalUsage: false };
  const kept = new CappedText(MAX_ANSWER_BYTES);
  controller.touch(options.idleTimeoutMs);
  const thinking = new ThinkingTime(options.clock);
  try {
    for await (const event of stream) {
      controller.touch(options.idleTimeoutMs);
      thinking.observe(event);
      if (event.type === 'thinking') {
        controller.rest();
      } else if (event.type === 'text') {
        // Text that came in while the function stalled past its lease: a recovery may have
        // stored the answer without it, so it is never shown. Leaving the loop stops upstream.
        if (!turn.holdsConversation()) {
          controller.interrupt('displaced');
          break;
        }
        if (!answer.text) turn.observer.firstToken(options.clock() - turn.receivedAtMs);
        const text = kept.append(event.text);
        answer.text = kept.text;
        if (text) onText(text);
        if (kept.full) {
          // Leaving the loop closes the upstream stream: generation stops.
          answer.stopReason = 'max_tokens';
          break;
        }
      } else if (event.type === 'usage') {
        answer.usage = event.usage;
        answer.finalUsage = true;
      } else if (event.type === 'stop') {
        answer.stopReason = event.stopReason;
      }
    }
  } catch (error) {
    answer.error = error;
  }
  if (thinking.ms > 0) answer.thoughtMs = thinking.ms;
  return answer;
}
