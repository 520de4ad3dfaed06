import { frozen } from "./frozen";
import { compressWords } from "./sha256-rounds";

/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) on Uint8Array: the sensor link's MAC, the
 * card record's MAC and the PIN hash all use this one.
 * Small and allocation-light: a MAC allocates only its 32-byte result (the inner digest goes from
 * state words into the outer block's words, never through bytes), working in a scratch its key
 * was given; keys used by one owner share one (the sensor table's keys, bench/memory.ts). The
 * compression itself is `sha256-rounds.ts`, written out.
 *
 * Written in int32 arithmetic (`| 0`, Int32Array words and states): XS keeps
 * an integer in a slot only while it fits in int32, so every `>>> 0` that yields 2^31 or more made
 * a double and slowed each operation after it. The bits are the same; only bytes out read the
 * words unsigned. A short frame's MAC under xsnap: 352 us before both changes (bench/xs-hotpaths.ts).
 */
/**
 * Working memory of a hash: the block being compressed as sixteen int32 words, the partial block
 * of a message, and a state. Made at run time, never by the module body: on the board a typed
 * array made while preloading is in flash, and writing one of its elements throws (the SDK's
 * documentation/xs/XS linker warnings.md; tests/board-conditions checks it on the host).
 * About 25 heap slots (three typed arrays and their buffers): HMAC keys that one owner uses in
 * turn share one instead of keeping one each (a MAC runs to its end before the next begins).
 */
export class Sha256Scratch {
  readonly w = new Int32Array(16);
  readonly block = new Uint8Array(64);
  readonly state = new Int32Array(8);
}

/** Loads a 64-byte block at `at` into the scratch's words. */
function load(s: Sha256Scratch, block: Uint8Array, at: number): void {
  const w = s.w;
  for (let i = 0, j = at; i < 16; i++, j += 4) w[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
}

function compress(s: Sha256Scratch, h: Int32Array, block: Uint8Array, at: number): void {
  load(s, block, at);
  compressWords(h, s.w);
}

const IV: readonly number[] = frozen([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/**
 * Hashes `parts` on from state `h` (which has already taken `done` bytes, a multiple of 64) and
 * pads: the final state is in `h` (words), nothing is allocated.
 */
function absorb(s: Sha256Scratch, h: Int32Array, done: number, parts: Uint8Array[]): void {
  const block = s.block;
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
      compress(s, h, block, 0);
      fill = 0;
    }
    for (; i + 64 <= n; i += 64) compress(s, h, p, i);
    if (i < n) {
      block.set(i === 0 ? p : p.subarray(i), 0);
      fill = n - i;
    }
  }
  block[fill++] = 0x80;
  if (fill > 56) {
    block.fill(0, fill);
    compress(s, h, block, 0);
    fill = 0;
  }
  block.fill(0, fill, 56);
  load(s, block, 0);
  // the length in bits, big-endian over words 14 and 15
  s.w[14] = Math.floor(total / 0x20000000) | 0;
  s.w[15] = total << 3;
  compressWords(h, s.w);
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
  const s = new Sha256Scratch();
  const h = s.state;
  for (let i = 0; i < 8; i++) h[i] = IV[i];
  absorb(s, h, 0, parts);
  return digest(h);
}

/**
 * An HMAC-SHA256 key (RFC 2104) with its inner and outer pad blocks already hashed: each MAC
 * then costs two compressions fewer (a sensor's key is used for every frame it sends). Its two
 * states are views of one buffer (a buffer fewer; copied by the native `set`, a loop of words cost
 * a MAC 1.6% more XS compute) and it works in `scratch`: its own unless given one to share.
 */
export class HmacKey {
  #inner: Int32Array;
  #outer: Int32Array;
  #s: Sha256Scratch;

  constructor(key: Uint8Array, scratch: Sha256Scratch = new Sha256Scratch()) {
    this.#s = scratch;
    const states = new ArrayBuffer(64);
    this.#inner = new Int32Array(states, 0, 8);
    this.#outer = new Int32Array(states, 32, 8);
    const k = key.length > 64 ? sha256(key) : key;
    padState(scratch, k, 0x36, this.#inner);
    padState(scratch, k, 0x5c, this.#outer);
  }

  /** HMAC-SHA256 of the concatenated `parts`. */
  mac(...parts: Uint8Array[]): Uint8Array {
    const s = this.#s;
    const h = s.state;
    h.set(this.#inner);
    absorb(s, h, 64, parts);
    // The outer hash's one block: the inner digest (its state words as they are), 0x80, zeros,
    // and the length of opad + digest, 96 bytes = 768 bits.
    const w = s.w;
    for (let i = 0; i < 8; i++) w[i] = h[i];
    w[8] = 0x80000000 | 0;
    for (let i = 9; i < 15; i++) w[i] = 0;
    w[15] = 768;
    h.set(this.#outer);
    compressWords(h, w);
    return digest(h);
  }
}

/** The state after the key XOR `x` as one block, into `into` (8 words). */
function padState(s: Sha256Scratch, k: Uint8Array, x: number, into: Int32Array): void {
  const pad = s.block;
  const h = s.state;
  for (let i = 0; i < 64; i++) pad[i] = (i < k.length ? k[i] : 0) ^ x;
  for (let i = 0; i < 8; i++) h[i] = IV[i];
  compress(s, h, pad, 0);
  into.set(h);
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
