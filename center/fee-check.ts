import { countsAllowed } from "../firmware/core/card-policy";
import { countsDue } from "../firmware/core/counts";
import { EMPTY_METER, Meter, meterAdd, meterYen } from "../firmware/core/contract";
import { IntervalRow, foldIntervals, isIntervalRow } from "../firmware/core/period-fold";
import { Tariff, isContract } from "../firmware/core/tariff";
import { MessageError } from "../firmware/uplink/messages";

/** The center's running account of one terminal's contract, period by period in start order. */
export interface ContractAccount {
  /** the contract meter (firmware/core/contract.ts) after the periods folded so far */
  readonly meter: Meter;
  /** start of the last period folded (-1: none) */
  readonly lastStart: number;
  /** counts the card gave (fee and surcharge), summed over the periods folded */
  readonly taken: number;
}

export const NO_PERIODS: ContractAccount = { meter: EMPTY_METER, lastStart: -1, taken: 0 };

/** A period as reported (the `period` message body, or a stored row). */
export interface ReportedPeriod {
  start: number;
  end: number;
  pattern: number;
  intervals: unknown;
  images: number;
  guardedSeconds: number;
  rateSeconds: number;
  yen: number;
  permille: number;
  contract: string;
  tariffVersion?: number | null;
  owedYen?: number | null;
  countsTaken?: number | null;
  takenTotal?: number | null;
  surchargeTotal?: number | null;
}

export interface FeeCheck {
  /** the center's rate-seconds for the period */
  rateSeconds: number;
  /** what the period adds to the contract's owed, by the center's meter */
  yen: number;
  /** the contract's owed after the period, by the center's meter */
  owedYen: number;
  account: ContractAccount;
  /** null when every figure the terminal sent agrees with the center's; else what differs */
  mismatch: string | null;
}

/**
 * Checks every figure of a reported period against the center's own recomputation, with the
 * terminal's tariff versions as the center issued them and the same rules the terminal runs
 * (firmware/core: fee, contract meter, counts). Intervals are [from, to, sensor, camera, door,
 * smoke, tariffVersion, permille, images]; a structurally malformed list is refused (MessageError); a
 * figure that differs is flagged and never changes the center's totals, which are its own.
 */
export function checkPeriod(tariffOf: (version: number) => Tariff | undefined, before: ContractAccount, p: ReportedPeriod): FeeCheck {
  if (!Array.isArray(p.intervals)) throw new MessageError("period.intervals", "must be a list");
  const rows = p.intervals as unknown[];
  if (!rows.every(isIntervalRow)) {
    throw new MessageError("period.intervals", "an interval must be [from, to, sensor, camera, door, smoke, tariffVersion, permille, images?] with from ≤ to");
  }
  // The same fold the terminal's history takes, interval by interval (firmware/core/period-fold.ts).
  const fold = foldIntervals(tariffOf, before.meter, { ...p, intervals: rows as IntervalRow[] });
  const problems = fold.problems.slice();
  if (!isContract(p.contract)) problems.push(`unknown contract ${p.contract}`);
  let meter = fold.meter;
  let rs = fold.rateSeconds;
  const seconds = fold.seconds;
  const last = fold.last;
  const lastTariff = last?.tariff ?? tariffOf(p.tariffVersion ?? 0);
  if (seconds !== p.guardedSeconds) {
    // Older intervals were folded on the terminal: only the reported sum is there to bill.
    problems.push(`intervals cover ${seconds} s of ${p.guardedSeconds} s guarded; fee not verifiable`);
    rs = p.rateSeconds;
    const permille = last ? last.permille : lastTariff && isContract(p.contract) ? lastTariff.contractsPermille[p.contract] : p.permille;
    meter = meterAdd(before.meter, permille, p.rateSeconds);
  }
  if (last) {
    if (p.permille !== last.permille) problems.push(`per-mille ${p.permille} reported, the last interval was billed at ${last.permille}`);
    if (p.tariffVersion != null && p.tariffVersion !== last.version) problems.push(`tariff version ${p.tariffVersion} reported, the last interval names ${last.version}`);
  }
  if (lastTariff && isContract(p.contract) && lastTariff.contractsPermille[p.contract] !== p.permille) {
    problems.push(`per-mille ${p.permille} is not the ${p.contract} contract's ${lastTariff.contractsPermille[p.contract]} under tariff version ${lastTariff.version}`);
  }
  const owed = meterYen(meter);
  const yen = owed - meterYen(before.meter);
  if (rs !== p.rateSeconds) problems.push(`rate-seconds ${p.rateSeconds} reported, ${rs} recomputed`);
  if (yen !== p.yen) problems.push(`${p.yen} yen collected, ${yen} yen recomputed`);
  if (p.owedYen != null && p.owedYen !== owed) problems.push(`contract owed ${p.owedYen} yen reported, ${owed} yen recomputed`);
  const taken = before.taken + (p.countsTaken ?? 0);
  if (lastTariff) {
    const due = countsDue(owed, lastTariff.yenPerCount);
    if (p.takenTotal != null && p.takenTotal > due) problems.push(`the card gave ${p.takenTotal} counts toward the fee, only ${due} are due`);
    if (taken > countsAllowed(owed, lastTariff.yenPerCount, p.surchargeTotal ?? 0)) problems.push(`${taken} counts taken in all, only ${due} due (+ ${p.surchargeTotal ?? 0} surcharge)`);
  }
  return { rateSeconds: rs, yen, owedYen: owed, account: { meter, lastStart: p.start, taken }, mismatch: problems.length ? problems.join("; ") : null };
}

/** Folds a terminal's stored periods (in start order) into its account: the center's totals. */
export function foldPeriods(tariffOf: (version: number) => Tariff | undefined, rows: readonly ReportedPeriod[]): ContractAccount {
  let account = NO_PERIODS;
  for (const r of rows) {
    try {
      account = checkPeriod(tariffOf, account, r).account;
    } catch {
      // a stored row with malformed intervals (from before the checks) adds nothing
    }
  }
  return account;
}
