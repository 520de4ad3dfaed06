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
/** "00".."ff" by byte: indexing an array, not a string (XS boxes the string for each index,
 * about four heap slots a byte, which the board's own IO never pays; bench/memory.ts) */
const HEX_PAIRS: readonly string[] = (() => {
  const pairs: string[] = [];
  for (let i = 0; i < 256; i++) pairs.push(HEX.charAt(i >> 4) + HEX.charAt(i & 15));
  return Object.freeze(pairs);
})();

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]];
  return s;
}

/** hex digit values by character code (0-9, a-f, A-F); -1 for anything else */
const NIBBLES = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) t[97 + i] = t[65 + i] = 10 + i;
  return t;
})();
/** xsnap's TextEncoder gives a hex string's character codes in one native call (charCodeAt, a
 * call a character, is what made this twice as slow under XS; the Node engine's context has none) */
const Encoder = (globalThis as unknown as { TextEncoder?: new () => { encode(s: string): Uint8Array } }).TextEncoder;
const encoder = Encoder ? new Encoder() : null;

/** The host's hex back to bytes: this runs for every byte the host sends. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (typeof hex !== "string" || hex.length % 2 !== 0) throw new Error("host sent bad hex");
  const out = new Uint8Array(hex.length >> 1);
  const t = NIBBLES;
  if (encoder) {
    const codes = encoder.encode(hex); // anything not ASCII comes out as bytes >= 0x80: not hex digits
    if (codes.length !== hex.length) throw new Error("host sent bad hex");
    for (let i = 0, j = 0; i < out.length; i++, j += 2) {
      const hi = t[codes[j]];
      const lo = t[codes[j + 1]];
      if ((hi | lo) < 0) throw new Error("host sent bad hex");
      out[i] = (hi << 4) | lo;
    }
    return out;
  }
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const a = hex.charCodeAt(j);
    const b = hex.charCodeAt(j + 1);
    const hi = a < 256 ? t[a] : -1;
    const lo = b < 256 ? t[b] : -1;
    if ((hi | lo) < 0) throw new Error("host sent bad hex");
    out[i] = (hi << 4) | lo;
  }
  return out;
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
let readAhead: { h: number; hex: string } | null = null;
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
  setAhead(h: number, hex: string): void {
    readAhead = { h, hex };
  },
  /** the bytes of a read of `count` on `h` known ahead (hex), or null; either way forgotten */
  takeAhead(h: number, count: number): string | null {
    const a = readAhead;
    readAhead = null;
    return a !== null && a.h === h && count * 2 <= a.hex.length ? a.hex.slice(0, count * 2) : null;
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
