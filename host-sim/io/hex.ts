/** Bytes cross the JSON line between host and firmware as lower-case hex (host side). */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Hex from the firmware back to bytes; anything else is refused. */
export function bytesOfHex(s: unknown): Uint8Array {
  if (typeof s !== "string" || !/^([0-9a-f]{2})*$/.test(s)) throw new Error("bad hex");
  return new Uint8Array(Buffer.from(s, "hex"));
}
