import type { AnswerEnd } from '../../shared/ports/job-store.js';

/** How an answer ended, as a job's result must say: cut at its limit, refused, or whole (undefined). */
export function answerEndOf(stopReason: string, cut = false): AnswerEnd | undefined {
  // What a refusal said is a fragment, cut or not: it fails the job.
  if (stopReason === 'refusal') return 'refused';
  // Out of context window is as cut as out of max_tokens: Claude stopped mid-answer.
  if (stopReason === 'max_tokens' || stopReason === 'model_context_window_exceeded' || cut)
    return 'cut';
  return undefined;
}

/**
 * How a job's answers ended, as far as its result must say: cut at their limit in the
 * latest round (after the last round, the summary was cut), or refused in any round (what
 * a refusal said is a fragment, not a summary). An answer an earlier attempt kept is noted
 * as it ended then, so the result does not depend on whether the job was retried.
 */
export class AnswerEnds {
  private cutThisRound = false;
  private anyRefused = false;

  get lastRoundCut(): boolean {
    return this.cutThisRound;
  }

  get refused(): boolean {
    return this.anyRefused;
  }

  /** A round begins: what the round before cut is no longer the summary's end. */
  newRound(): void {
    this.cutThisRound = false;
  }

  note(end: AnswerEnd | undefined): void {
    if (end === 'cut') this.cutThisRound = true;
    if (end === 'refused') this.anyRefused = true;
  }
}
