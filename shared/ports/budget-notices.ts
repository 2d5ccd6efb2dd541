/** Which budget a notice is about: one principal's, one API key's, or the deployment's. */
export type BudgetScope =
  | { scope: 'principal'; userId: string }
  | { scope: 'key'; keyId: string }
  | { scope: 'deployment' };

/** Budget threshold notices already sent, so each goes out once per scope, month and threshold. */
export interface BudgetNotices {
  /**
   * Claims the notice of `percent` for the scope and month.
   * @returns true for the one caller that claimed it first, false for every other
   */
  claim(scope: BudgetScope, month: string, percent: number): Promise<boolean>;
  /** Gives a claim back (its event could not be published), so a later check sends it. */
  release(scope: BudgetScope, month: string, percent: number): Promise<void>;
}
