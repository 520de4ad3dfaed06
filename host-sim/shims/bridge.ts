/**
 * The firmware's line to the host simulator. The engine installs `__tgHostCall` before the bundle
 * runs: under XS it goes through xsnap's synchronous `issueCommand`; under Node it is a plain call
 * into the host. Requests and replies are JSON text, so both engines see exactly the same thing.
 */
declare const __tgHostCall: (request: string) => string;
import { onUnsentCalls, setHold, virtualNow } from "./timer";

export class PowerCut extends Error {
  /** a field, not `this.name = …`: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "PowerCut";
  constructor() {
    super("power cut");
  }
}

export function hostCall(op: string, args?: unknown): any {
  sendHeld(); // an I2C write no read took along (shims/device.ts) goes first, with what was posted before it
  readAhead = null;
  // t: the firmware's time, for the host's clock; hold: the host's next event (timer.ts stops there).
  // What was posted travels with the call and is served first, in order (a failure among it is
  // reported as the batch's, the call then not made), as it was when it crossed on its own first.
  if (posted.length === 0) return answer(op, JSON.parse(__tgHostCall(JSON.stringify({ op, args, t: virtualNow() }))));
  return answer(op, JSON.parse(__tgHostCall(JSON.stringify({ op, args, t: virtualNow(), posted: drain() }))));
}

function answer(op: string, reply: { powerCut?: boolean; hold?: number; error?: string; op?: string; value?: unknown }): any {
  if (reply.powerCut) throw new PowerCut();
  setHold(typeof reply.hold === "number" ? reply.hold : null);
  if (reply.error !== undefined) throw new Error(`host ${reply.op ?? op}: ${reply.error}`);
  return reply.value;
}

/**
 * Posted calls: host calls that answer nothing and cannot fail but for a power cut (a flash write
 * or delete, bytes out of a UART). They wait here, each with the firmware's time when it was
 * made, and cross to the host together, in order: before any other host call, and with the reply
 * to the command that made them (firmware-entry.ts takePosted); those that can make the host act
 * (bytes on a UART: the host's next event, `hold`, may move) also before a timer of the firmware
 * runs that only the host's next event could stop (timer.ts runTimers). The host serves them one
 * by one as separate calls at their own instants, so it sees exactly the calls it saw one round
 * trip each, in the same order; a power cut met among them ends the engine as before (the dying
 * firmware's calls never reach the host either way).
 */
const POSTED_MAX = 64;
let posted: Array<{ op: string; args: unknown; t: number; expect?: string }> = [];
/** a posted call may move the host's next event: send before the firmware's timers go on */
let urgent = false;

/** Posts a call; `movesHost`: it can schedule host events (bytes on a line), not only store. */
export function postCall(op: string, args: unknown, movesHost = true): void {
  sendHeld();
  readAhead = null;
  posted.push({ op, args, t: virtualNow() });
  if (movesHost) urgent = true;
  if (posted.length >= POSTED_MAX) flushPosted();
}

/** The calls posted so far, taken: nothing is posted after. */
function drain(): Array<{ op: string; args: unknown; t: number; expect?: string }> {
  const calls = posted;
  posted = [];
  urgent = false;
  return calls;
}

export function flushPosted(): void {
  if (posted.length === 0) {
    urgent = false;
    return;
  }
  answer("batch", JSON.parse(__tgHostCall(JSON.stringify({ op: "batch", args: drain(), t: virtualNow() }))));
}

/** The calls still posted, for the reply to a command (the host serves them on receiving it). */
export function takePosted(): Array<{ op: string; args: unknown; t: number; expect?: string }> {
  if (held) sendHeld(); // a held write is never left behind a reply (it crosses now, with what was posted before it)
  readAhead = null;
  commands++;
  return drain();
}

const HEX = "0123456789abcdef";
/** "00".."ff" by byte: indexing an array, not a string (XS boxes the string for each index) */
const HEX_PAIRS: readonly string[] = (() => {
  const pairs: string[] = [];
  for (let i = 0; i < 256; i++) pairs.push(HEX.charAt(i >> 4) + HEX.charAt(i & 15));
  return Object.freeze(pairs);
})();

/** Lower-case hex (a stored media file the host reads back, firmware-entry.ts; not the IO path). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]];
  return s;
}

/**
 * Bytes cross the bridge as canonical padded base64 (RFC 4648 section 4; the host's side is
 * host-sim/io/wire-bytes.ts). Under XS one call of xsnap's native `Base64` takes a whole transfer:
 * a 24-byte sensor frame costs 1.5 us out and 0.7 us in, against 5.1 and 11.8 us for the hex loop
 * a byte it replaced (bench/xs-hotpaths.ts). The Node engine's context has no such global: a
 * table a sextet there.
 */
const NativeBase64 = (globalThis as unknown as { Base64?: { encode(b: ArrayBufferView): string; decode(s: string): ArrayBuffer } }).Base64;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** the alphabet by sextet: an array, not a string (XS boxes the string for each index) */
const SEXTET_CHARS: readonly string[] = Object.freeze(ALPHABET.split(""));
/** sextet values by character code (below 128); -1 for anything else */
const SEXTETS = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

/** Bytes for the host. */
export function toWire(bytes: Uint8Array): string {
  if (NativeBase64) return NativeBase64.encode(bytes);
  const c = SEXTET_CHARS;
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += c[v >> 18] + c[(v >> 12) & 63] + c[(v >> 6) & 63] + c[v & 63];
  }
  if (i + 1 === bytes.length) s += c[bytes[i] >> 2] + c[(bytes[i] & 3) << 4] + "==";
  else if (i + 2 === bytes.length) {
    const v = (bytes[i] << 8) | bytes[i + 1];
    s += c[v >> 10] + c[(v >> 4) & 63] + c[(v & 15) << 2] + "=";
  }
  return s;
}

/** The host's bytes back: this runs for every transfer the host sends. Anything but canonical padded base64 is refused. */
export function fromWire(wire: string): Uint8Array<ArrayBuffer> {
  if (typeof wire !== "string" || wire.length % 4 !== 0) throw new Error("host sent bad base64");
  if (wire.length === 0) return new Uint8Array(0);
  const pad = wire.charCodeAt(wire.length - 1) !== 61 ? 0 : wire.charCodeAt(wire.length - 2) !== 61 ? 1 : 2; // "="
  const length = (wire.length >> 2) * 3 - pad;
  if (pad !== 0) {
    // canonical: the bits of the last character before the padding that fall past the bytes are zero
    const code = wire.charCodeAt(wire.length - pad - 1);
    const last = code < 128 ? SEXTETS[code] : -1;
    if (last < 0 || (last & (pad === 2 ? 15 : 3)) !== 0) throw new Error("host sent bad base64");
  }
  if (NativeBase64) {
    // it skips what is not of the alphabet, and a stray "=" ends it: either way fewer bytes
    const out = new Uint8Array(NativeBase64.decode(wire));
    if (out.length !== length) throw new Error("host sent bad base64");
    return out as Uint8Array<ArrayBuffer>;
  }
  const t = SEXTETS;
  const out = new Uint8Array(length);
  const end = wire.length - (pad ? 4 : 0);
  let o = 0;
  for (let i = 0; i < end; i += 4) {
    const v = sextets(t, wire, i, 4);
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (pad === 2) out[o] = sextets(t, wire, end, 2) >> 4;
  else if (pad === 1) {
    const v = sextets(t, wire, end, 3);
    out[o++] = v >> 10;
    out[o] = (v >> 2) & 255;
  }
  return out;
}

/** `n` characters of base64 from `at` as one number, six bits each; refuses anything else */
function sextets(t: Int8Array, wire: string, at: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const code = wire.charCodeAt(at + k);
    const x = code < 128 ? t[code] : -1;
    if (x < 0) throw new Error("host sent bad base64");
    v = (v << 6) | x;
  }
  return v;
}

/** An I2C write kept for the read that follows it on the same device (shims/device.ts I2CPairing). */
let held: (() => void) | null = null;

function sendHeld(): void {
  const send = held;
  held = null;
  if (send) send();
}

/**
 * Read ahead (shims/device.ts): with a write and its read the host sends what the device would
 * give to the next read on it (the first bytes of a read do not depend on how many the controller
 * goes on to clock: an I2C target cannot know). Good only until any other call: the next read on
 * that device, if it is the very next call, takes its bytes from here and is posted, to be served
 * in order as the read it is, the host checking it got the same bytes.
 */
let readAhead: { h: number; bytes: Uint8Array<ArrayBuffer> } | null = null;
/** commands answered so far: what the host said of a device holds until the command's end */
let commands = 0;

export const i2cPairing = {
  hold(send: () => void): void {
    sendHeld();
    held = send;
  },
  release(): void {
    held = null;
  },
  /** what the host said the next read on `h` would give (the reply to a write carried by its read) */
  setAhead(h: number, bytes: Uint8Array<ArrayBuffer>): void {
    readAhead = { h, bytes };
  },
  /** the bytes of a read of `count` on `h` known ahead, or null; either way forgotten */
  takeAhead(h: number, count: number): Uint8Array<ArrayBuffer> | null {
    const a = readAhead;
    readAhead = null;
    return a !== null && a.h === h && count <= a.bytes.length ? a.bytes.slice(0, count) : null;
  },
  /** which command runs (a device's "post" answer holds for it only: between commands the host's devices may change) */
  command(): number {
    return commands;
  },
  /** posts a read whose bytes the firmware took ahead: the host serves it in order and checks them */
  postRead(args: { h: number; count: number; stop: boolean }, expect: string): void {
    posted.push({ op: "io.i2c.read", args, t: virtualNow(), expect });
    if (posted.length >= POSTED_MAX) flushPosted();
  },
};

onUnsentCalls({
  pending: () => urgent || held !== null,
  send: () => {
    flushPosted();
    sendHeld();
  },
});
