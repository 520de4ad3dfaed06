import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { hashSecret, verifySecret } from "../secrets";
import type { AccountStore, SessionRow, UserRow } from "../store/account-store";

export const SESSION_COOKIE = "tg_session";
export const LOGIN_CSRF_COOKIE = "tg_login";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function hashPassword(password: string): string {
  return hashSecret(password);
}

/** A user name: what the admin page and `timeguard center user` accept. */
export const USERNAME = /^[A-Za-z0-9._@-]{1,40}$/;

/** A password an admin may set: 10 to 200 characters. */
export function passwordProblem(password: string): string | null {
  if (password.length < 10) return "password: at least 10 characters";
  if (password.length > 200) return "password: at most 200 characters";
  return null;
}

/** verifySecret (center/secrets.ts) without blocking: the same `scrypt$N$r$p$salt$hash` format. */
export function verifyScryptAsync(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return Promise.resolve(false);
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, "hex");
  return new Promise((resolve) =>
    scrypt(secret, Buffer.from(salt, "hex"), expected.length, { N: Number(n), r: Number(r), p: Number(p) }, (err, actual) =>
      resolve(!err && actual.length === expected.length && timingSafeEqual(actual, expected)),
    ),
  );
}

/** A hash to verify against when the user does not exist, so both paths cost one scrypt. */
const DUMMY_HASH = hashSecret("timeguard-no-such-user");

/**
 * Sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the store keeps only
 * its SHA-256 (a stolen database holds no live session) with the session's CSRF token.
 */
export class Sessions {
  readonly #accounts: AccountStore;
  readonly #now: () => number;
  readonly ttlMs: number;

  constructor(accounts: AccountStore, now: () => number, ttlMs = 12 * 3600 * 1000) {
    this.#accounts = accounts;
    this.#now = now;
    this.ttlMs = ttlMs;
  }

  /** Checks a password; the user when right. */
  verify(username: string, password: string): UserRow | null {
    const u = this.#accounts.userByName(username);
    const ok = verifySecret(password, u?.passwordHash ?? DUMMY_HASH);
    return u && ok ? u : null;
  }

  /** The same check off the event loop (scrypt in libuv's pool), so logins never stall MQTT. */
  async verifyAsync(username: string, password: string): Promise<UserRow | null> {
    const u = this.#accounts.userByName(username);
    const ok = await verifyScryptAsync(password, u?.passwordHash ?? DUMMY_HASH);
    return u && ok ? u : null;
  }

  create(userId: number): { token: string; csrf: string } {
    const token = newToken();
    const csrf = newToken();
    const now = this.#now();
    this.#accounts.deleteExpiredSessions(now);
    this.#accounts.addSession({ idHash: sha256(token), userId, csrf, createdAt: now, expiresAt: now + this.ttlMs });
    return { token, csrf };
  }

  lookup(token: string | undefined): { session: SessionRow; user: UserRow } | null {
    if (!token || token.length > 100) return null;
    const session = this.#accounts.session(sha256(token));
    if (!session || session.expiresAt <= this.#now()) return null;
    const user = this.#accounts.user(session.userId);
    return user ? { session, user } : null;
  }

  destroy(token: string | undefined): void {
    if (token) this.#accounts.deleteSession(sha256(token));
  }
}
