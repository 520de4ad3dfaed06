import type { SqlDb, SqlValue } from "./sql-db";
import type { Row } from "./sql-rows";

/** Where notifications go (destinations) and the notification queue/log the notifier works through. Instants in ms. */
export interface DestinationRow {
  id: number;
  audience: "site" | "operators";
  siteId: number | null;
  kind: "email" | "webhook";
  address: string;
  secret: string | null;
  createdAt: number;
}

export type NotificationStatus = "waiting-media" | "pending" | "retry" | "sent" | "failed";

export interface NotificationRow {
  id: number;
  destinationId: number;
  kind: "email" | "webhook";
  address: string;
  audience: "site" | "operators";
  siteId: number | null;
  terminal: string | null;
  event: "alarm" | "fault" | "credit" | "guards";
  alarmId: number | null;
  faultId: number | null;
  subject: string;
  status: NotificationStatus;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  attachments: number;
  createdAt: number;
  sentAt: number | null;
}

export class NotificationStore {
  constructor(readonly db: SqlDb) {}

  addDestination(d: Omit<DestinationRow, "id">): number {
    return this.db
      .prepare("INSERT INTO destinations (audience, site_id, kind, address, secret, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")
      .get(d.audience, d.siteId, d.kind, d.address, d.secret, d.createdAt)!.id;
  }

  destinations(filter: { id?: number; audience?: "site" | "operators"; siteId?: number } = {}): DestinationRow[] {
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (filter.id !== undefined) (where.push("id = ?"), args.push(filter.id));
    if (filter.audience) (where.push("audience = ?"), args.push(filter.audience));
    if (filter.siteId !== undefined) (where.push("site_id = ?"), args.push(filter.siteId));
    const rows = this.db.prepare(`SELECT * FROM destinations ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id`).all(...args) as Row[];
    return rows.map((r) => ({ id: r.id, audience: r.audience, siteId: r.site_id, kind: r.kind, address: r.address, secret: r.secret, createdAt: r.created_at }));
  }

  destination(id: number): DestinationRow | undefined {
    return this.destinations({ id })[0];
  }

  /** A new address and, when given, a new secret (null keeps the stored one). */
  updateDestination(id: number, d: { address: string; secret: string | null }): void {
    this.db.prepare("UPDATE destinations SET address = ?, secret = COALESCE(?, secret) WHERE id = ?").run(d.address, d.secret, id);
  }

  deleteDestination(id: number): void {
    this.db.prepare("DELETE FROM destinations WHERE id = ?").run(id);
  }

  addNotification(n: Omit<NotificationRow, "id" | "attempts" | "lastError" | "sentAt" | "attachments">): number {
    return this.db
      .prepare(
        `INSERT INTO notifications (destination_id, kind, address, audience, site_id, terminal, event, alarm_id, fault_id, subject, status, next_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(n.destinationId, n.kind, n.address, n.audience, n.siteId, n.terminal, n.event, n.alarmId, n.faultId, n.subject, n.status, n.nextAt, n.createdAt)!.id;
  }

  notification(id: number): NotificationRow | undefined {
    const r = this.db.prepare("SELECT * FROM notifications WHERE id = ?").get(id) as Row | undefined;
    return r ? notificationRow(r) : undefined;
  }

  notifications(filter: { siteId?: number; audience?: "site" | "operators"; limit?: number } = {}): NotificationRow[] {
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (filter.siteId !== undefined) (where.push("site_id = ?"), args.push(filter.siteId));
    if (filter.audience) (where.push("audience = ?"), args.push(filter.audience));
    args.push(filter.limit ?? 200);
    const rows = this.db.prepare(`SELECT * FROM notifications ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ?`).all(...args) as Row[];
    return rows.map(notificationRow);
  }

  /** jobs whose time has come: pending/retry with next_at ≤ now, and waiting-media past their deadline */
  dueNotifications(now: number, limit: number): NotificationRow[] {
    const rows = this.db
      .prepare("SELECT * FROM notifications WHERE status IN ('pending', 'retry', 'waiting-media') AND next_at <= ? ORDER BY next_at, id LIMIT ?")
      .all(now, limit) as Row[];
    return rows.map(notificationRow);
  }

  /** waiting-media jobs of an alarm become pending now (its media is complete) */
  releaseWaiting(terminal: string, alarmId: number, now: number): number {
    return this.db
      .prepare("UPDATE notifications SET status = 'pending', next_at = ? WHERE status = 'waiting-media' AND terminal = ? AND alarm_id = ?")
      .run(now, terminal, alarmId).changes;
  }

  updateNotification(id: number, u: { status: NotificationStatus; attempts: number; nextAt: number; lastError: string | null; attachments?: number; sentAt?: number | null }): void {
    this.db
      .prepare("UPDATE notifications SET status = ?, attempts = ?, next_at = ?, last_error = ?, attachments = COALESCE(?, attachments), sent_at = COALESCE(?, sent_at) WHERE id = ?")
      .run(u.status, u.attempts, u.nextAt, u.lastError, u.attachments ?? null, u.sentAt ?? null, id);
  }

  nextNotificationAt(): number | null {
    const r = this.db.prepare("SELECT MIN(next_at) AS t FROM notifications WHERE status IN ('pending', 'retry', 'waiting-media')").get() as Row;
    return r.t ?? null;
  }
}

function notificationRow(r: Row): NotificationRow {
  return {
    id: r.id, destinationId: r.destination_id, kind: r.kind, address: r.address, audience: r.audience, siteId: r.site_id, terminal: r.terminal, event: r.event,
    alarmId: r.alarm_id, faultId: r.fault_id, subject: r.subject, status: r.status, attempts: r.attempts, nextAt: r.next_at, lastError: r.last_error,
    attachments: r.attachments, createdAt: r.created_at, sentAt: r.sent_at,
  };
}
