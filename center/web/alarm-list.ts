import { parseTime } from "../../firmware/core/time";
import type { AlarmRow, SiteRow } from "../store/center-store";

export const ALARM_STATUSES = ["new", "acknowledged", "dispatched", "closed"] as const;

/** The alarm list's filter, from the query string; each field optional. */
export interface AlarmFilter {
  /** first and last day (YYYY-MM-DD, the terminal's zone, inclusive) of the alarm's terminal time */
  from?: string;
  to?: string;
  site?: number;
  status?: string;
  /** the alarm's event (burglary, fire, ...) */
  kind?: string;
  pattern?: number;
  /** text searched in the terminal, site, sensor, event, status, alarm number and Contact ID */
  q?: string;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads the filter from a query string. A bad field is left out and named in `problems` (shown on
 * the page), so a mistyped date never hides the list or silently filters on something else.
 */
export function parseAlarmFilter(p: URLSearchParams): { filter: AlarmFilter; problems: string[] } {
  const filter: AlarmFilter = {};
  const problems: string[] = [];
  const get = (k: string) => (p.get(k) ?? "").trim();
  for (const k of ["from", "to"] as const) {
    const v = get(k);
    if (!v) continue;
    if (DAY_RE.test(v) && dayStart(v) !== null) filter[k] = v;
    else problems.push(`${k}: a date like 2026-04-28`);
  }
  if (filter.from && filter.to && filter.from > filter.to) problems.push("from: after to; no alarm can match");
  const site = get("site");
  if (site) {
    if (/^\d{1,9}$/.test(site)) filter.site = Number(site);
    else problems.push("site: choose a site");
  }
  const status = get("status");
  if (status) {
    if ((ALARM_STATUSES as readonly string[]).includes(status)) filter.status = status;
    else problems.push(`status: one of ${ALARM_STATUSES.join(", ")}`);
  }
  const kind = get("kind");
  if (kind) {
    if (/^[a-z][a-z0-9-]{0,31}$/.test(kind)) filter.kind = kind;
    else problems.push("kind: an alarm kind such as burglary");
  }
  const pattern = get("pattern");
  if (pattern) {
    if (/^[1-9]$/.test(pattern)) filter.pattern = Number(pattern);
    else problems.push("pattern: 1 to 9");
  }
  const q = get("q");
  if (q) {
    if (q.length <= 60) filter.q = q;
    else problems.push("search: at most 60 characters");
  }
  return { filter, problems };
}

function dayStart(day: string): number | null {
  try {
    return parseTime(`${day}T00:00`, "day");
  } catch {
    return null;
  }
}

/** The alarms that pass the filter, newest (terminal time) first. `siteOf` maps a terminal to its site. */
export function filterAlarms(alarms: readonly AlarmRow[], f: AlarmFilter, siteOf: (terminal: string) => SiteRow | undefined): AlarmRow[] {
  const from = f.from ? (dayStart(f.from) as number) : -Infinity;
  const to = f.to ? (dayStart(f.to) as number) + 86400 : Infinity;
  const q = f.q?.toLowerCase();
  return alarms
    .filter((a) => {
      if (a.time < from || a.time >= to) return false;
      if (f.status && a.status !== f.status) return false;
      if (f.kind && a.event !== f.kind) return false;
      if (f.pattern && a.pattern !== f.pattern) return false;
      const site = siteOf(a.terminal);
      if (f.site !== undefined && site?.id !== f.site) return false;
      if (q) {
        const hay = [a.terminal, site?.name ?? "", a.sensor, a.event, a.status, `alarm ${a.alarmId}`, String(a.contactId)].join("\n").toLowerCase();
        if (!hay.includes(q)) return false;
      }
      return true;
    })
    .sort((a, b) => b.time - a.time || b.alarmId - a.alarmId || (a.terminal < b.terminal ? -1 : 1));
}

/** The filter back as a query string (for the CSV link and the page's own links). */
export function filterQuery(f: AlarmFilter): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? "?" + s : "";
}
