import type { SqlDb } from "../store/sql-db";

export interface LoginLimitOptions {
  /** attempts per (account, address) in the window */
  perUser?: number;
  /** attempts per address in the window (all accounts) */
  perAddress?: number;
  windowMs?: number;
  /** attempts on one account (any address) before its backoff starts, and the backoff's ceiling */
  accountFree?: number;
  accountMaxBackoffMs?: number;
}

export type Reservation = { ok: true; ids: number[] } | { ok: false; retryAfter: number };

/**
 * The web login limit, in the database (a restart does not reset it) and atomic: an attempt is
 * counted in the same synchronous step that checks the counts, before the password is hashed, so
 * sixty parallel attempts cannot all pass a limit of five.
 *
 * Three keys per attempt: the (account, address) pair and the address are hard limits in a
 * sliding window (a stranger locks out only themselves); the account alone gets a backoff that
 * doubles from one second to at most `accountMaxBackoffMs` between attempts, so strangers spread
 * over many addresses can slow a real user's login, never block it. A good login forgets the
 * account's attempts and its own attempt's address count.
 */
export class LoginLimiter {
  readonly #db: SqlDb;
  readonly #now: () => number;
  readonly perUser: number;
  readonly perAddress: number;
  readonly windowMs: number;
  readonly accountFree: number;
  readonly accountMaxBackoffMs: number;
  refused = 0;

  constructor(db: SqlDb, now: () => number, o: LoginLimitOptions = {}) {
    this.#db = db;
    this.#now = now;
    this.perUser = o.perUser ?? 5;
    this.perAddress = o.perAddress ?? 20;
    this.windowMs = o.windowMs ?? 15 * 60 * 1000;
    this.accountFree = o.accountFree ?? 5;
    this.accountMaxBackoffMs = o.accountMaxBackoffMs ?? 60 * 1000;
  }

  /** Counts an attempt, or refuses it (with seconds to wait) without counting. */
  reserve(ip: string, username: string): Reservation {
    const user = username.toLowerCase();
    const keys = { pair: `ua:${user}:${ip}`, address: `a:${ip}`, account: `u:${user}` };
    return this.#db.transaction((): Reservation => {
      const now = this.#now();
      const cut = now - this.windowMs;
      this.#db.prepare("DELETE FROM login_attempts WHERE at <= ?").run(cut);
      const recent = (key: string) => (this.#db.prepare("SELECT at FROM login_attempts WHERE key = ? AND at > ? ORDER BY at").all(key, cut) as Array<{ at: number }>).map((r) => r.at);
      let waitMs = 0;
      for (const [key, limit] of [[keys.pair, this.perUser], [keys.address, this.perAddress]] as const) {
        const list = recent(key);
        if (list.length >= limit) waitMs = Math.max(waitMs, list[list.length - limit] + this.windowMs - now);
      }
      const account = recent(keys.account);
      if (account.length >= this.accountFree) {
        const backoff = Math.min(this.accountMaxBackoffMs, 1000 * 2 ** (account.length - this.accountFree));
        waitMs = Math.max(waitMs, account[account.length - 1] + backoff - now);
      }
      if (waitMs > 0) {
        this.refused++;
        return { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) };
      }
      const ins = this.#db.prepare("INSERT INTO login_attempts (key, at) VALUES (?, ?) RETURNING id");
      return { ok: true, ids: [keys.pair, keys.address, keys.account].map((k) => ins.get(k, now)!.id as number) };
    });
  }

  /** A good login: the account's attempts and this attempt are forgotten (failures stay counted). */
  succeeded(ip: string, username: string, r: Reservation): void {
    const user = username.toLowerCase();
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM login_attempts WHERE key IN (?, ?)").run(`ua:${user}:${ip}`, `u:${user}`);
      if (r.ok) for (const id of r.ids) this.#db.prepare("DELETE FROM login_attempts WHERE id = ?").run(id);
    });
  }
}

/**
 * The client's address: the socket's, unless the socket is a configured trusted proxy; then the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy (the one our proxy saw).
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: readonly string[] = []): string {
  const direct = normalize(socketAddress ?? "?");
  if (!trustedProxies.length || !trustedProxies.includes(direct)) return direct;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? "");
  const hops = header.split(",").map((x) => normalize(x.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trustedProxies.includes(hops[i])) return hops[i].slice(0, 64);
  return direct;
}

function normalize(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}
