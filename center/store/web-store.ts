import { OPERATOR_SQL } from "../alarm-policy";
import type { AlarmRow, MediaRow } from "./center-store";
import { greatest, type SqlDb, type SqlStatement, type SqlValue } from "./sql-db";

/**
 * What the web, the notifier, dispatch and supervision keep (migration 2), behind one interface
 * like CenterStore; SqlWebStore shares the center's database (SQLite or PostgreSQL, sql-db.ts). Center-side instants are ms
 * since 1970; terminal-reported times (alarm time, test call time) stay in seconds.
 */
export type Role = "admin" | "operator" | "manager";
export type AlarmKey = { terminal: string; alarmId: number };
export const ROLES: readonly Role[] = ["admin", "operator", "manager"];

export interface UserRow {
  id: number;
  username: string;
  passwordHash: string;
  role: Role;
  siteId: number | null;
  createdAt: number;
}

export interface SessionRow {
  idHash: string;
  userId: number;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

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

export interface FaultRow {
  id: number;
  terminal: string;
  kind: string;
  detail: string;
  raisedAt: number;
  clearedAt: number | null;
  clearedBy: string | null;
}

export interface SensorRow {
  terminal: string;
  id: string;
  type: string;
  connected: boolean;
  operating: boolean;
  battery: string;
  updatedAt: number;
}

export interface WebStore {
  // users and sessions
  addUser(u: { username: string; passwordHash: string; role: Role; siteId: number | null }, at: number): number;
  user(id: number): UserRow | undefined;
  userByName(username: string): UserRow | undefined;
  users(): UserRow[];
  setPassword(userId: number, passwordHash: string): void;
  deleteUser(userId: number): void;
  addSession(s: SessionRow): void;
  session(idHash: string): SessionRow | undefined;
  deleteSession(idHash: string): void;
  deleteExpiredSessions(now: number): void;

  // sites (columns migration 2 added)
  imagesPerEvent(siteId: number): number;
  setSiteSettings(siteId: number, s: { contact?: string; imagesPerEvent?: number }): void;
  siteByName(name: string): { id: number } | undefined;
  setTariff(terminal: string, tariff: unknown): void;

  // reads the web needs that the ingestion store has no query for
  sensors(terminals: string[]): SensorRow[];
  latestPlan(terminal: string): { seq: number; time: number; plan: unknown } | undefined;
  alarm(terminal: string, alarmId: number): { status: string; pattern: number } | undefined;
  /** one alarm's full row */
  alarmRow(terminal: string, alarmId: number): AlarmRow | undefined;
  /** the media items of one alarm */
  mediaOfAlarm(terminal: string, alarmId: number): MediaRow[];
  /** the media items of many alarms, in one query (a page of alarm cards) */
  mediaOfAlarms(keys: readonly AlarmKey[]): MediaRow[];
  /** the actions on many alarms, in one query, oldest first */
  actionsOfAlarms(keys: readonly AlarmKey[]): AlarmActionRow[];
  /**
   * The operators' queue, filtered and ordered by SQL (alarm-policy.ts's OPERATOR_SQL): the open
   * alarms they handle, most urgent then newest first, and the `recentClosed` latest closed ones.
   */
  operatorAlarms(recentClosed?: number): { queue: AlarmRow[]; recent: AlarmRow[] };
  /** the items of one media unit */
  mediaOfUnit(terminal: string, mediaId: number): MediaRow[];
  setAlarmStatus(terminal: string, alarmId: number, status: string): void;
  lastTestCalls(terminal: string, limit: number): Array<{ seq: number; time: number; boots: number; outbox: number; signal: number | null }>;
  warnings(terminals: string[], limit: number): Array<{ terminal: string; seq: number; time: number; code: string; text: string }>;

  // notification destinations and the log
  addDestination(d: Omit<DestinationRow, "id">): number;
  destinations(filter?: { audience?: "site" | "operators"; siteId?: number }): DestinationRow[];
  deleteDestination(id: number): void;
  /** A new address and, when given, a new secret (null keeps the stored one). */
  updateDestination(id: number, d: { address: string; secret: string | null }): void;
  addNotification(n: Omit<NotificationRow, "id" | "attempts" | "lastError" | "sentAt" | "attachments">): number;
  notification(id: number): NotificationRow | undefined;
  notifications(filter?: { siteId?: number; audience?: "site" | "operators"; limit?: number }): NotificationRow[];
  /** jobs whose time has come: pending/retry with next_at ≤ now, and waiting-media past their deadline */
  dueNotifications(now: number, limit: number): NotificationRow[];
  /** waiting-media jobs of an alarm become pending now (its media is complete) */
  releaseWaiting(terminal: string, alarmId: number, now: number): number;
  updateNotification(id: number, u: { status: NotificationStatus; attempts: number; nextAt: number; lastError: string | null; attachments?: number; sentAt?: number | null }): void;
  nextNotificationAt(): number | null;

  // alarm actions (acknowledge, dispatch, request, close)
  addAlarmAction(a: Omit<AlarmActionRow, "id" | "sentAt" | "sendError">): number;
  markActionSent(id: number, at: number | null, error: string | null): void;
  alarmActions(terminal?: string, alarmId?: number): AlarmActionRow[];

  // supervision faults
  openFault(terminal: string, kind: string): FaultRow | undefined;
  raiseFault(f: { terminal: string; kind: string; detail: string; raisedAt: number }): number;
  clearFault(id: number, at: number, by: string): void;
  faults(filter?: { open?: boolean; terminals?: string[] }): FaultRow[];

  // supervision, by the center's clock (ms)
  heard(terminal: string, at: number, testCall: boolean): void;
  supervision(terminal: string): { firstHeardAt: number; lastTestAt: number | null } | undefined;
  /** Terminals last heard from (test call, else first message) before `beforeMs` with no open fault of `kind`, oldest first. */
  overdue(beforeMs: number, kind: string, limit: number): Array<{ terminal: string; firstHeardAt: number; lastTestAt: number | null }>;

  // settings
  setting(key: string): string | undefined;
  setSetting(key: string, value: string): void;
}

type Row = Record<string, any>;

export class SqlWebStore implements WebStore {
  readonly db: SqlDb;

  constructor(db: SqlDb) {
    this.db = db;
  }

  addUser(u: { username: string; passwordHash: string; role: Role; siteId: number | null }, at: number): number {
    return this.db.prepare("INSERT INTO users (username, password_hash, role, site_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id").get(u.username, u.passwordHash, u.role, u.siteId, at)!.id;
  }

  user(id: number): UserRow | undefined {
    const r = this.db.prepare("SELECT * FROM users WHERE id = ?").get(id) as Row | undefined;
    return r ? userRow(r) : undefined;
  }

  userByName(username: string): UserRow | undefined {
    const r = this.db.prepare("SELECT * FROM users WHERE username = ?").get(username) as Row | undefined;
    return r ? userRow(r) : undefined;
  }

  users(): UserRow[] {
    return (this.db.prepare("SELECT * FROM users ORDER BY id").all() as Row[]).map(userRow);
  }

  setPassword(userId: number, passwordHash: string): void {
    this.db.prepare("UPDATE users SET password_hash = ? WHERE id = ?").run(passwordHash, userId);
    this.db.prepare("DELETE FROM sessions WHERE user_id = ?").run(userId);
  }

  deleteUser(userId: number): void {
    this.db.prepare("DELETE FROM sessions WHERE user_id = ?").run(userId);
    this.db.prepare("DELETE FROM users WHERE id = ?").run(userId);
  }

  addSession(s: SessionRow): void {
    this.db.prepare("INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)").run(s.idHash, s.userId, s.csrf, s.createdAt, s.expiresAt);
  }

  session(idHash: string): SessionRow | undefined {
    const r = this.db.prepare("SELECT * FROM sessions WHERE id_hash = ?").get(idHash) as Row | undefined;
    return r ? { idHash: r.id_hash, userId: r.user_id, csrf: r.csrf, createdAt: r.created_at, expiresAt: r.expires_at } : undefined;
  }

  deleteSession(idHash: string): void {
    this.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(idHash);
  }

  deleteExpiredSessions(now: number): void {
    this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(now);
  }

  imagesPerEvent(siteId: number): number {
    const r = this.db.prepare("SELECT images_per_event AS n FROM sites WHERE id = ?").get(siteId) as Row | undefined;
    return r ? r.n : 0;
  }

  setSiteSettings(siteId: number, s: { contact?: string; imagesPerEvent?: number }): void {
    if (s.contact !== undefined) this.db.prepare("UPDATE sites SET contact = ? WHERE id = ?").run(s.contact, siteId);
    if (s.imagesPerEvent !== undefined) this.db.prepare("UPDATE sites SET images_per_event = ? WHERE id = ?").run(s.imagesPerEvent, siteId);
  }

  siteByName(name: string): { id: number } | undefined {
    return this.db.prepare("SELECT id FROM sites WHERE name = ?").get(name) as { id: number } | undefined;
  }

  setTariff(terminal: string, tariff: unknown): void {
    this.db.prepare("UPDATE terminals SET tariff = ? WHERE id = ?").run(JSON.stringify(tariff), terminal);
  }

  sensors(terminals: string[]): SensorRow[] {
    if (terminals.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM sensors WHERE terminal IN (${terminals.map(() => "?").join(",")}) ORDER BY terminal, id`).all(...terminals) as Row[];
    return rows.map((r) => ({ terminal: r.terminal, id: r.id, type: r.type, connected: r.connected === 1, operating: r.operating === 1, battery: r.battery, updatedAt: r.updated_at }));
  }

  latestPlan(terminal: string): { seq: number; time: number; plan: unknown } | undefined {
    const r = this.db.prepare("SELECT seq, time, plan FROM plans WHERE terminal = ? ORDER BY seq DESC LIMIT 1").get(terminal) as Row | undefined;
    return r ? { seq: r.seq, time: r.time, plan: JSON.parse(r.plan) } : undefined;
  }

  alarm(terminal: string, alarmId: number): { status: string; pattern: number } | undefined {
    return this.db.prepare("SELECT status, pattern FROM alarms WHERE terminal = ? AND alarm_id = ?").get(terminal, alarmId) as { status: string; pattern: number } | undefined;
  }

  alarmRow(terminal: string, alarmId: number): AlarmRow | undefined {
    const r = this.db.prepare("SELECT * FROM alarms WHERE terminal = ? AND alarm_id = ?").get(terminal, alarmId) as Row | undefined;
    return r ? alarmRowOf(r) : undefined;
  }

  operatorAlarms(recentClosed = 10): { queue: AlarmRow[]; recent: AlarmRow[] } {
    const q = (closed: boolean, order: string, limit: number | null) =>
      (this.db
        .prepare(`SELECT a.* FROM alarms a WHERE ${OPERATOR_SQL.where} AND a.status ${closed ? "=" : "<>"} 'closed' ORDER BY ${order}${limit === null ? "" : " LIMIT ?"}`)
        .all(...(limit === null ? [] : [limit])) as Row[]).map(alarmRowOf);
    return { queue: q(false, `${OPERATOR_SQL.urgency}, ${OPERATOR_SQL.newest}`, null), recent: q(true, OPERATOR_SQL.newest, recentClosed) };
  }

  mediaOfAlarms(keys: readonly AlarmKey[]): MediaRow[] {
    if (!keys.length) return [];
    return this.#media(this.db.prepare(`SELECT m.* FROM media m WHERE (m.terminal, m.alarm_id) IN (${keysSql(this.db)}) ORDER BY m.terminal, m.alarm_id, m.media_id, m.item`).all(keysJson(keys)) as Row[]);
  }

  actionsOfAlarms(keys: readonly AlarmKey[]): AlarmActionRow[] {
    if (!keys.length) return [];
    return (this.db.prepare(`SELECT x.* FROM alarm_actions x WHERE (x.terminal, x.alarm_id) IN (${keysSql(this.db)}) ORDER BY x.id`).all(keysJson(keys)) as Row[]).map(actionRowOf);
  }

  mediaOfAlarm(terminal: string, alarmId: number): MediaRow[] {
    return this.#media(this.db.prepare("SELECT * FROM media WHERE terminal = ? AND alarm_id = ? ORDER BY media_id, item").all(terminal, alarmId) as Row[]);
  }

  mediaOfUnit(terminal: string, mediaId: number): MediaRow[] {
    return this.#media(this.db.prepare("SELECT * FROM media WHERE terminal = ? AND media_id = ? ORDER BY item").all(terminal, mediaId) as Row[]);
  }

  #media(rows: Row[]): MediaRow[] {
    return rows.map((r) => ({
      terminal: r.terminal, mediaId: r.media_id, item: r.item, alarmId: r.alarm_id, items: r.items, type: r.type, parts: r.parts, partsReceived: r.parts_received, bytes: r.bytes, path: r.path, complete: r.complete === 1,
    }));
  }

  setAlarmStatus(terminal: string, alarmId: number, status: string): void {
    this.db.prepare("UPDATE alarms SET status = ? WHERE terminal = ? AND alarm_id = ?").run(status, terminal, alarmId);
  }

  lastTestCalls(terminal: string, limit: number): Array<{ seq: number; time: number; boots: number; outbox: number; signal: number | null }> {
    return this.db.prepare("SELECT seq, time, boots, outbox, signal FROM test_calls WHERE terminal = ? ORDER BY time DESC LIMIT ?").all(terminal, limit) as any[];
  }

  warnings(terminals: string[], limit: number): Array<{ terminal: string; seq: number; time: number; code: string; text: string }> {
    if (terminals.length === 0) return [];
    return this.db
      .prepare(`SELECT terminal, seq, time, code, text FROM warnings WHERE terminal IN (${terminals.map(() => "?").join(",")}) ORDER BY time DESC LIMIT ?`)
      .all(...terminals, limit) as any[];
  }

  addDestination(d: Omit<DestinationRow, "id">): number {
    return this.db
      .prepare("INSERT INTO destinations (audience, site_id, kind, address, secret, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")
      .get(d.audience, d.siteId, d.kind, d.address, d.secret, d.createdAt)!.id;
  }

  destinations(filter: { audience?: "site" | "operators"; siteId?: number } = {}): DestinationRow[] {
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (filter.audience) (where.push("audience = ?"), args.push(filter.audience));
    if (filter.siteId !== undefined) (where.push("site_id = ?"), args.push(filter.siteId));
    const rows = this.db.prepare(`SELECT * FROM destinations ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id`).all(...args) as Row[];
    return rows.map((r) => ({ id: r.id, audience: r.audience, siteId: r.site_id, kind: r.kind, address: r.address, secret: r.secret, createdAt: r.created_at }));
  }

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

  dueNotifications(now: number, limit: number): NotificationRow[] {
    const rows = this.db
      .prepare("SELECT * FROM notifications WHERE status IN ('pending', 'retry', 'waiting-media') AND next_at <= ? ORDER BY next_at, id LIMIT ?")
      .all(now, limit) as Row[];
    return rows.map(notificationRow);
  }

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

  addAlarmAction(a: Omit<AlarmActionRow, "id" | "sentAt" | "sendError">): number {
    return this.db
      .prepare("INSERT INTO alarm_actions (terminal, alarm_id, action, user_id, username, role, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
      .get(a.terminal, a.alarmId, a.action, a.userId, a.username, a.role, a.note, a.at)!.id;
  }

  markActionSent(id: number, at: number | null, error: string | null): void {
    this.db.prepare("UPDATE alarm_actions SET sent_at = ?, send_error = ? WHERE id = ?").run(at, error, id);
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

  openFault(terminal: string, kind: string): FaultRow | undefined {
    const r = this.db.prepare("SELECT * FROM faults WHERE terminal = ? AND kind = ? AND cleared_at IS NULL ORDER BY id DESC LIMIT 1").get(terminal, kind) as Row | undefined;
    return r ? faultRow(r) : undefined;
  }

  raiseFault(f: { terminal: string; kind: string; detail: string; raisedAt: number }): number {
    return this.db.prepare("INSERT INTO faults (terminal, kind, detail, raised_at) VALUES (?, ?, ?, ?) RETURNING id").get(f.terminal, f.kind, f.detail, f.raisedAt)!.id;
  }

  clearFault(id: number, at: number, by: string): void {
    this.db.prepare("UPDATE faults SET cleared_at = ?, cleared_by = ? WHERE id = ? AND cleared_at IS NULL").run(at, by, id);
  }

  faults(filter: { open?: boolean; terminals?: string[] } = {}): FaultRow[] {
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (filter.open) where.push("cleared_at IS NULL");
    if (filter.terminals) {
      if (filter.terminals.length === 0) return [];
      where.push(`terminal IN (${filter.terminals.map(() => "?").join(",")})`);
      args.push(...filter.terminals);
    }
    const rows = this.db.prepare(`SELECT * FROM faults ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC`).all(...args) as Row[];
    return rows.map(faultRow);
  }

  heard(terminal: string, at: number, testCall: boolean): void {
    this.db
      .prepare(
        `INSERT INTO supervision (terminal, first_heard_at, last_test_at) VALUES (?, ?, ?)
         ON CONFLICT(terminal) DO UPDATE SET last_test_at = CASE WHEN excluded.last_test_at IS NOT NULL
           THEN ${greatest(this.db)}(COALESCE(supervision.last_test_at, 0), excluded.last_test_at) ELSE supervision.last_test_at END`,
      )
      .run(terminal, at, testCall ? at : null);
  }

  supervision(terminal: string): { firstHeardAt: number; lastTestAt: number | null } | undefined {
    const r = this.db.prepare("SELECT first_heard_at, last_test_at FROM supervision WHERE terminal = ?").get(terminal) as Row | undefined;
    return r ? { firstHeardAt: r.first_heard_at, lastTestAt: r.last_test_at } : undefined;
  }

  overdue(beforeMs: number, kind: string, limit: number): Array<{ terminal: string; firstHeardAt: number; lastTestAt: number | null }> {
    if (!this.#overdue) {
      this.#overdue = this.db.prepare(
        `SELECT terminal, first_heard_at AS "firstHeardAt", last_test_at AS "lastTestAt" FROM supervision s
         WHERE COALESCE(last_test_at, first_heard_at) < ?
           AND NOT EXISTS (SELECT 1 FROM faults f WHERE f.terminal = s.terminal AND f.kind = ? AND f.cleared_at IS NULL)
         ORDER BY COALESCE(last_test_at, first_heard_at) LIMIT ?`,
      );
    }
    return this.#overdue.all(beforeMs, kind, limit) as Array<{ terminal: string; firstHeardAt: number; lastTestAt: number | null }>;
  }

  #overdue: SqlStatement | null = null;

  setting(key: string): string | undefined {
    const r = this.db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as Row | undefined;
    return r?.value;
  }

  setSetting(key: string, value: string): void {
    this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }
}

/** A list of alarm keys as one JSON parameter, unpacked in SQL: one query whatever their number. */
const keysSql = (db: SqlDb) =>
  db.dialect === "postgres"
    ? "SELECT k->>0, (k->>1)::bigint FROM json_array_elements(?::json) AS k"
    : "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)";
const keysJson = (keys: readonly AlarmKey[]) => JSON.stringify(keys.map((k) => [k.terminal, k.alarmId]));

function alarmRowOf(r: Row): AlarmRow {
  return { terminal: r.terminal, alarmId: r.alarm_id, seq: r.seq, time: r.time, sensor: r.sensor, event: r.event, contactId: r.contact_id, pattern: r.pattern, mediaId: r.media_id, images: r.images, clips: r.clips, status: r.status, receivedAt: r.received_at };
}

function actionRowOf(r: Row): AlarmActionRow {
  return { id: r.id, terminal: r.terminal, alarmId: r.alarm_id, action: r.action, userId: r.user_id, username: r.username, role: r.role, note: r.note, at: r.at, sentAt: r.sent_at, sendError: r.send_error };
}

function userRow(r: Row): UserRow {
  return { id: r.id, username: r.username, passwordHash: r.password_hash, role: r.role, siteId: r.site_id, createdAt: r.created_at };
}

function notificationRow(r: Row): NotificationRow {
  return {
    id: r.id,
    destinationId: r.destination_id,
    kind: r.kind,
    address: r.address,
    audience: r.audience,
    siteId: r.site_id,
    terminal: r.terminal,
    event: r.event,
    alarmId: r.alarm_id,
    faultId: r.fault_id,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    nextAt: r.next_at,
    lastError: r.last_error,
    attachments: r.attachments,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

function faultRow(r: Row): FaultRow {
  return { id: r.id, terminal: r.terminal, kind: r.kind, detail: r.detail, raisedAt: r.raised_at, clearedAt: r.cleared_at, clearedBy: r.cleared_by };
}

/** The web store on the center's SQLite file (the name it had before PostgreSQL). */
export { SqlWebStore as SqliteWebStore };
