import { formatTime } from "../firmware/core/time";
import type { CenterStore } from "./store/center-store";
import { Tariffs } from "./tariffs";
import { periodTable } from "./web/billing-view";

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
  const tariffs = new Tariffs({ store, send: () => undefined });
  const totals = terminals.map((t) => {
    const rows = store.periods(t.id);
    const table = periodTable(t.id, rows, tariffs.lookup(t.id));
    return { terminal: t.id, periods: rows.length, totalYen: table.totalYen, countsTaken: table.countsTaken, mismatches: table.mismatches };
  });
  const alarms = store.alarms().map((a) => ({ ...a, time: fmt(a.time) }));
  const media = store.media().map((m) => ({ terminal: m.terminal, mediaId: m.mediaId, item: m.item, alarmId: m.alarmId, type: m.type, bytes: m.bytes, complete: m.complete, path: m.path }));
  return { sites, periods, totals, alarms, media, rejects: store.rejects().length };
}
