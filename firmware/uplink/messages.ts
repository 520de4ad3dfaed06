import { frozen } from "../lib/frozen";
import { CborValue, decodeCbor, encodeCbor } from "../lib/cbor";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** an envelope key */
const ENVELOPE_KEY = /^[0-4]$/;

/**
 * Terminal ↔ center messages (docs/protocols.md). One schema table serves both sides: the terminal
 * encodes with its own CBOR codec, the center decodes with cbor-x and validates here.
 *
 * Every message is a CBOR map with small integer keys:
 *   0 kind (uint), 1 terminal id (text), 2 sequence number (uint, per terminal, never reused),
 *   3 time (uint, seconds since 1970, when the event happened), 4 body (map, keys 1… per kind).
 * Uplink goes to topic `tg/<terminal>/up`, downlink comes on `tg/<terminal>/down`.
 */

export type FieldType = "uint" | "int" | "text" | "bytes" | "bool" | "list" | "any";

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly optional?: boolean;
  /** for text: the longest accepted; for bytes and lists: the most elements */
  readonly max?: number;
}

export interface MessageSpec {
  readonly kind: number;
  readonly direction: "up" | "down";
  /** body field i has key i + 1 */
  readonly fields: readonly FieldSpec[];
}

const u = (name: string, optional = false): FieldSpec => ({ name, type: "uint", optional });
const i = (name: string, optional = false): FieldSpec => ({ name, type: "int", optional });
const t = (name: string, max = 64, optional = false): FieldSpec => ({ name, type: "text", max, optional });
const l = (name: string, max = 256, optional = false): FieldSpec => ({ name, type: "list", max, optional });

export const MESSAGES = frozen({
  // -- uplink --
  /** DESIGN §3 initial-setting request and the terminal's settings */
  registration: { kind: 1, direction: "up", fields: [t("firmware"), i("zoneMinutes"), { name: "tariff", type: "any" }, l("sensors")] },
  /** the sensor table: [[id, type, connected, operating, battery], …] */
  sensors: { kind: 2, direction: "up", fields: [l("table")] },
  /** the plan as the terminal stores it (planToJson) */
  plan: { kind: 3, direction: "up", fields: [{ name: "plan", type: "any" }] },
  /** one guard period carried out: its row, its intervals, money and counts */
  period: {
    kind: 4,
    direction: "up",
    fields: [
      u("start"),
      u("end"),
      u("pattern"),
      u("sensors"),
      u("cameras"),
      u("yenPerHour"),
      u("guardedSeconds"),
      u("baseYen"),
      u("yen"),
      u("images"),
      l("intervals", 64), // [[from, to, sensor, camera, door, smoke, tariffVersion, permille, images], …] operating devices by kind
      u("rateSeconds"),
      u("permille"),
      u("countsTaken", true),
      t("cardId", 32, true),
      u("debtYen", true),
      t("contract", 16),
      u("tariffVersion", true),
      u("owedYen", true), // the contract's owed after this period (Σ segments, core/contract.ts)
      u("takenTotal", true), // counts the card has given toward the fee so far (cumulative)
      u("surchargeTotal", true), // counts of emergency surcharge taken so far (cumulative)
    ],
  },
  /** an alarm: what, where, and the media unit that follows */
  alarm: {
    kind: 5,
    direction: "up",
    fields: [u("alarmId"), t("sensor", 8), t("event", 16), u("contactId"), u("pattern"), u("mediaId", true), u("images", true), u("clips", true)],
  },
  /** a chunk of a media unit (JPEG images and a WAV clip) */
  media: {
    kind: 6,
    direction: "up",
    fields: [u("mediaId"), u("alarmId"), u("item"), u("items"), t("type", 8), u("part"), u("parts"), { name: "data", type: "bytes", max: 16384 }],
  },
  /** the daily test call (Contact ID 602) */
  test: { kind: 7, direction: "up", fields: [u("boots"), u("outbox"), i("signal", true), u("uptime", true), u("tariffVersion", true)] },
  /** card events: inserted, removed, deducted, topup, low, empty, debt, refused */
  card: { kind: 8, direction: "up", fields: [t("event", 16), t("cardId", 32, true), i("counts", true), i("delta", true), u("debtYen", true), t("note", 120, true)] },
  /** a warning the terminal shows: card low, sensor lost, link failing, … */
  warning: { kind: 9, direction: "up", fields: [t("code", 32), t("text", 120)] },
  // -- downlink --
  registrationResult: { kind: 101, direction: "down", fields: [{ name: "ok", type: "bool" }, t("site", 64, true), t("message", 120, true)] },
  timeSync: { kind: 102, direction: "down", fields: [u("time")] },
  dispatch: { kind: 103, direction: "down", fields: [u("alarmId"), t("status", 16), t("note", 120, true)] },
  planChange: { kind: 104, direction: "down", fields: [{ name: "plan", type: "any" }] },
  /** a tariff version from the center (tariffToJson, with its version): applies from receipt on */
  tariff: { kind: 105, direction: "down", fields: [u("version"), { name: "tariff", type: "any" }] },
} as const satisfies Record<string, MessageSpec>);

export type MessageName = keyof typeof MESSAGES;

export interface Message {
  name: MessageName;
  terminal: string;
  seq: number;
  time: number;
  body: Record<string, unknown>;
}

export class MessageError extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "MessageError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export function upTopic(terminal: string): string {
  return `tg/${terminal}/up`;
}

export function downTopic(terminal: string): string {
  return `tg/${terminal}/down`;
}

const BY_KIND: Record<number, MessageName> = {};
for (const name of Object.keys(MESSAGES) as MessageName[]) BY_KIND[MESSAGES[name].kind] = name;
frozen(BY_KIND);

const TERMINAL_ID = /^[A-Za-z0-9-]{1,16}$/;

/** The message as a CBOR value (integer-keyed maps), for any CBOR encoder. */
export function messageToCbor(m: Message): Map<number, CborValue> {
  const spec: MessageSpec = MESSAGES[m.name];
  const body = new Map<number, CborValue>();
  spec.fields.forEach((f, index) => {
    const v = m.body[f.name];
    if (v === undefined) {
      if (!f.optional) throw new MessageError(f.name, "is required");
      return;
    }
    check(f, v, f.name);
    body.set(index + 1, v as CborValue);
  });
  return new Map<number, CborValue>([
    [0, spec.kind],
    [1, m.terminal],
    [2, m.seq],
    [3, m.time],
    [4, body],
  ]);
}

export function encodeMessage(m: Message): Uint8Array {
  return encodeCbor(messageToCbor(m));
}

export function decodeMessageBytes(bytes: Uint8Array): Message {
  return messageFromCbor(decodeCbor(bytes));
}

function get(container: unknown, key: number): unknown {
  if (container instanceof Map) return container.get(key);
  if (container && typeof container === "object" && !Array.isArray(container) && !(container instanceof Uint8Array)) {
    return (container as Record<string, unknown>)[String(key)];
  }
  return undefined;
}

function keysOf(container: unknown): string[] {
  if (container instanceof Map) return Array.from(container.keys(), String);
  return Object.keys(container as object);
}

function isMapLike(v: unknown): boolean {
  return v instanceof Map || (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array));
}

/** Validates a decoded CBOR value (a Map, or an object with numeric keys as cbor-x gives). */
export function messageFromCbor(value: unknown): Message {
  if (!isMapLike(value)) throw new MessageError("message", "must be a map");
  for (const k of keysOf(value)) if (!ENVELOPE_KEY.test(k)) throw new MessageError(`key ${k}`, "unknown envelope key");
  const kind = get(value, 0);
  if (typeof kind !== "number" || !Number.isInteger(kind) || BY_KIND[kind] === undefined) throw new MessageError("kind", `unknown kind ${String(kind)}`);
  const name = BY_KIND[kind];
  const terminal = get(value, 1);
  if (typeof terminal !== "string" || !TERMINAL_ID.test(terminal)) throw new MessageError("terminal", "must be a terminal id");
  const seq = get(value, 2);
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) throw new MessageError("seq", "must be a non-negative integer");
  const time = get(value, 3);
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) throw new MessageError("time", "must be seconds since 1970");
  const rawBody = get(value, 4);
  if (!isMapLike(rawBody)) throw new MessageError("body", "must be a map");
  const spec: MessageSpec = MESSAGES[name];
  const body: Record<string, unknown> = {};
  for (const k of keysOf(rawBody)) {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 1 || n > spec.fields.length) throw new MessageError(`${name}.${k}`, "unknown field");
  }
  spec.fields.forEach((f, index) => {
    const v = get(rawBody, index + 1);
    if (v === undefined || v === null) {
      if (!f.optional) throw new MessageError(`${name}.${f.name}`, "is required");
      return;
    }
    check(f, v, `${name}.${f.name}`);
    body[f.name] = v;
  });
  return { name, terminal, seq, time, body };
}

function check(f: FieldSpec, v: unknown, path: string): void {
  switch (f.type) {
    case "uint":
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new MessageError(path, "must be a non-negative integer");
      return;
    case "int":
      if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new MessageError(path, "must be an integer");
      return;
    case "text":
      if (typeof v !== "string") throw new MessageError(path, "must be text");
      if (f.max !== undefined && v.length > f.max) throw new MessageError(path, `longer than ${f.max} characters`);
      return;
    case "bytes":
      if (!(v instanceof Uint8Array)) throw new MessageError(path, "must be bytes");
      if (f.max !== undefined && v.length > f.max) throw new MessageError(path, `more than ${f.max} bytes`);
      return;
    case "bool":
      if (typeof v !== "boolean") throw new MessageError(path, "must be true or false");
      return;
    case "list":
      if (!Array.isArray(v)) throw new MessageError(path, "must be a list");
      if (f.max !== undefined && v.length > f.max) throw new MessageError(path, `more than ${f.max} elements`);
      return;
    case "any":
      return;
  }
}
