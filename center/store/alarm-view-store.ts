import { OPERATOR_SQL } from "../alarm-policy";
import type { AlarmRow, MediaRow } from "./center-store";
import type { SqlDb } from "./sql-db";
import { alarmRowOf, keysJson, keysSql, mediaRowOf, type AlarmKey, type Row } from "./sql-rows";

/** The alarms as the web, the notifier and dispatch see them: rows, their media, the operators' queue, status. */
export class AlarmViewStore {
  constructor(readonly db: SqlDb) {}

  alarm(terminal: string, alarmId: number): { status: string; pattern: number } | undefined {
    return this.db.prepare("SELECT status, pattern FROM alarms WHERE terminal = ? AND alarm_id = ?").get(terminal, alarmId) as { status: string; pattern: number } | undefined;
  }

  /** one alarm's full row */
  alarmRow(terminal: string, alarmId: number): AlarmRow | undefined {
    const r = this.db.prepare("SELECT * FROM alarms WHERE terminal = ? AND alarm_id = ?").get(terminal, alarmId) as Row | undefined;
    return r ? alarmRowOf(r) : undefined;
  }

  /**
   * The operators' queue, filtered and ordered by SQL (alarm-policy.ts's OPERATOR_SQL): the open
   * alarms they handle, most urgent then newest first, and the `recentClosed` latest closed ones.
   */
  operatorAlarms(recentClosed = 10): { queue: AlarmRow[]; recent: AlarmRow[] } {
    const q = (closed: boolean, order: string, limit: number | null) =>
      (this.db
        .prepare(`SELECT a.* FROM alarms a WHERE ${OPERATOR_SQL.where} AND a.status ${closed ? "=" : "<>"} 'closed' ORDER BY ${order}${limit === null ? "" : " LIMIT ?"}`)
        .all(...(limit === null ? [] : [limit])) as Row[]).map(alarmRowOf);
    return { queue: q(false, `${OPERATOR_SQL.urgency}, ${OPERATOR_SQL.newest}`, null), recent: q(true, OPERATOR_SQL.newest, recentClosed) };
  }

  /** the media items of many alarms, in one query (a page of alarm cards) */
  mediaOfAlarms(keys: readonly AlarmKey[]): MediaRow[] {
    if (!keys.length) return [];
    return (this.db.prepare(`SELECT m.* FROM media m WHERE (m.terminal, m.alarm_id) IN (${keysSql(this.db)}) ORDER BY m.terminal, m.alarm_id, m.media_id, m.item`).all(keysJson(keys)) as Row[]).map(mediaRowOf);
  }

  /** the media items of one alarm */
  mediaOfAlarm(terminal: string, alarmId: number): MediaRow[] {
    return (this.db.prepare("SELECT * FROM media WHERE terminal = ? AND alarm_id = ? ORDER BY media_id, item").all(terminal, alarmId) as Row[]).map(mediaRowOf);
  }

  /** the items of one media unit */
  mediaOfUnit(terminal: string, mediaId: number): MediaRow[] {
    return (this.db.prepare("SELECT * FROM media WHERE terminal = ? AND media_id = ? ORDER BY item").all(terminal, mediaId) as Row[]).map(mediaRowOf);
  }

  setAlarmStatus(terminal: string, alarmId: number, status: string): void {
    this.db.prepare("UPDATE alarms SET status = ? WHERE terminal = ? AND alarm_id = ?").run(status, terminal, alarmId);
  }
}
