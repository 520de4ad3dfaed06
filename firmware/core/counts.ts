/**
 * Card counts (DESIGN §2): cumulative. After any deduction, the counts taken so far equal
 * floor(yen owed so far / yen per count). Remainders carry to the next deduction, so the card is
 * never over-charged and never drifts.
 */
export function countsDue(yenOwedSoFar: number, yenPerCount: number): number {
  return Math.floor(yenOwedSoFar / yenPerCount);
}

/** How many counts to take now, given what was already taken (never negative). */
export function countsToTake(yenOwedSoFar: number, yenPerCount: number, takenSoFar: number): number {
  const due = countsDue(yenOwedSoFar, yenPerCount);
  return due > takenSoFar ? due - takenSoFar : 0;
}
