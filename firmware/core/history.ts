import { EMPTY_METER, Meter, Terms, meterYen } from "./contract";
import type { PeriodRow } from "./estimate";
import { DeviceCounts, accrue, baseYen, yenPerHour } from "./fee";
import { billImages, billInterval } from "./period-fold";
import { Period, sensorCount } from "./plan";
import type { Tariff } from "./tariff";
import { Seconds, hoursOf } from "./time";

/** A closed stretch of time during which what operated, the tariff version and the coefficient did not change. */
export interface Interval {
  readonly from: Seconds;
  readonly to: Seconds;
  readonly pattern: number;
  readonly devices: DeviceCounts;
  /** the tariff version the stretch was priced with */
  readonly version: number;
  /** the contract's coefficient (per-mille) under that version */
  readonly permille: number;
  /** images billed during the stretch (or after it, while nothing ran), under its terms */
  readonly images: number;
}

/** The interval running now: what operates, under which terms, since when. */
export interface OpenInterval {
  readonly from: Seconds;
  readonly devices: DeviceCounts;
  readonly version: number;
  readonly permille: number;
  readonly images: number;
}

/**
 * The history of one guard period as it is actually carried out (DESIGN §2 "bill what operated").
 * Rate-seconds of closed intervals are summed exactly as they close and folded into the contract
 * meter (core/contract.ts), which carries on from the periods before; only the newest
 * MAX_INTERVALS intervals are kept for the report, older ones are counted in `folded`.
 */
export interface PeriodLog {
  readonly period: Period;
  readonly start: Seconds;
  readonly end: Seconds | null;
  readonly intervals: readonly Interval[];
  readonly folded: number;
  readonly open: OpenInterval | null;
  /** rate-seconds of this period's closed intervals and images */
  readonly closedRateSeconds: number;
  readonly closedSeconds: number;
  readonly images: number;
  /** the contract meter: every period before this one, and this one's closed intervals and images */
  readonly meter: Meter;
  /** yen owed for the contract when the period opened (the period's yen is what it adds) */
  readonly owedBefore: number;
  /** the terms in force when the period was last open (images are billed under them) */
  readonly terms: Terms;
}

export const MAX_INTERVALS = 24;

export function openPeriod(period: Period, t: Seconds, terms: Terms, meter: Meter = EMPTY_METER): PeriodLog {
  return {
    period,
    start: t,
    end: null,
    intervals: [],
    folded: 0,
    open: { from: t, devices: period.devices, version: terms.version, permille: terms.permille, images: 0 },
    closedRateSeconds: 0,
    closedSeconds: 0,
    images: 0,
    meter,
    owedBefore: meterYen(meter),
    terms,
  };
}

/** Closes the open interval at `t`, priced with `tariff` (the version the interval names). */
function closeOpen(log: PeriodLog, t: Seconds, tariff: Tariff): PeriodLog {
  const open = log.open;
  if (!open) return log;
  const to = t < open.from ? open.from : t;
  const billed = billInterval(log.meter, tariff, log.period.pattern, open.devices, to - open.from, open.permille);
  const interval: Interval = { from: open.from, to, pattern: log.period.pattern, devices: open.devices, version: open.version, permille: open.permille, images: open.images ?? 0 };
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
    closedRateSeconds: log.closedRateSeconds + billed.rateSeconds,
    closedSeconds: log.closedSeconds + (to - open.from),
    meter: billed.meter,
  };
}

/** A clock stepped back (a time sync) must not count time twice: never before the open interval. */
function notBeforeOpen(log: PeriodLog, t: Seconds): Seconds {
  return log.open && t < log.open.from ? log.open.from : t;
}

/** What operates changed at `t` (a sensor dropped off, or came back). */
export function changeDevices(log: PeriodLog, t: Seconds, devices: DeviceCounts, tariff: Tariff): PeriodLog {
  const at = notBeforeOpen(log, t);
  const closed = closeOpen(log, at, tariff);
  const terms = log.open ? { version: log.open.version, permille: log.open.permille } : log.terms;
  return { ...closed, open: { from: at, devices, ...terms, images: 0 } };
}

/**
 * The terms changed at `t` (a new tariff version arrived, the contract changed): the running
 * interval closes under the old terms (`tariff` is the old version), the rest runs under the new.
 */
export function changeTerms(log: PeriodLog, t: Seconds, tariff: Tariff, terms: Terms): PeriodLog {
  if (!log.open) return { ...log, terms };
  const at = notBeforeOpen(log, t);
  const closed = closeOpen(log, at, tariff);
  return { ...closed, terms, open: { from: at, devices: log.open.devices, version: terms.version, permille: terms.permille, images: 0 } };
}

/** Guarding paused at `t` (power lost at the last checkpoint); nothing accrues until resume. */
export function pausePeriod(log: PeriodLog, t: Seconds, tariff: Tariff): PeriodLog {
  return closeOpen(log, t, tariff);
}

export function resumePeriod(log: PeriodLog, t: Seconds, devices: DeviceCounts, terms: Terms): PeriodLog {
  return log.open ? log : { ...log, terms, open: { from: t, devices, version: terms.version, permille: terms.permille, images: 0 } };
}

/**
 * Images sent for the period, billed at once at the image price under the terms of the interval
 * they belong to: the running one, else the last closed one (nothing has been billed since), else
 * the period's terms. The report names them in that interval's row, so the center refolds them in
 * the same place (core/period-fold.ts). `tariffOf` gives the tariff of a version.
 */
export function addImages(log: PeriodLog, count: number, tariffOf: (version: number) => Tariff): PeriodLog {
  const total = log.images + count;
  if (log.open) {
    const billed = billImages(log.meter, tariffOf(log.open.version), count, log.open.permille);
    return { ...log, images: total, closedRateSeconds: log.closedRateSeconds + billed.rateSeconds, meter: billed.meter, open: { ...log.open, images: (log.open.images ?? 0) + count } };
  }
  const last = log.intervals.length > 0 ? log.intervals[log.intervals.length - 1] : null;
  if (last) {
    const billed = billImages(log.meter, tariffOf(last.version), count, last.permille);
    const intervals = log.intervals.slice(0, -1).concat([{ ...last, images: (last.images ?? 0) + count }]);
    return { ...log, images: total, intervals, closedRateSeconds: log.closedRateSeconds + billed.rateSeconds, meter: billed.meter };
  }
  const billed = billImages(log.meter, tariffOf(log.terms.version), count, log.terms.permille);
  return { ...log, images: total, closedRateSeconds: log.closedRateSeconds + billed.rateSeconds, meter: billed.meter };
}

export function closePeriod(log: PeriodLog, t: Seconds, tariff: Tariff): PeriodLog {
  const closed = closeOpen(log, t, tariff);
  return { ...closed, end: t };
}

/** The contract meter as of `t`, the open interval included. */
export function meterAt(log: PeriodLog, tariff: Tariff, t: Seconds): Meter {
  const open = log.open;
  if (!open || t <= open.from) return log.meter;
  return billInterval(log.meter, tariff, log.period.pattern, open.devices, t - open.from, open.permille).meter;
}

/** This period's rate-seconds by `t`, including the open interval and images. */
export function accruedRateSeconds(log: PeriodLog, tariff: Tariff, t: Seconds): number {
  let rs = log.closedRateSeconds;
  const open = log.open;
  if (open && t > open.from) rs += accrue(yenPerHour(tariff, log.period.pattern, open.devices), t - open.from);
  return rs;
}

/** Seconds actually guarded by `t`. */
export function guardedSeconds(log: PeriodLog, t: Seconds): number {
  return log.closedSeconds + (log.open && t > log.open.from ? t - log.open.from : 0);
}

/**
 * The period's row of the table (DESIGN §2), as carried out up to `t` (or its end). Its yen is
 * what it adds to the contract's owed (so the rows always sum to the contract's total).
 */
export function periodRecord(log: PeriodLog, tariff: Tariff, t: Seconds): PeriodRow {
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
    yen: meterYen(meterAt(log, tariff, at)) - log.owedBefore,
  };
}

/** The intervals as the period report carries them: [from, to, sensor, camera, door, smoke, version, permille, images]. */
export function intervalRows(log: PeriodLog): number[][] {
  return log.intervals.map((i) => [i.from, i.to, i.devices.sensor, i.devices.camera, i.devices.door, i.devices.smoke, i.version, i.permille, i.images ?? 0]);
}
