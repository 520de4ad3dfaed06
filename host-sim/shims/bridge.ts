/**
 * The firmware's line to the host simulator. The engine installs `__tgHostCall` before the bundle
 * runs: under XS it goes through xsnap's synchronous `issueCommand`; under Node it is a plain call
 * into the host. Requests and replies are JSON text, so both engines see exactly the same thing.
 */
declare const __tgHostCall: (request: string) => string;
import { setHold, virtualNow } from "./timer";

export class PowerCut extends Error {
  /** a field, not `this.name = …`: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "PowerCut";
  constructor() {
    super("power cut");
  }
}

export function hostCall(op: string, args?: unknown): any {
  // t: the firmware's time, for the host's clock; hold: the host's next event (timer.ts stops there)
  const reply = JSON.parse(__tgHostCall(JSON.stringify({ op, args, t: virtualNow() })));
  if (reply.powerCut) throw new PowerCut();
  setHold(typeof reply.hold === "number" ? reply.hold : null);
  if (reply.error !== undefined) throw new Error(`host ${op}: ${reply.error}`);
  return reply.value;
}

const HEX = "0123456789abcdef";

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}

/** One hex digit's value from its character code (0-9, a-f, A-F); -1 for anything else. */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The host's hex back to bytes (character codes, not parseInt on substrings: this runs for every byte the host sends). */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (typeof hex !== "string" || hex.length % 2 !== 0) throw new Error("host sent bad hex");
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const hi = nibble(hex.charCodeAt(j));
    const lo = nibble(hex.charCodeAt(j + 1));
    if (hi < 0 || lo < 0) throw new Error("host sent bad hex");
    out[i] = (hi << 4) | lo;
  }
  return out;
}
