import type { StopReason } from '../../domain/conversation.js';

/** The API's stop reasons a turn or a job can end with (no tool is ever offered there). */
const MODEL_STOP_REASONS: ReadonlySet<string> = new Set<StopReason>([
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'refusal',
  'pause_turn',
  'model_context_window_exceeded',
]);

/**
 * The answer's stop reason as ours. One this version does not know yet still ended the
 * answer as Claude meant it: `end_turn`, never a value our API's schema does not list.
 */
export function stopReasonOf(wire: string | null | undefined): StopReason {
  return wire && MODEL_STOP_REASONS.has(wire) ? (wire as StopReason) : 'end_turn';
}
