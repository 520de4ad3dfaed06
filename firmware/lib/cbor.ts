/**
 * A small CBOR (RFC 8949) codec for the terminal's messages, XS-safe (Uint8Array and DataView only, no
 * TextEncoder). It covers what our payloads use:
 *
 * - integers in the safe range ±(2^53 − 1) (anything larger is rejected, never rounded),
 * - byte strings (Uint8Array), text strings (UTF-8, validated on decode),
 * - arrays, maps with integer or text keys (decoded as `Map`, duplicate keys rejected),
 * - false, true, null, undefined,
 * - floats: encoded as float64 only for non-integer numbers (and −0); float16/32/64 decoded.
 *
 * Not supported, rejected with a CborError: indefinite lengths, tags (except tag 64 around a byte
 * string, which is how cbor-x marks a Uint8Array), other simple values, bigints.
 */

import { decodeUtf8Strict, utf8Length, writeUtf8 } from "./utf8-strict";

export type CborValue =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<number | string, CborValue>
  | { [key: string]: CborValue };

/** A value could not be encoded or some bytes could not be decoded; `offset` is where, if known. */
export class CborError extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "CborError";
  readonly offset: number;
  constructor(message: string, offset = -1) {
    super(offset >= 0 ? `cbor: ${message} at byte ${offset}` : `cbor: ${message}`);
    this.offset = offset;
  }
}

export const CBOR_MAX_DEPTH = 16;

const TWO_32 = 0x100000000;
const MAX_SAFE = 9007199254740991; // 2^53 − 1

// ---------------------------------------------------------------------------------------------
// Encoder

/** A growable output buffer: doubles when full, never pushes byte by byte into an array. */
export class CborWriter {
  #buf: Uint8Array;
  #view: DataView | null = null;
  #pos = 0;

  constructor(initialSize = 64) {
    this.#buf = new Uint8Array(initialSize > 8 ? initialSize : 8);
  }

  get length(): number {
    return this.#pos;
  }

  /** Starts over, keeping the buffer. */
  reset(): void {
    this.#pos = 0;
  }

  /** A copy of what was written. */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  #room(n: number): Uint8Array {
    const need = this.#pos + n;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      if (size < need) size = need;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#pos));
      this.#buf = next;
      this.#view = null;
    }
    return this.#buf;
  }

  #dataView(): DataView {
    return this.#view ?? (this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength));
  }

  /** The initial byte and argument of a data item, in its shortest form. */
  head(major: number, arg: number): void {
    const m = major << 5;
    if (arg < 24) {
      const b = this.#room(1);
      b[this.#pos++] = m | arg;
    } else if (arg < 0x100) {
      const b = this.#room(2);
      b[this.#pos++] = m | 24;
      b[this.#pos++] = arg;
    } else if (arg < 0x10000) {
      const b = this.#room(3);
      b[this.#pos++] = m | 25;
      b[this.#pos++] = arg >> 8;
      b[this.#pos++] = arg & 0xff;
    } else if (arg < TWO_32) {
      const b = this.#room(5);
      b[this.#pos++] = m | 26;
      this.#dataView().setUint32(this.#pos, arg);
      this.#pos += 4;
    } else {
      const b = this.#room(9);
      b[this.#pos++] = m | 27;
      const v = this.#dataView();
      v.setUint32(this.#pos, Math.floor(arg / TWO_32));
      v.setUint32(this.#pos + 4, arg % TWO_32);
      this.#pos += 8;
    }
  }

  float64(value: number): void {
    this.#room(9)[this.#pos++] = 0xfb;
    // NaN is written in its one canonical form: engines differ on keeping a NaN's payload bits.
    if (value !== value) {
      this.#dataView().setUint32(this.#pos, 0x7ff80000);
      this.#dataView().setUint32(this.#pos + 4, 0);
    } else this.#dataView().setFloat64(this.#pos, value);
    this.#pos += 8;
  }

  byte(value: number): void {
    this.#room(1)[this.#pos++] = value;
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.length).set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  text(s: string): void {
    const n = utf8Length(s);
    this.head(3, n);
    this.#pos = writeUtf8(s, this.#room(n), this.#pos);
  }
}

function isPlainObject(value: object): value is { [key: string]: CborValue } {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encodeInto(w: CborWriter, value: CborValue, depth: number): void {
  switch (typeof value) {
    case "number":
      if (Number.isInteger(value) && !(value === 0 && 1 / value < 0)) {
        if (value > MAX_SAFE || value < -MAX_SAFE) throw new CborError(`integer ${value} is outside the safe range ±(2^53 − 1)`);
        if (value >= 0) w.head(0, value);
        else w.head(1, -1 - value);
      } else w.float64(value);
      return;
    case "string":
      w.text(value);
      return;
    case "boolean":
      w.byte(value ? 0xf5 : 0xf4);
      return;
    case "undefined":
      w.byte(0xf7);
      return;
    case "object":
      break;
    default:
      throw new CborError(`cannot encode a ${typeof value}`);
  }
  if (value === null) {
    w.byte(0xf6);
    return;
  }
  if (value instanceof Uint8Array) {
    w.head(2, value.length);
    w.raw(value);
    return;
  }
  if (depth >= CBOR_MAX_DEPTH) throw new CborError(`nesting deeper than ${CBOR_MAX_DEPTH} (or a cycle)`);
  if (Array.isArray(value)) {
    w.head(4, value.length);
    for (let i = 0; i < value.length; i++) encodeInto(w, value[i], depth + 1);
  } else if (value instanceof Map) {
    w.head(5, value.size);
    value.forEach((v, k) => {
      if (typeof k === "string") w.text(k);
      else if (typeof k === "number" && Number.isSafeInteger(k)) {
        if (k >= 0) w.head(0, k);
        else w.head(1, -1 - k);
      } else throw new CborError(`a map key must be a safe integer or a string, not ${typeof k === "number" ? k : typeof k}`);
      encodeInto(w, v, depth + 1);
    });
  } else if (isPlainObject(value)) {
    const keys = Object.keys(value);
    w.head(5, keys.length);
    for (let i = 0; i < keys.length; i++) {
      w.text(keys[i]);
      encodeInto(w, value[keys[i]], depth + 1);
    }
  } else throw new CborError("cannot encode this kind of object (only Uint8Array, arrays, Map and plain objects)");
}

/** Encodes one value (preferred, shortest-form serialisation). Throws CborError. */
export function encodeCbor(value: CborValue, writer?: CborWriter): Uint8Array {
  const w = writer ?? new CborWriter();
  w.reset();
  encodeInto(w, value, 0);
  return w.bytes();
}

// ---------------------------------------------------------------------------------------------
// Decoder

export interface CborDecodeOptions {
  /** Nesting limit for arrays and maps (default CBOR_MAX_DEPTH). */
  maxDepth?: number;
  /** Copy byte strings out of the input (default true); false returns views into it. */
  copyBytes?: boolean;
}

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly maxDepth: number;
  readonly copy: boolean;
  #view: DataView | null = null;

  constructor(bytes: Uint8Array, start: number, options: CborDecodeOptions | undefined) {
    this.bytes = bytes;
    this.pos = start;
    this.end = bytes.length;
    const d = options?.maxDepth;
    this.maxDepth = typeof d === "number" && d >= 0 ? d : CBOR_MAX_DEPTH;
    this.copy = options?.copyBytes !== false;
  }

  view(): DataView {
    return this.#view ?? (this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new CborError(`truncated ${what}: needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
  }
}

/** Reads the argument of a head whose initial byte is `ib`, already consumed. */
function readArgument(r: Reader, ib: number, at: number): number {
  const info = ib & 31;
  if (info < 24) return info;
  switch (info) {
    case 24:
      r.need(1, "argument");
      return r.bytes[r.pos++];
    case 25: {
      r.need(2, "argument");
      const v = (r.bytes[r.pos] << 8) | r.bytes[r.pos + 1];
      r.pos += 2;
      return v;
    }
    case 26: {
      r.need(4, "argument");
      const v = r.view().getUint32(r.pos);
      r.pos += 4;
      return v;
    }
    case 27: {
      r.need(8, "argument");
      const hi = r.view().getUint32(r.pos);
      const lo = r.view().getUint32(r.pos + 4);
      if (hi > 0x1fffff) throw new CborError("integer or length beyond 2^53 − 1", at);
      r.pos += 8;
      return hi * TWO_32 + lo;
    }
    case 31:
      throw new CborError("indefinite lengths are not supported", at);
    default:
      throw new CborError(`reserved additional information ${info}`, at);
  }
}

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  let v: number;
  if (exp === 0) v = mant * 5.960464477539063e-8; // 2^-24
  else if (exp === 31) v = mant === 0 ? Infinity : NaN;
  else v = (1 + mant / 1024) * Math.pow(2, exp - 15);
  return h & 0x8000 ? -v : v;
}

function decodeItem(r: Reader, depth: number): CborValue {
  const at = r.pos;
  if (r.pos >= r.end) throw new CborError("truncated: expected a data item", at);
  const ib = r.bytes[r.pos++];
  const major = ib >> 5;
  if (major === 7) return decodeSimple(r, ib, at);
  const arg = readArgument(r, ib, at);
  switch (major) {
    case 0:
      return arg;
    case 1:
      if (arg >= MAX_SAFE) throw new CborError("negative integer below −(2^53 − 1)", at);
      return -1 - arg;
    case 2: {
      r.need(arg, "byte string");
      const start = r.pos;
      r.pos += arg;
      return r.copy ? r.bytes.slice(start, r.pos) : r.bytes.subarray(start, r.pos);
    }
    case 3: {
      r.need(arg, "text string");
      const start = r.pos;
      r.pos += arg;
      const s = decodeUtf8Strict(r.bytes, start, r.pos);
      if (s === null) throw new CborError("text string is not valid UTF-8", start);
      return s;
    }
    case 4: {
      if (depth >= r.maxDepth) throw new CborError(`nesting deeper than ${r.maxDepth}`, at);
      r.need(arg, "array"); // every element takes at least one byte
      const out: CborValue[] = new Array(arg);
      for (let i = 0; i < arg; i++) out[i] = decodeItem(r, depth + 1);
      return out;
    }
    case 5: {
      if (depth >= r.maxDepth) throw new CborError(`nesting deeper than ${r.maxDepth}`, at);
      if (arg > (r.end - r.pos) / 2) r.need(arg * 2, "map"); // every entry takes at least two bytes
      const out = new Map<number | string, CborValue>();
      for (let i = 0; i < arg; i++) {
        const keyAt = r.pos;
        const keyMajor = r.pos < r.end ? r.bytes[r.pos] >> 5 : 0;
        if (keyMajor !== 0 && keyMajor !== 1 && keyMajor !== 3) throw new CborError("a map key must be an integer or a text string", keyAt);
        const key = decodeItem(r, depth + 1) as number | string;
        if (out.has(key)) throw new CborError(`duplicate map key ${typeof key === "string" ? JSON.stringify(key) : key}`, keyAt);
        out.set(key, decodeItem(r, depth + 1));
      }
      return out;
    }
    default: {
      // major 6, a tag: only 64 (uint8 typed array) around a byte string, as cbor-x writes it.
      if (arg !== 64) throw new CborError(`tag ${arg} is not supported`, at);
      if (r.pos >= r.end || r.bytes[r.pos] >> 5 !== 2) throw new CborError("tag 64 must enclose a byte string", r.pos);
      return decodeItem(r, depth);
    }
  }
}

function decodeSimple(r: Reader, ib: number, at: number): CborValue {
  const info = ib & 31;
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return undefined;
    case 25: {
      r.need(2, "float16");
      const h = (r.bytes[r.pos] << 8) | r.bytes[r.pos + 1];
      r.pos += 2;
      return halfToNumber(h);
    }
    case 26: {
      r.need(4, "float32");
      const v = r.view().getFloat32(r.pos);
      r.pos += 4;
      return v;
    }
    case 27: {
      r.need(8, "float64");
      const v = r.view().getFloat64(r.pos);
      r.pos += 8;
      return v;
    }
    case 31:
      throw new CborError("unexpected break (indefinite lengths are not supported)", at);
    default:
      throw new CborError(`simple value ${info === 24 ? "(1-byte)" : info} is not supported`, at);
  }
}

/**
 * Decodes the one data item at `offset`; returns it and where it ends (for several items in a
 * row). Throws CborError, never reads past the end of `bytes`.
 */
export function decodeCborItem(bytes: Uint8Array, offset = 0, options?: CborDecodeOptions): { value: CborValue; end: number } {
  if (!(bytes instanceof Uint8Array)) throw new CborError("input must be a Uint8Array");
  if (!(offset >= 0 && offset <= bytes.length)) throw new CborError(`offset ${offset} outside the input`);
  const r = new Reader(bytes, offset, options);
  const value = decodeItem(r, 0);
  return { value, end: r.pos };
}

/** Decodes a complete CBOR item: `bytes` must hold exactly one, no trailing bytes. */
export function decodeCbor(bytes: Uint8Array, options?: CborDecodeOptions): CborValue {
  const { value, end } = decodeCborItem(bytes, 0, options);
  if (end !== bytes.length) throw new CborError(`${bytes.length - end} trailing bytes after the item`, end);
  return value;
}
