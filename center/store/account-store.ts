import type { SqlDb } from "./sql-db";
import type { Row } from "./sql-rows";

/** The web's accounts: users (with their role and site) and their login sessions. Instants are ms since 1970. */
export type Role = "admin" | "operator" | "manager";
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

export class AccountStore {
  constructor(readonly db: SqlDb) {}

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

  /** A new password ends every session of the user. */
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
}

function userRow(r: Row): UserRow {
  return { id: r.id, username: r.username, passwordHash: r.password_hash, role: r.role, siteId: r.site_id, createdAt: r.created_at };
}
