import { FieldError, isRecord } from "../core/errors";
import { type I2cBusConfig, intField, readI2cBus, sectionOf } from "../app/config";
import { fromHex } from "./layout";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** hh:mm */
const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

export type CardPolicy = "stop" | "emergency";

/** The card component's settings, from the manifest's `config.card` (docs/card.md). */
export interface CardConfig {
  keyA: Uint8Array;
  macKey: Uint8Array;
  /** a balance above this is refused */
  maxCounts: number;
  /** how often the reader looks for a card while there is none */
  pollMs: number;
  /** how often it checks that the card is still there */
  presenceMs: number;
  /** how often counts are collected while guarding */
  collectMs: number;
  /** what happens when the card is empty or absent while guarding */
  policy: CardPolicy;
  /** emergency credit surcharge, per-mille of the counts guarded on credit */
  surchargePermille: number;
  /** the night window, minutes of the local day: guarding is never stopped inside it */
  nightFrom: number;
  nightTo: number;
  /** seconds without credit before the policy applies (time to swap cards) */
  graceSeconds: number;
  /** the low-credit threshold in counts; null: the counts for the next 24 hours of the plan */
  lowCounts: number | null;
  /** the PN532 on the shared I2C bus (`config.i2c`, `config.pn532.address`) */
  reader: I2cBusConfig & { address: number };
  /** the slot's card-present contact: its GPIO and the level that means "a card is in"; null: none wired (the reader is polled) */
  detect: { pin: number; present: 0 | 1 } | null;
}

function int(v: unknown, fallback: number, field: string, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new FieldError(`config.card.${field}`, `must be an integer from ${min} to ${max}`);
  return v;
}

function clock(v: unknown, fallback: number, field: string): number {
  if (v === undefined) return fallback;
  const m = typeof v === "string" ? CLOCK_TIME.exec(v) : null;
  if (!m) throw new FieldError(`config.card.${field}`, "must be a time of day like 22:00");
  return Number(m[1]) * 60 + Number(m[2]);
}

function readDetect(v: unknown): CardConfig["detect"] {
  if (v === undefined || v === null) return null;
  if (!isRecord(v)) throw new FieldError("config.card.detect", "must be {pin, present} or null");
  const present = v.present ?? 1;
  if (present !== 0 && present !== 1) throw new FieldError("config.card.detect.present", "must be 0 or 1 (the level while a card is in)");
  if (v.pin === undefined) throw new FieldError("config.card.detect.pin", "is required (the GPIO of the card-present contact)");
  return { pin: int(v.pin, 0, "detect.pin", 0, 39), present };
}

/** The card component's one validator: `config.card`, the reader's `config.pn532` and the bus. */
export function readCardConfig(config: Readonly<Record<string, unknown>>): CardConfig {
  const c = isRecord(config.card) ? config.card : {};
  const keyA = fromHex(c.keyA, 6);
  if (!keyA) throw new FieldError("config.card.keyA", "must be 12 hex digits (the terminal's key A)");
  const macKey = fromHex(c.macKey, 16);
  if (!macKey) throw new FieldError("config.card.macKey", "must be 32 hex digits (the record MAC key)");
  const policy = c.policy ?? "stop";
  if (policy !== "stop" && policy !== "emergency") throw new FieldError("config.card.policy", 'must be "stop" or "emergency"');
  const night = isRecord(c.night) ? c.night : {};
  return {
    keyA,
    macKey,
    maxCounts: int(c.maxCounts, 100000, "maxCounts", 1, 0x7fffffff),
    pollMs: int(c.pollMs, 2000, "pollMs", 100, 600000),
    presenceMs: int(c.presenceMs, 10000, "presenceMs", 100, 600000),
    collectMs: int(c.collectMs, 60000, "collectMs", 1000, 3600000),
    policy,
    surchargePermille: int(c.surchargePermille, 200, "surchargePermille", 0, 10000),
    nightFrom: clock(night.from, 22 * 60, "night.from"),
    nightTo: clock(night.to, 6 * 60, "night.to"),
    graceSeconds: int(c.graceSeconds, 120, "graceSeconds", 0, 86400),
    lowCounts: c.lowCounts === undefined || c.lowCounts === null ? null : int(c.lowCounts, 0, "lowCounts", 0, 0x7fffffff),
    reader: { ...readI2cBus(config), address: intField(sectionOf(config, "pn532").address, 0x24, "config.pn532.address", 0x08, 0x77) },
    detect: readDetect(c.detect),
  };
}
