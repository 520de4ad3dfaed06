/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), four bytes a step ("slicing by 4": four
 * tables, T0 the classic one and Tk[n] the CRC of n followed by k zero bytes). The tables are built
 * when the module body runs: on a board that is at link time (preload), so they sit in flash and
 * cost no RAM. Every flash record's CRC is taken with this (platform/store.ts), the 1.6 KB card
 * ledger's at each deduction: a quarter fewer XS operations a byte than one byte a step.
 *
 * int32 entries, and the register kept int32 (-1, not 0xffffffff): XS keeps an integer in a slot
 * only while it fits in int32, so unsigned values past 2^31 were doubles in every step of the loop.
 */
function makeTables(): readonly (readonly number[])[] {
  const t0: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0.push(c | 0);
  }
  const tables = [t0];
  for (let k = 1; k < 4; k++) {
    const prev = tables[k - 1];
    tables.push(prev.map((c) => t0[c & 0xff] ^ (c >>> 8)));
  }
  return Object.freeze(tables.map((t) => Object.freeze(t)));
}

const [T0, T1, T2, T3] = makeTables();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t0 = T0;
  const t1 = T1;
  const t2 = T2;
  const t3 = T3;
  // `>>` and a mask, never `>>>` on the register: XS shifts a negative int32 logically by way of a
  // double and fmod (fxToUnsigned), arithmetically on the integer path
  let c = -1;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t3[c & 0xff] ^ t2[(c >> 8) & 0xff] ^ t1[(c >> 16) & 0xff] ^ t0[(c >> 24) & 0xff];
  }
  for (; i < end; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ ((c >> 8) & 0xffffff);
  return ~c >>> 0;
}
