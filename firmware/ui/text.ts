import { DAY, HOUR, MINUTE, Seconds, formatShort, formatTime, secondsToCivil } from "../core/time";

/** Text for a 20-column LCD: everything is cut or padded to exactly the width. */
export const WIDTH = 20;
export const ROWS = 4;

export function fit(s: string, width = WIDTH): string {
  return s.length >= width ? s.slice(0, width) : s + " ".repeat(width - s.length);
}

/** `left` and `right` on one line, right-aligned; the left part gives way when both do not fit. */
export function lr(left: string, right: string, width = WIDTH): string {
  const room = width - right.length - 1;
  if (room <= 0) return fit(right, width);
  const l = left.length > room ? left.slice(0, room) : left;
  return l + " ".repeat(width - l.length - right.length) + right;
}

/** The first candidate that fits the width (the shortest last), cut if none does. */
export function firstFit(...candidates: string[]): string {
  for (const c of candidates) if (c.length <= WIDTH) return c;
  return candidates[candidates.length - 1].slice(0, WIDTH);
}

/** 3h, 1h30m, 192h, 45m. */
export function hoursText(seconds: Seconds): string {
  const h = Math.floor(seconds / HOUR);
  const m = Math.floor((seconds - h * HOUR) / MINUTE);
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h${m < 10 ? "0" : ""}${m}m`;
}

export function shortTime(t: Seconds, zone: number): string {
  return formatShort(t, zone);
}

/** MM-DD for the return date. */
export function shortDate(t: Seconds, zone: number): string {
  return formatShort(t, zone).slice(0, 5);
}

export function minutesSeconds(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${s < 10 ? "0" : ""}${s}`;
}

/** YYYYMMDDhhmm digits of a time in the zone (what the date field is typed as). */
export function timeDigits(t: Seconds, zone: number): string {
  return formatTime(t, zone).replace(/[-T:]/g, "").slice(0, 12);
}

/** The date field as shown while typing: `2026-04-1_ __:__`. */
export function dateTemplate(digits: string): string {
  const template = "____-__-__ __:__";
  let out = "";
  let d = 0;
  for (let i = 0; i < template.length; i++) {
    if (template[i] === "_") out += d < digits.length ? digits[d++] : "_";
    else out += template[i];
  }
  return out;
}

/** The next whole hour after `t` in the zone. */
export function nextHour(t: Seconds, zone: number): Seconds {
  const c = secondsToCivil(t, zone);
  return t - c.minute * MINUTE - c.second + HOUR;
}

export { DAY, HOUR };

/** Stars for a PIN being typed. */
export function stars(n: number): string {
  return "*".repeat(n);
}
