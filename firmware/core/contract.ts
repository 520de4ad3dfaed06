import { yenOwed } from "./fee";

/**
 * The contract meter (DESIGN §2, "a contract change applies from the change on").
 *
 * A contract segment is a run of time billed under one coefficient (per-mille). The one floor of
 * the fee rule applies per segment:
 *
 *   owed = Σ over segments floor(per-mille × exact rate-seconds of the segment / 3,600,000)
 *
 * so a contract change (or a tariff version with another coefficient) never re-prices time
 * already billed, and with no change the rule is the seed's formula with one floor at the end.
 * The terminal and the center both fold time through these functions; neither re-implements them.
 */
export interface Meter {
  /** yen of the segments already closed, each floored once */
  readonly closedYen: number;
  /** per-mille of the running segment (0 before anything accrued) */
  readonly permille: number;
  /** exact rate-seconds of the running segment */
  readonly rateSeconds: number;
}

/** What is billed by: the tariff version in force and the contract's coefficient under it. */
export interface Terms {
  readonly version: number;
  readonly permille: number;
}

export const EMPTY_METER: Meter = Object.freeze({ closedYen: 0, permille: 0, rateSeconds: 0 });

/** `rateSeconds` more accrued under `permille`; a new coefficient closes the running segment. */
export function meterAdd(m: Meter, permille: number, rateSeconds: number): Meter {
  if (rateSeconds === 0) return m;
  if (m.permille === permille || m.rateSeconds === 0) {
    return { closedYen: m.closedYen, permille, rateSeconds: safe(m.rateSeconds + rateSeconds) };
  }
  return { closedYen: safe(m.closedYen + yenOwed(m.rateSeconds, m.permille)), permille, rateSeconds };
}

/** Yen owed for everything the meter has seen. */
export function meterYen(m: Meter): number {
  return safe(m.closedYen + yenOwed(m.rateSeconds, m.permille));
}

/** A meter read back from storage or the wire; anything malformed is refused. */
export function parseMeter(value: unknown): Meter | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (!ok(v.closedYen) || !ok(v.permille) || !ok(v.rateSeconds)) return null;
  return { closedYen: v.closedYen, permille: v.permille, rateSeconds: v.rateSeconds };
}

function safe(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error(`money arithmetic out of range (${n})`);
  return n;
}
