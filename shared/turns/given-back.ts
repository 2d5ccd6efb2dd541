import type { StopReason } from '../domain/conversation.js';

/** A regenerate's: the messages replaced before it, which its answer gives back should it show nothing. */
export interface Regenerated {
  supersededBefore: ReadonlyArray<readonly [number, number]>;
}

/** How an answer ends that showed nothing of its own accord: cut before its first token. */
const CUT_SHORT: ReadonlySet<StopReason> = new Set(['error', 'stopped', 'timeout', 'interrupted']);

/**
 * The conversation's replaced messages once a regenerate's answer ends having shown nothing
 * (failed, stopped or cut before its first token): it replaced nothing, so the answers it was to
 * replace are given back, and its own empty answer, kept with what it cost, is replaced instead.
 * Undefined for any other turn or answer: what the turn began with stands.
 */
export function givenBack(
  turn: { regenerated?: Regenerated | undefined },
  answer: { seq: number; text: string; stopReason: StopReason },
): ReadonlyArray<readonly [number, number]> | undefined {
  if (!turn.regenerated || answer.text !== '' || !CUT_SHORT.has(answer.stopReason)) {
    return undefined;
  }
  return [...turn.regenerated.supersededBefore, [answer.seq, answer.seq]];
}
