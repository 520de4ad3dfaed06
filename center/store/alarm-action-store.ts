import type { SqlDb } from "./sql-db";
import { keysJson, keysSql, type AlarmKey, type Row } from "./sql-rows";

/** What people did to alarms (acknowledge, dispatch, request, close), with who, and when the terminal took it. */
export interface AlarmActionRow {
  id: number;
  terminal: string;
  alarmId: number;
  action: string;
  userId: number | null;
  username: string | null;
  role: string | null;
  note: string | null;
  at: number;
  sentAt: number | null;
  sendError: string | null;
}

export class AlarmActionStore {
  constructor(readonly db: SqlDb) {}

  addAlarmAction(a: Omit<AlarmActionRow, "id" | "sentAt" | "sendError">): number {
    return this.db
      .prepare("INSERT INTO alarm_actions (terminal, alarm_id, action, user_id, username, role, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
      .get(a.terminal, a.alarmId, a.action, a.userId, a.username, a.role, a.note, a.at)!.id;
  }

  markActionSent(id: number, at: number | null, error: string | null): void {
    this.db.prepare("UPDATE alarm_actions SET sent_at = ?, send_error = ? WHERE id = ?").run(at, error, id);
  }

  alarmAction(id: number): AlarmActionRow | undefined {
    const r = this.db.prepare("SELECT * FROM alarm_actions WHERE id = ?").get(id) as Row | undefined;
    return r ? actionRowOf(r) : undefined;
  }

  alarmActions(terminal?: string, alarmId?: number): AlarmActionRow[] {
    const rows = (
      terminal === undefined
        ? this.db.prepare("SELECT * FROM alarm_actions ORDER BY id").all()
        : alarmId === undefined
          ? this.db.prepare("SELECT * FROM alarm_actions WHERE terminal = ? ORDER BY id").all(terminal)
          : this.db.prepare("SELECT * FROM alarm_actions WHERE terminal = ? AND alarm_id = ? ORDER BY id").all(terminal, alarmId)
    ) as Row[];
    return rows.map(actionRowOf);
  }

  /** the actions on many alarms, in one query, oldest first */
  actionsOfAlarms(keys: readonly AlarmKey[]): AlarmActionRow[] {
    if (!keys.length) return [];
    return (this.db.prepare(`SELECT x.* FROM alarm_actions x WHERE (x.terminal, x.alarm_id) IN (${keysSql(this.db)}) ORDER BY x.id`).all(keysJson(keys)) as Row[]).map(actionRowOf);
  }
}

function actionRowOf(r: Row): AlarmActionRow {
  return { id: r.id, terminal: r.terminal, alarmId: r.alarm_id, action: r.action, userId: r.user_id, username: r.username, role: r.role, note: r.note, at: r.at, sentAt: r.sent_at, sendError: r.send_error };
}
