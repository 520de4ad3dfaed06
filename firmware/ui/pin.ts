import { sha256, toHex } from "../lib/sha256";
import { encodeUtf8 } from "../lib/utf8";
import type { Store } from "../platform/store";
import type { Seconds } from "../core/time";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a PIN's digits */
const DIGITS = /^[0-9]+$/;
/** a stored PIN hash */
const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * The PIN that guards changing the plan and disarming. Stored only as SHA-256(salt ‖ PIN) with a
 * per-terminal salt. After `tries` wrong PINs in a row the PIN is locked for `lockSeconds`,
 * doubling with each further lockout (capped at a day). The failure count is written BEFORE the
 * PIN is compared, so cutting the power during a guess never gives a free try.
 */
const KEY = "uipin";
const MAX_LOCK = 86400;

interface PinRecord {
  salt: string;
  hash: string;
  fails: number;
  lockouts: number;
  lockedUntil: Seconds;
}

export type PinCheck = { ok: true; duress?: boolean } | { ok: false; locked: boolean; triesLeft: number; lockedUntil: Seconds };

/**
 * The duress PIN: the PIN with its last digit one higher (9 becomes 0). It works as the PIN does,
 * visibly, and the panel reports a silent duress alarm (docs/ui.md).
 */
export function duressOf(pin: string): string {
  const last = pin.charCodeAt(pin.length - 1) - 48;
  return pin.slice(0, -1) + String((last + 1) % 10);
}

function undoDuress(typed: string): string {
  const last = typed.charCodeAt(typed.length - 1) - 48;
  return typed.slice(0, -1) + String((last + 9) % 10);
}

export const PIN_MIN = 4;
export const PIN_MAX = 8;

export function validPin(pin: string): boolean {
  return pin.length >= PIN_MIN && pin.length <= PIN_MAX && DIGITS.test(pin);
}

function isRecord(v: unknown): v is PinRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.salt === "string" &&
    typeof r.hash === "string" &&
    HASH_HEX.test(r.hash) &&
    typeof r.fails === "number" &&
    typeof r.lockouts === "number" &&
    typeof r.lockedUntil === "number"
  );
}

export class PinGuard {
  #store: Store;
  #tries: number;
  #lockSeconds: number;
  #record: PinRecord | null;
  /** records found unreadable at boot (the PIN then has to be set again at the terminal) */
  rejected = 0;

  constructor(store: Store, options: { tries?: number; lockSeconds?: number } = {}) {
    this.#store = store;
    this.#tries = options.tries ?? 3;
    this.#lockSeconds = options.lockSeconds ?? 300;
    const stored = store.readJson(KEY);
    if (stored !== undefined && !isRecord(stored)) this.rejected++;
    this.#record = isRecord(stored) ? stored : null;
  }

  get isSet(): boolean {
    return this.#record !== null;
  }

  /** Seconds until the PIN may be tried again (0 when it is not locked). */
  lockedFor(now: Seconds): number {
    return this.#record && this.#record.lockedUntil > now ? this.#record.lockedUntil - now : 0;
  }

  get fails(): number {
    return this.#record ? this.#record.fails : 0;
  }

  set(pin: string, now: Seconds): void {
    if (!validPin(pin)) throw new RangeError(`a PIN is ${PIN_MIN}-${PIN_MAX} digits`);
    const salt = toHex(sha256(encodeUtf8(`${now}:${Math.random()}:${this.#record ? this.#record.hash : ""}`))).slice(0, 16);
    this.#record = { salt, hash: hashPin(salt, pin), fails: 0, lockouts: 0, lockedUntil: 0 };
    this.#store.writeJson(KEY, this.#record);
  }

  check(pin: string, now: Seconds): PinCheck {
    const r = this.#record;
    if (!r) return { ok: true };
    if (r.lockedUntil > now) return { ok: false, locked: true, triesLeft: 0, lockedUntil: r.lockedUntil };
    // Count the try first: a power cut after this write cannot hand out another guess.
    const counted: PinRecord = { ...r, fails: r.fails + 1 };
    this.#store.writeJson(KEY, counted);
    this.#record = counted;
    if (validPin(pin) && hashPin(r.salt, pin) === r.hash) {
      this.#record = { ...r, fails: 0, lockouts: 0, lockedUntil: 0 };
      this.#store.writeJson(KEY, this.#record);
      return { ok: true };
    }
    if (validPin(pin) && hashPin(r.salt, undoDuress(pin)) === r.hash) {
      this.#record = { ...r, fails: 0, lockouts: 0, lockedUntil: 0 };
      this.#store.writeJson(KEY, this.#record);
      return { ok: true, duress: true };
    }
    if (counted.fails >= this.#tries) {
      const lockouts = counted.lockouts + 1;
      const seconds = Math.min(MAX_LOCK, this.#lockSeconds * Math.pow(2, lockouts - 1));
      this.#record = { ...counted, fails: 0, lockouts, lockedUntil: now + seconds };
      this.#store.writeJson(KEY, this.#record);
      return { ok: false, locked: true, triesLeft: 0, lockedUntil: this.#record.lockedUntil };
    }
    return { ok: false, locked: false, triesLeft: this.#tries - counted.fails, lockedUntil: 0 };
  }

  /** The stored form, for the snapshot: never the PIN, never the hash. */
  status(now: Seconds): Record<string, unknown> {
    return { set: this.isSet, fails: this.fails, lockedFor: this.lockedFor(now) };
  }
}

function hashPin(salt: string, pin: string): string {
  return toHex(sha256(encodeUtf8(`timeguard-pin:${salt}:${pin}`)));
}
