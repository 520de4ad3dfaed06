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

export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
