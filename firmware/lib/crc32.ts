/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). The table is built when the module body
 * runs: on a board that is at link time (preload), so it sits in flash and costs no RAM.
 */

function makeTable(): readonly number[] {
  const t: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t.push(c | 0);
  }
  return Object.freeze(t);
}

/**
 * int32 entries, and the register kept int32 (-1, not 0xffffffff): XS keeps an integer in a slot
 * only while it fits in int32, so unsigned values past 2^31 were doubles in every step of the loop.
 */
const TABLE = makeTable();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLE;
  let c = -1;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
