import type { PeriodRow } from "./estimate";
import { DeviceCounts, accrue, baseYen, imageRateSeconds, yenOwed, yenPerHour } from "./fee";
import { Period, sensorCount } from "./plan";
import type { Tariff } from "./tariff";
import { Seconds, hoursOf } from "./time";

/** A closed stretch of time during which what operated did not change. */
export interface Interval {
  readonly from: Seconds;
  readonly to: Seconds;
  readonly pattern: number;
  readonly devices: DeviceCounts;
}

/**
 * The history of one guard period as it is actually carried out (DESIGN §2 "bill what operated").
 * Rate-seconds of closed intervals are summed exactly as they close; only the newest
 * MAX_INTERVALS intervals are kept for the report, older ones are counted in `folded`.
 */
export interface PeriodLog {
  readonly period: Period;
  readonly start: Seconds;
  readonly end: Seconds | null;
  readonly intervals: readonly Interval[];
  readonly folded: number;
  readonly open: { readonly from: Seconds; readonly devices: DeviceCounts } | null;
  readonly closedRateSeconds: number;
  readonly closedSeconds: number;
  readonly images: number;
}

export const MAX_INTERVALS = 24;

export function openPeriod(period: Period, t: Seconds): PeriodLog {
  return {
    period,
    start: t,
    end: null,
    intervals: [],
    folded: 0,
    open: { from: t, devices: period.devices },
    closedRateSeconds: 0,
    closedSeconds: 0,
    images: 0,
  };
}

function closeOpen(log: PeriodLog, t: Seconds, tariff: Tariff): PeriodLog {
  if (!log.open) return log;
  const to = t < log.open.from ? log.open.from : t;
  const rate = yenPerHour(tariff, log.period.pattern, log.open.devices);
  const interval: Interval = { from: log.open.from, to, pattern: log.period.pattern, devices: log.open.devices };
  let intervals = log.intervals.concat([interval]);
  let folded = log.folded;
  if (intervals.length > MAX_INTERVALS) {
    folded += intervals.length - MAX_INTERVALS;
    intervals = intervals.slice(intervals.length - MAX_INTERVALS);
  }
  return {
    ...log,
    intervals,
    folded,
    open: null,
    closedRateSeconds: log.closedRateSeconds + accrue(rate, to - log.open.from),
    closedSeconds: log.closedSeconds + (to - log.open.from),
  };
}

/** What operates changed at `t` (a sensor dropped off, or came back). */
export function changeDevices(log: PeriodLog, t: Seconds, devices: DeviceCounts, tariff: Tariff): PeriodLog {
  // A clock stepped back (a time sync) must not count time twice: never before the open interval.
  const at = log.open && t < log.open.from ? log.open.from : t;
  const closed = closeOpen(log, at, tariff);
  return { ...closed, open: { from: at, devices } };
}

/** Guarding paused at `t` (power lost at the last checkpoint); nothing accrues until resume. */
export function pausePeriod(log: PeriodLog, t: Seconds, tariff: Tariff): PeriodLog {
  return closeOpen(log, t, tariff);
}

export function resumePeriod(log: PeriodLog, t: Seconds, devices: DeviceCounts): PeriodLog {
  return log.open ? log : { ...log, open: { from: t, devices } };
}

export function addImages(log: PeriodLog, count: number): PeriodLog {
  return { ...log, images: log.images + count };
}

export function closePeriod(log: PeriodLog, t: Seconds, tariff: Tariff): PeriodLog {
  const closed = closeOpen(log, t, tariff);
  return { ...closed, end: t };
}

/** Rate-seconds accrued by `t`, including the open interval and images. */
export function accruedRateSeconds(log: PeriodLog, tariff: Tariff, t: Seconds): number {
  let rs = log.closedRateSeconds + imageRateSeconds(tariff, log.images);
  if (log.open && t > log.open.from) {
    rs += accrue(yenPerHour(tariff, log.period.pattern, log.open.devices), t - log.open.from);
  }
  return rs;
}

/** Seconds actually guarded by `t`. */
export function guardedSeconds(log: PeriodLog, t: Seconds): number {
  return log.closedSeconds + (log.open && t > log.open.from ? t - log.open.from : 0);
}

/** The period's row of the table (DESIGN §2), as carried out up to `t` (or its end). */
export function periodRecord(log: PeriodLog, tariff: Tariff, permille: number, t: Seconds): PeriodRow {
  const at = log.end ?? t;
  const rs = accruedRateSeconds(log, tariff, at);
  return {
    start: log.start,
    end: at,
    pattern: log.period.pattern,
    sensors: sensorCount(log.period.devices),
    cameras: log.period.devices.camera,
    yenPerHour: yenPerHour(tariff, log.period.pattern, log.period.devices),
    hours: hoursOf(guardedSeconds(log, at)),
    baseYen: baseYen(rs),
    yen: yenOwed(rs, permille),
  };
}
