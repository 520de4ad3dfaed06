import { yenOwed } from "../firmware/core/fee";
import { formatTime } from "../firmware/core/time";
import type { CenterStore } from "./store/center-store";

/** Sites, periods (the table of DESIGN §2 per terminal, with totals), alarms and media, for scripts. */
export function exportData(store: CenterStore, zoneMinutes?: number): Record<string, unknown> {
  const fmt = (s: number) => formatTime(s, zoneMinutes);
  const terminals = store.terminals();
  const sites = store.sites().map((s) => ({
    id: s.id,
    name: s.name,
    terminals: terminals.filter((t) => t.siteId === s.id).map((t) => t.id),
  }));
  const periods = store.periods().map((p) => ({
    terminal: p.terminal,
    start: fmt(p.start),
    end: fmt(p.end),
    pattern: p.pattern,
    sensors: p.sensors,
    cameras: p.cameras,
    yenPerHour: p.yenPerHour,
    hours: Math.round((p.guardedSeconds / 3600) * 1e6) / 1e6,
    baseYen: p.baseYen,
    yen: p.yen,
    centerYen: p.centerYen,
    images: p.images,
    countsTaken: p.countsTaken,
    cardId: p.cardId,
    debtYen: p.debtYen,
    feeMismatch: p.feeMismatch,
  }));
  const totals = terminals.map((t) => {
    const rows = store.periods(t.id);
    const permille = rows.length ? rows[rows.length - 1].permille : 1000;
    const rateSeconds = rows.reduce((a, r) => a + r.centerRateSeconds, 0);
    return {
      terminal: t.id,
      periods: rows.length,
      totalYen: yenOwed(rateSeconds, permille),
      countsTaken: rows.reduce((a, r) => a + (r.countsTaken ?? 0), 0),
      mismatches: rows.filter((r) => r.feeMismatch !== null).length,
    };
  });
  const alarms = store.alarms().map((a) => ({ ...a, time: fmt(a.time) }));
  const media = store.media().map((m) => ({ terminal: m.terminal, mediaId: m.mediaId, item: m.item, alarmId: m.alarmId, type: m.type, bytes: m.bytes, complete: m.complete, path: m.path }));
  return { sites, periods, totals, alarms, media, rejects: store.rejects().length };
}
