/**
 * Bytes cross the JSON line between host and firmware as canonical padded base64 (RFC 4648
 * section 4), the host's side: the engine's is host-sim/shims/bridge.ts (toWire, fromWire), where
 * xsnap's native Base64 takes a whole transfer in one call.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

export function wireOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Base64 from the firmware back to bytes, at most `max` of them; anything but canonical padded base64 is refused (Buffer would skip it silently). */
export function bytesOfWire(s: unknown, max = 1 << 20): Uint8Array {
  if (typeof s !== "string" || s.length % 4 !== 0) throw new Error("bad bytes: canonical padded base64 expected");
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  if ((s.length / 4) * 3 - pad > max) throw new Error(`bad bytes: more than ${max}`);
  if (!BASE64.test(s)) throw new Error("bad bytes: canonical padded base64 expected");
  return new Uint8Array(Buffer.from(s, "base64"));
}
