import { EMPTY_METER, meterAdd, meterYen } from "./contract";
import { countsDue } from "./counts";
import { accrue, baseYen, yenOwed, yenPerHour } from "./fee";
import { Period, Plan, sensorCount } from "./plan";
import type { Tariff } from "./tariff";
import { Seconds, hoursOf } from "./time";

/** One row of the period table (DESIGN §2's worked example). */
export interface PeriodRow {
  start: Seconds;
  end: Seconds;
  pattern: number;
  sensors: number;
  cameras: number;
  yenPerHour: number;
  hours: number;
  baseYen: number;
  /** floor(coefficient × this period's base) */
  yen: number;
}

export interface Estimate {
  periods: PeriodRow[];
  permille: number;
  /** floor(coefficient × the exact sum of bases) */
  totalYen: number;
  /** counts the plan will take: floor(totalYen / yen per count) */
  counts: number;
  /** counts left on the card after the plan, when a card balance is known */
  countsLeft: number | null;
}

export function periodRateSeconds(period: Period, tariff: Tariff): number {
  return accrue(yenPerHour(tariff, period.pattern, period.devices), period.end - period.start);
}

export function estimatePeriod(period: Period, tariff: Tariff, permille: number): PeriodRow {
  const rate = yenPerHour(tariff, period.pattern, period.devices);
  const rs = accrue(rate, period.end - period.start);
  return {
    start: period.start,
    end: period.end,
    pattern: period.pattern,
    sensors: sensorCount(period.devices),
    cameras: period.devices.camera,
    yenPerHour: rate,
    hours: hoursOf(period.end - period.start),
    baseYen: baseYen(rs),
    yen: yenOwed(rs, permille),
  };
}

/** The estimate of a whole plan, optionally against a card's balance in counts. */
export function estimatePlan(plan: Plan, tariff: Tariff, cardCounts: number | null = null): Estimate {
  const permille = tariff.contractsPermille[plan.contract];
  // The contract meter's rule (core/contract.ts): a plan has one contract, so one segment and one floor.
  let meter = EMPTY_METER;
  const periods = plan.periods.map((p) => {
    meter = meterAdd(meter, permille, periodRateSeconds(p, tariff));
    return estimatePeriod(p, tariff, permille);
  });
  const totalYen = meterYen(meter);
  const counts = countsDue(totalYen, tariff.yenPerCount);
  return { periods, permille, totalYen, counts, countsLeft: cardCounts === null ? null : cardCounts - counts };
}
