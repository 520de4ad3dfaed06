import { frozen } from "./frozen";

/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) on Uint8Array: the sensor link's MAC, the
 * card record's MAC and the PIN hash all use this one.
 * Small and allocation-light: one 64-word schedule and one 64-byte block reused per call, and a
 * MAC allocates only its 32-byte result (the inner digest goes from state words into the outer
 * block's words, never through bytes).
 *
 * Written in int32 arithmetic (`| 0`, plain arrays of int32 values, Int32Array states): XS keeps
 * an integer in a slot only while it fits in int32, so every `>>> 0` that yields 2^31 or more made
 * a double and slowed each operation after it (bench/xs-hotpaths.ts: a short frame's MAC took
 * 352 us, now well under that). The bits are the same; only bytes out read the words unsigned.
 */
const K: readonly number[] = frozen(
  [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ].map((k) => k | 0),
);
/** the message schedule (int32 values); words 0..15 are the block being compressed */
const W: number[] = [];
for (let i = 0; i < 64; i++) W.push(0);
/** the partial block of a message being hashed */
const BLOCK = new Uint8Array(64);
/** a working state, so a MAC allocates none */
const STATE = new Int32Array(8);

/** Loads a 64-byte block at `at` into W[0..15]. */
function load(block: Uint8Array, at: number): void {
  const w = W;
  for (let i = 0, j = at; i < 16; i++, j += 4) w[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
}

/**
 * Compresses the block in W[0..15] into state `s`. The rounds go eight a turn with the working
 * variables renamed rather than moved along (eight assignments fewer a round): 18% fewer XS
 * operations a block (xsnap's meter), the same arithmetic.
 */
function compressW(s: Int32Array): void {
  const w = W;
  const k = K;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    w[i] = (w[i - 16] + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w[i - 7] + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
  }
  let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  let t = 0;
  for (let i = 0; i < 64; i += 8) {
    t = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + k[i + 0] + w[i + 0]) | 0;
    d = (d + t) | 0;
    h = (t + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
    t = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f))) + k[i + 1] + w[i + 1]) | 0;
    c = (c + t) | 0;
    g = (t + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) | (b & (h | a)))) | 0;
    t = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e))) + k[i + 2] + w[i + 2]) | 0;
    b = (b + t) | 0;
    f = (t + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) | (a & (g | h)))) | 0;
    t = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d))) + k[i + 3] + w[i + 3]) | 0;
    a = (a + t) | 0;
    e = (t + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (h & (f | g)))) | 0;
    t = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c))) + k[i + 4] + w[i + 4]) | 0;
    h = (h + t) | 0;
    d = (t + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)))) | 0;
    t = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + (b ^ (h & (a ^ b))) + k[i + 5] + w[i + 5]) | 0;
    g = (g + t) | 0;
    c = (t + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)))) | 0;
    t = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (h ^ a))) + k[i + 6] + w[i + 6]) | 0;
    f = (f + t) | 0;
    b = (t + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)))) | 0;
    t = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h))) + k[i + 7] + w[i + 7]) | 0;
    e = (e + t) | 0;
    a = (t + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)))) | 0;
  }
  s[0] = s[0] + a;
  s[1] = s[1] + b;
  s[2] = s[2] + c;
  s[3] = s[3] + d;
  s[4] = s[4] + e;
  s[5] = s[5] + f;
  s[6] = s[6] + g;
  s[7] = s[7] + h;
}

function compress(h: Int32Array, block: Uint8Array, at: number): void {
  load(block, at);
  compressW(h);
}

const IV: readonly number[] = frozen([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/**
 * Hashes `parts` on from state `h` (which has already taken `done` bytes, a multiple of 64) and
 * pads: the final state is in `h` (words), nothing is allocated.
 */
function absorb(h: Int32Array, done: number, parts: Uint8Array[]): void {
  const block = BLOCK;
  let fill = 0;
  let total = done;
  for (const p of parts) {
    const n = p.length;
    total += n;
    let i = 0;
    if (fill > 0) {
      if (fill + n < 64) {
        block.set(p, fill);
        fill += n;
        continue;
      }
      i = 64 - fill;
      block.set(p.subarray(0, i), fill);
      compress(h, block, 0);
      fill = 0;
    }
    for (; i + 64 <= n; i += 64) compress(h, p, i);
    if (i < n) {
      block.set(i === 0 ? p : p.subarray(i), 0);
      fill = n - i;
    }
  }
  block[fill++] = 0x80;
  if (fill > 56) {
    block.fill(0, fill);
    compress(h, block, 0);
    fill = 0;
  }
  block.fill(0, fill, 56);
  load(block, 0);
  // the length in bits, big-endian over words 14 and 15
  W[14] = Math.floor(total / 0x20000000) | 0;
  W[15] = total << 3;
  compressW(h);
}

/** The digest of state `h`, as 32 bytes. */
function digest(h: Int32Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0, j = 0; i < 8; i++, j += 4) {
    const v = h[i];
    out[j] = v >>> 24;
    out[j + 1] = v >>> 16;
    out[j + 2] = v >>> 8;
    out[j + 3] = v;
  }
  return out;
}

/** SHA-256 of the concatenation of `parts`, as 32 bytes. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = STATE;
  for (let i = 0; i < 8; i++) h[i] = IV[i];
  absorb(h, 0, parts);
  return digest(h);
}

/**
 * An HMAC-SHA256 key (RFC 2104) with its inner and outer pad blocks already hashed: each MAC
 * then costs two compressions fewer (a sensor's key is used for every frame it sends).
 */
export class HmacKey {
  #inner = new Int32Array(IV);
  #outer = new Int32Array(IV);

  constructor(key: Uint8Array) {
    const k = key.length > 64 ? sha256(key) : key;
    const ipad = new Uint8Array(64);
    const opad = new Uint8Array(64);
    for (let i = 0; i < 64; i++) {
      const b = i < k.length ? k[i] : 0;
      ipad[i] = b ^ 0x36;
      opad[i] = b ^ 0x5c;
    }
    compress(this.#inner, ipad, 0);
    compress(this.#outer, opad, 0);
  }

  /** HMAC-SHA256 of the concatenated `parts`. */
  mac(...parts: Uint8Array[]): Uint8Array {
    const h = STATE;
    h.set(this.#inner);
    absorb(h, 64, parts);
    // The outer hash's one block: the inner digest (its state words as they are), 0x80, zeros,
    // and the length of opad + digest, 96 bytes = 768 bits.
    const w = W;
    for (let i = 0; i < 8; i++) w[i] = h[i];
    w[8] = 0x80000000 | 0;
    for (let i = 9; i < 15; i++) w[i] = 0;
    w[15] = 768;
    h.set(this.#outer);
    compressW(h);
    return digest(h);
  }
}

/** HMAC-SHA256 (RFC 2104) of the concatenated `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return new HmacKey(key).mac(...parts);
}

const HEX_DIGITS = "0123456789abcdef";

/** Lower-case hex of bytes (for digests shown or stored as text). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX_DIGITS[bytes[i] >> 4] + HEX_DIGITS[bytes[i] & 15];
  return s;
}
