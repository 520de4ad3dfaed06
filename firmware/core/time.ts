import { FieldError, describe } from "./errors";

/** Times in the core are integer seconds since 1970-01-01T00:00Z. */
export type Seconds = number;

export const MINUTE = 60;
export const HOUR = 3600;
export const DAY = 86400;

/** The terminal's zone when a time carries no offset: +09:00 (Japan), in minutes east of UTC. */
export const DEFAULT_ZONE_MINUTES = 9 * 60;

export interface Civil {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  hour: number;
  minute: number;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to the civil date (proleptic Gregorian; H. Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Validates a civil time; a FieldError says what is wrong (e.g. 30 February). */
export function checkCivil(c: Civil, field: string): void {
  if (c.year < 2000 || c.year > 2099) throw new FieldError(field, `year ${c.year} is outside 2000-2099`, { code: "year", value: c.year });
  if (c.month < 1 || c.month > 12) throw new FieldError(field, `month ${c.month} does not exist`, { code: "month", value: c.month });
  const dim = daysInMonth(c.year, c.month);
  if (c.day < 1 || c.day > dim) throw new FieldError(field, `day ${c.day} does not exist in month ${c.month} of ${c.year}`, { code: "day", value: c.day, other: c.month });
  if (c.hour < 0 || c.hour > 23) throw new FieldError(field, `hour ${c.hour} does not exist`, { code: "hour", value: c.hour });
  if (c.minute < 0 || c.minute > 59) throw new FieldError(field, `minute ${c.minute} does not exist`, { code: "minute", value: c.minute });
}

export function civilToSeconds(c: Civil, zoneMinutes: number): Seconds {
  return daysFromCivil(c.year, c.month, c.day) * DAY + c.hour * HOUR + c.minute * MINUTE - zoneMinutes * MINUTE;
}

export function secondsToCivil(t: Seconds, zoneMinutes: number): Civil & { second: number } {
  const local = t + zoneMinutes * MINUTE;
  const days = Math.floor(local / DAY);
  let rest = local - days * DAY;
  const hour = Math.floor(rest / HOUR);
  rest -= hour * HOUR;
  const minute = Math.floor(rest / MINUTE);
  return { ...civilFromDays(days), hour, minute, second: rest - minute * MINUTE };
}

/** The minute of the local day (0..1439) at `t`: what secondsToCivil's hour × 60 + minute gives, without the date. */
export function minuteOfDay(t: Seconds, zoneMinutes: number): number {
  const local = t + zoneMinutes * MINUTE;
  return Math.floor((local - Math.floor(local / DAY) * DAY) / MINUTE);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`. Without an offset the time is in the terminal's zone.
 */
export function parseTime(input: unknown, field: string, zoneMinutes = DEFAULT_ZONE_MINUTES): Seconds {
  if (typeof input !== "string") throw new FieldError(field, `must be a time like 2026-04-16T20:00, got ${describe(input)}`);
  const m = ISO.exec(input);
  if (!m) throw new FieldError(field, `must be a time like 2026-04-16T20:00, got ${describe(input)}`);
  const civil: Civil = { year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5] };
  checkCivil(civil, field);
  const second = m[6] === undefined ? 0 : +m[6];
  if (second > 59) throw new FieldError(field, `second ${second} does not exist`);
  let zone = zoneMinutes;
  if (m[7] === "Z") zone = 0;
  else if (m[7] !== undefined) {
    const sign = m[7][0] === "-" ? -1 : 1;
    const hh = +m[7].slice(1, 3);
    const mm = +m[7].slice(4, 6);
    if (hh > 14 || mm > 59) throw new FieldError(field, `offset ${m[7]} does not exist`);
    zone = sign * (hh * 60 + mm);
  }
  const t = civilToSeconds(civil, zone) + second;
  if (zone !== zoneMinutes) {
    // The terminal keeps and shows times in its own zone: one that falls outside 2000-2099 there
    // (2099-12-31T20:00Z is 2100-01-01T05:00 at +09:00) could be stored but never read back.
    const local = secondsToCivil(t, zoneMinutes);
    if (local.year < 2000 || local.year > 2099) {
      throw new FieldError(field, `${input} is ${formatTime(t, zoneMinutes)} in the terminal's zone, outside 2000-2099`);
    }
  }
  return t;
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** `2026-04-16T20:00` in the given zone (seconds shown only when not zero). */
export function formatTime(t: Seconds, zoneMinutes = DEFAULT_ZONE_MINUTES): string {
  const c = secondsToCivil(t, zoneMinutes);
  const base = `${c.year}-${pad2(c.month)}-${pad2(c.day)}T${pad2(c.hour)}:${pad2(c.minute)}`;
  return c.second ? `${base}:${pad2(c.second)}` : base;
}

/** `04-16 20:00`, as the LCD and the period table show it. */
export function formatShort(t: Seconds, zoneMinutes = DEFAULT_ZONE_MINUTES): string {
  const c = secondsToCivil(t, zoneMinutes);
  return `${pad2(c.month)}-${pad2(c.day)} ${pad2(c.hour)}:${pad2(c.minute)}`;
}

/** Hours as a number for display (not money): 3, 192, 1.5. */
export function hoursOf(seconds: Seconds): number {
  return Math.round((seconds / HOUR) * 1e6) / 1e6;
}
