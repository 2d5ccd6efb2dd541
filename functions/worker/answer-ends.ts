/**
 * How a job attempt's answers ended, as far as its result must say: cut at their limit in
 * the latest round (after the last round, the summary was cut), or refused in any round
 * (what a refusal said is a fragment, not a summary).
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

  /** @param cut the answer was cut short of what the model wrote (kept to an item's size) */
  note(stopReason: string, cut = false): void {
    if (stopReason === 'max_tokens' || cut) this.cutThisRound = true;
    if (stopReason === 'refusal') this.anyRefused = true;
  }
}
