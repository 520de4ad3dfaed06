/** Bytes cross the JSON line between host and firmware as lower-case hex (host side). */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Hex from the firmware back to bytes; anything else is refused. */
export function bytesOfHex(s: unknown): Uint8Array {
  // even length and hex digits only (a class, not a repeated group: this runs for every transfer)
  if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new Error("bad hex");
  return new Uint8Array(Buffer.from(s, "hex"));
}
