/** At most this many single-letter edits (a typo, a swapped pair, a letter's case) apart. */
const MAX_EDITS = 2;

/**
 * The setting a misspelt context key was most likely meant to be: one whose name differs
 * from it in case only, or else by at most two letters inserted, deleted, changed or swapped
 * (`alarmEmial`, `userMonthlyBudgetUsdd`); undefined when none is that near.
 */
export function nearestSetting(key: string, settings: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameButCase = settings.find((name) => name.toLowerCase() === lower);
  if (sameButCase) return sameButCase;
  let nearest: { name: string; edits: number } | undefined;
  for (const name of settings) {
    const edits = editDistance(lower, name.toLowerCase());
    if (edits <= MAX_EDITS && (!nearest || edits < nearest.edits)) nearest = { name, edits };
  }
  return nearest?.name;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const table: number[] = [];
  const at = (i: number, j: number) => table[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) {
    for (let j = 0; j <= b.length; j++) {
      let edits = Math.max(i, j);
      if (i > 0 && j > 0) {
        const change = a[i - 1] === b[j - 1] ? 0 : 1;
        edits = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + change);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          edits = Math.min(edits, at(i - 2, j - 2) + 1);
        }
      }
      table[i * width + j] = edits;
    }
  }
  return at(a.length, b.length);
}
