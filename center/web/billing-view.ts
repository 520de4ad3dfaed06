import { meterYen } from "../../firmware/core/contract";
import { accrue, deviceCounts, yenOwed, yenPerHour } from "../../firmware/core/fee";
import type { Tariff } from "../../firmware/core/tariff";
import { foldPeriods } from "../fee-check";
import { DAY, DEFAULT_ZONE_MINUTES, formatTime, parseTime } from "../../firmware/core/time";
import type { PeriodRow } from "../store/center-store";

export interface PeriodTable {
  terminal: string;
  rows: PeriodRow[];
  permille: number;
  /** floor(Σ rate-seconds / 3600): the Σ base of DESIGN §2's table */
  baseYen: number;
  /** the center's own total: Σ over contract segments floor(coefficient × exact rate-seconds) */
  totalYen: number;
  /** what the card paid: counts taken, summed over the periods */
  countsTaken: number;
  mismatches: number;
}

/**
 * DESIGN §2's table for one terminal. The total is the center's own fold of every period's
 * intervals with the tariff versions it issued (center/fee-check.ts), never the terminal's claim.
 */
export function periodTable(terminal: string, rows: PeriodRow[], tariffOf: (version: number) => Tariff | undefined): PeriodTable {
  const permille = rows.length ? rows[rows.length - 1].permille : 1000;
  const rateSeconds = rows.reduce((a, r) => a + r.centerRateSeconds, 0);
  return {
    terminal,
    rows,
    permille,
    baseYen: Math.floor(rateSeconds / 3600),
    totalYen: meterYen(foldPeriods(tariffOf, rows).meter),
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
export function perDay(rows: PeriodRow[], tariffOf: (version: number) => Tariff | undefined, zoneMinutes = DEFAULT_ZONE_MINUTES): DayFigure[] {
  const zone = zoneMinutes * 60;
  const days = new Map<number, { seconds: number; rateSeconds: number; permille: number }>();
  for (const p of rows) {
    for (const iv of p.intervals) {
      if (!Array.isArray(iv) || iv.length < 8) continue;
      const [from, to, sensor, camera, door, smoke, version, permille] = iv as number[];
      const tariff = tariffOf(version);
      if (!tariff) continue;
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
        const d = days.get(dayIndex) ?? { seconds: 0, rateSeconds: 0, permille };
        d.seconds += upto - t;
        d.rateSeconds += accrue(rate, upto - t);
        d.permille = permille;
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

/** The charts' ranges: the last 7 or 31 days, or every day from the first to the last reported. */
export const CHART_RANGES = { week: 7, month: 31, all: 366 } as const;
export type ChartRange = keyof typeof CHART_RANGES;

export function chartRange(v: string | null): ChartRange {
  return v === "month" || v === "all" ? v : "week";
}

/**
 * Every day of the range, each its own entry (a day with nothing guarded is a zero, not left out),
 * ending at the last day reported (the terminal's clock: a simulated one may run ahead of the
 * center's). `all` starts at the first day reported, at most a year back.
 */
export function daysInRange(days: readonly DayFigure[], range: ChartRange, zoneMinutes = DEFAULT_ZONE_MINUTES): DayFigure[] {
  if (days.length === 0) return [];
  const start = (d: string) => parseTime(`${d}T00:00`, "day", zoneMinutes);
  const last = start(days[days.length - 1].day);
  const n = range === "all" ? Math.min(CHART_RANGES.all, Math.round((last - start(days[0].day)) / DAY) + 1) : CHART_RANGES[range];
  const byDay = new Map(days.map((d) => [d.day, d]));
  const out: DayFigure[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const day = formatTime(last - i * DAY, zoneMinutes).slice(0, 10);
    out.push(byDay.get(day) ?? { day, seconds: 0, rateSeconds: 0, yen: 0 });
  }
  return out;
}

/** Several terminals' days added up (each day's yen is the sum of each terminal's floored yen). */
export function sumDays(lists: ReadonlyArray<readonly DayFigure[]>): DayFigure[] {
  const m = new Map<string, DayFigure>();
  for (const list of lists) {
    for (const d of list) {
      const x = m.get(d.day) ?? { day: d.day, seconds: 0, rateSeconds: 0, yen: 0 };
      x.seconds += d.seconds;
      x.rateSeconds += d.rateSeconds;
      x.yen += d.yen;
      m.set(d.day, x);
    }
  }
  return [...m.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}
