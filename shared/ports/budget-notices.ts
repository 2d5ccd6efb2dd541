/** Which budget a notice is about: one principal's, one API key's, or the deployment's. */
export type BudgetScope =
  | { scope: 'principal'; userId: string }
  | { scope: 'key'; keyId: string }
  | { scope: 'deployment' };

/** A claim's outcome: refused, it says when the notice was claimed (ms), when its item says. */
export type NoticeClaim = { claimed: true } | { claimed: false; claimedAtMs?: number };

/** Budget threshold notices already sent, so each goes out once per scope, month and threshold. */
export interface BudgetNotices {
  /**
   * Claims the notice of `percent` for the scope and month.
   * @returns claimed for the one caller that claimed it first, refused for every other
   */
  claim(scope: BudgetScope, month: string, percent: number): Promise<NoticeClaim>;
  /** Gives a claim back (its event could not be published), so a later check sends it. */
  release(scope: BudgetScope, month: string, percent: number): Promise<void>;
}
