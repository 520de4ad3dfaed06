import { accrue, deviceCounts, yenOwed, yenPerHour } from "../../firmware/core/fee";
import { parseTariff } from "../../firmware/core/tariff";
import { DAY, DEFAULT_ZONE_MINUTES, formatTime } from "../../firmware/core/time";
import type { PeriodRow } from "../store/center-store";

export interface PeriodTable {
  terminal: string;
  rows: PeriodRow[];
  permille: number;
  /** floor(Σ rate-seconds / 3600): the Σ base of DESIGN §2's table */
  baseYen: number;
  /** floor(coefficient × exact Σ): the fee rule, once, at the end */
  totalYen: number;
  countsTaken: number;
  mismatches: number;
}

/** DESIGN §2's table for one terminal, from the center's recomputed rate-seconds (integers only). */
export function periodTable(terminal: string, rows: PeriodRow[]): PeriodTable {
  const permille = rows.length ? rows[rows.length - 1].permille : 1000;
  const rateSeconds = rows.reduce((a, r) => a + r.centerRateSeconds, 0);
  return {
    terminal,
    rows,
    permille,
    baseYen: Math.floor(rateSeconds / 3600),
    totalYen: yenOwed(rateSeconds, permille),
    countsTaken: rows.reduce((a, r) => a + (r.countsTaken ?? 0), 0),
    mismatches: rows.filter((r) => r.feeMismatch !== null).length,
  };
}

export interface DayFigure {
  day: string;
  seconds: number;
  rateSeconds: number;
  yen: number;
}

/**
 * Hours guarded and yen per local day, from each period's intervals split at midnight (terminal
 * zone). A day's yen is floor(coefficient × that day's rate-seconds), so the days may sum to a few
 * yen under the total, which is floored once.
 */
export function perDay(rows: PeriodRow[], tariffJson: unknown, zoneMinutes = DEFAULT_ZONE_MINUTES): DayFigure[] {
  const tariff = parseTariff(tariffJson);
  const zone = zoneMinutes * 60;
  const days = new Map<number, { seconds: number; rateSeconds: number; permille: number }>();
  for (const p of rows) {
    for (const iv of p.intervals) {
      if (!Array.isArray(iv) || iv.length !== 6) continue;
      const [from, to, sensor, camera, door, smoke] = iv as number[];
      let rate: number;
      try {
        rate = yenPerHour(tariff, p.pattern, deviceCounts({ sensor, camera, door, smoke }));
      } catch {
        continue;
      }
      let t = from;
      while (t < to) {
        const dayIndex = Math.floor((t + zone) / DAY);
        const dayEnd = (dayIndex + 1) * DAY - zone;
        const upto = Math.min(to, dayEnd);
        const d = days.get(dayIndex) ?? { seconds: 0, rateSeconds: 0, permille: p.permille };
        d.seconds += upto - t;
        d.rateSeconds += accrue(rate, upto - t);
        d.permille = p.permille;
        days.set(dayIndex, d);
        t = upto;
      }
    }
  }
  return [...days.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, d]) => ({ day: formatTime(index * DAY - zone, zoneMinutes).slice(0, 10), seconds: d.seconds, rateSeconds: d.rateSeconds, yen: yenOwed(d.rateSeconds, d.permille) }));
}

/** Integer yen with thousands separators. */
export function yen(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Hours for display only (never money): up to two decimals. */
export function hours(seconds: number): string {
  const h = Math.round((seconds / 3600) * 100) / 100;
  return String(h);
}
