import type { DeviceKind, Tariff } from "./tariff";
import { HOUR } from "./time";

/**
 * The fee rule, in one place (DESIGN §2):
 *
 *   fee = coefficient × Σ_i (pattern price + Σ_kind device price × operating devices) × hours_i
 *         + coefficient × images × image price
 *
 * Everything is integer. Time is accrued as "yen-per-hour × seconds" (rate-seconds): a rate of
 * 120 yen/h for 3 h is 120 × 10,800 = 1,296,000 rate-seconds = 360 yen. An image adds
 * image price × 3600 rate-seconds. The coefficient is per-mille. One floor, at the very end:
 *
 *   yen owed = floor(rate-seconds × per-mille / (3600 × 1000))
 *
 * so splitting an interval, or accruing in many small steps, never changes the result.
 */

/** Counts of operating devices by kind. */
export type DeviceCounts = Readonly<Record<DeviceKind, number>>;

export const NO_DEVICES: DeviceCounts = Object.freeze({ sensor: 0, camera: 0, door: 0, smoke: 0 });

export function deviceCounts(partial: Partial<Record<DeviceKind, number>>): DeviceCounts {
  return {
    sensor: partial.sensor ?? 0,
    camera: partial.camera ?? 0,
    door: partial.door ?? 0,
    smoke: partial.smoke ?? 0,
  };
}

/** Yen per hour for a pattern with the given operating devices. */
export function yenPerHour(tariff: Tariff, pattern: number, devices: DeviceCounts): number {
  const patternYen = tariff.patterns[pattern];
  if (patternYen === undefined) throw new Error(`pattern ${pattern} is not in the tariff`);
  return (
    patternYen +
    tariff.devices.sensor * devices.sensor +
    tariff.devices.camera * devices.camera +
    tariff.devices.door * devices.door +
    tariff.devices.smoke * devices.smoke
  );
}

/** Rate-seconds accrued at `rate` yen/h over `seconds`. */
export function accrue(rate: number, seconds: number): number {
  if (seconds < 0) throw new Error("negative interval");
  return checked(rate * seconds);
}

/** Rate-seconds for `images` images sent. */
export function imageRateSeconds(tariff: Tariff, images: number): number {
  return checked(tariff.imageYen * images * HOUR);
}

/** Yen owed for accrued rate-seconds under a coefficient in per-mille: one floor, here only. */
export function yenOwed(rateSeconds: number, permille: number): number {
  // floor(rs × p / u) as q × p + floor(r × p / u) with rs = q × u + r: exact, and no product
  // larger than the result itself (rs × p would pass 2^53 long before the yen do).
  const unit = HOUR * 1000;
  const q = Math.floor(checked(rateSeconds) / unit);
  return checked(q * permille + Math.floor((rateSeconds - q * unit) * permille / unit));
}

/** Base yen (before the coefficient), floored, for the period table; exact when hours are whole. */
export function baseYen(rateSeconds: number): number {
  return Math.floor(rateSeconds / HOUR);
}

function checked(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error(`money arithmetic out of range (${n})`);
  return n;
}
