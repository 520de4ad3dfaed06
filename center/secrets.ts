import { createHash, createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";

/**
 * Two kinds of secret, two kinds of hash.
 *
 * People choose passwords, which can be guessed: scrypt with a random salt,
 * `scrypt$N$r$p$salt$hash` (hex), checked asynchronously where it can block (center/web/auth.ts).
 *
 * Terminals carry a random 128-bit secret the center issues (newTerminalSecret): nothing to guess,
 * so a slow hash buys nothing and would make 10,000 terminals dialling in after a restart stall
 * the center for minutes. The store keeps `hmac$<key id>$HMAC-SHA-256(key, id NUL secret)` (hex),
 * keyed with the center's terminal key (a file beside the database, never in it), checked in
 * constant time. A terminal registered before this scheme still has a scrypt hash: its first
 * successful login is checked with scrypt off the event loop and the hash is replaced.
 */
const N = 16384;
const R = 8;
const P = 1;
const LEN = 32;

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, LEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString("hex")}$${hash.toString("hex")}`;
}

export function verifySecret(secret: string, stored: string): boolean {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, "hex");
  const actual = scryptSync(secret, Buffer.from(salt, "hex"), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** verifySecret without blocking the event loop (scrypt runs in libuv's thread pool). */
export function verifySecretAsync(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return Promise.resolve(false);
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, "hex");
  return new Promise((resolve) =>
    scrypt(secret, Buffer.from(salt, "hex"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 }, (err, actual) =>
      resolve(!err && actual.length === expected.length && timingSafeEqual(actual, expected)),
    ),
  );
}

/** A new terminal secret: 128 random bits, 32 hex digits. */
export function newTerminalSecret(): string {
  return randomBytes(16).toString("hex");
}

/** The center's key for terminal-secret hashes (32 random bytes). */
export class TerminalKey {
  readonly #key: Buffer;
  /** first 8 hex digits of SHA-256(key): which key a stored hash was made with */
  readonly id: string;

  constructor(key: Uint8Array) {
    if (key.length < 32) throw new Error(`terminal key: ${key.length} bytes, need 32`);
    this.#key = Buffer.from(key);
    this.id = createHash("sha256").update(this.#key).digest("hex").slice(0, 8);
  }

  /** Reads `file` (64 hex digits), creating it (mode 600) with a random key when missing. */
  static loadOrCreate(file: string): TerminalKey {
    if (!existsSync(file)) {
      // Written whole under a private name, then linked into place: nodes of a cluster starting at
      // once on one shared folder all end with the one key that won, never a half-written file.
      const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
      writeFileSync(draft, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
      chmodSync(draft, 0o600);
      try {
        linkSync(draft, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      } finally {
        unlinkSync(draft);
      }
    }
    const text = readFileSync(file, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file}: a terminal key is 64 hex digits`);
    return new TerminalKey(Buffer.from(text, "hex"));
  }

  #mac(terminal: string, secret: string): Buffer {
    return createHmac("sha256", this.#key).update(terminal).update("\0").update(secret).digest();
  }

  /**
   * The terminal's 128-bit pre-shared key for the TLS link (docs/protocols.md): derived, never
   * stored, so the center answers any identity alike (an unknown ID learns nothing from the
   * handshake); given to the terminal at provisioning (`timeguard center terminal-psk`).
   */
  linkPsk(terminal: string): Buffer {
    return createHmac("sha256", this.#key).update("tg-link-psk").update("\0").update(terminal).digest().subarray(0, 16);
  }

  /** What the store keeps for a terminal's secret. */
  hash(terminal: string, secret: string): string {
    return `hmac$${this.id}$${this.#mac(terminal, secret).toString("hex")}`;
  }

  /** True when `stored` is this key's hash of (terminal, secret); constant time in the secret. */
  verify(terminal: string, secret: string, stored: string): boolean {
    const parts = stored.split("$");
    const actual = this.#mac(terminal, secret);
    if (parts.length !== 3 || parts[0] !== "hmac" || parts[1] !== this.id || !/^[0-9a-f]{64}$/.test(parts[2])) return false;
    return timingSafeEqual(actual, Buffer.from(parts[2], "hex"));
  }
}

export const isLegacyTerminalHash = (stored: string): boolean => stored.startsWith("scrypt$");
