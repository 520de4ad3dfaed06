/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). The table is built when the module body
 * runs: on a board that is at link time (preload), so it sits in flash and costs no RAM.
 */

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const TABLE = makeTable();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLE;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
