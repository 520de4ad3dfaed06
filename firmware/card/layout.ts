import { HmacKey, hmacSha256 } from "../lib/sha256";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** hex digits */
const HEX_CHARS = /^[0-9a-fA-F]*$/;

/**
 * The prepaid card's layout on a MIFARE Classic 1K (docs/card.md has the picture). Pure functions
 * over 16-byte blocks, shared by the terminal, the card emulation and the issuer tool.
 *
 *   sector 1  block 4  value block: the counts            C1C2C3 = 110 (key A: decrement only)
 *             block 5  value block: the backup            C1C2C3 = 110
 *             block 6  record: seq, balance, kind, tag, MAC C1C2C3 = 000 (key A re-MACs it)
 *             block 7  trailer: key A, access bits, key B C1C2C3 = 011 (key B manages)
 *   sector 2  block 8  identity: "TG", version, flags, issuer, card id   C1C2C3 = 100 (key B writes)
 *             block 11 trailer                           C1C2C3 = 011
 */
export const BLOCK_BYTES = 16;
export const BLOCKS = 64;
export const VALUE_BLOCK = 4;
export const BACKUP_BLOCK = 5;
export const RECORD_BLOCK = 6;
export const PURSE_TRAILER = 7;
export const ID_BLOCK = 8;
export const ID_TRAILER = 11;
export const FORMAT_VERSION = 1;
export const FLAG_REVOKED = 1;
export const MAC_BYTES = 6;

/** Access conditions C1C2C3 (as c1<<2 | c2<<1 | c3) of blocks 0, 1, 2 and the trailer of a sector. */
export type AccessConditions = readonly [number, number, number, number];

export const PURSE_ACCESS: AccessConditions = Object.freeze([0b110, 0b110, 0b000, 0b011]) as AccessConditions;
export const ID_ACCESS: AccessConditions = Object.freeze([0b100, 0b100, 0b100, 0b011]) as AccessConditions;
/** A new card's sectors: everything with key A or B, trailer writable with key A ("transport"). */
export const TRANSPORT_ACCESS: AccessConditions = Object.freeze([0b000, 0b000, 0b000, 0b001]) as AccessConditions;

/** Why a card was refused; `code` is stable for programs, `message` is for people. */
export type CardErrorCode = "absent" | "io" | "auth" | "format" | "mac" | "clone" | "revoked" | "limit" | "identity" | "changed";

export class CardError extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "CardError";
  readonly code: CardErrorCode;
  constructor(code: CardErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Access bytes 6..8 of a trailer for the given conditions (MIFARE Classic format). */
export function encodeAccessBits(a: AccessConditions): Uint8Array {
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  for (let i = 0; i < 4; i++) {
    c1 |= ((a[i] >> 2) & 1) << i;
    c2 |= ((a[i] >> 1) & 1) << i;
    c3 |= (a[i] & 1) << i;
  }
  return Uint8Array.of(((~c2 & 15) << 4) | (~c1 & 15), (c1 << 4) | (~c3 & 15), (c3 << 4) | c2);
}

/** The conditions from trailer bytes 6..8, or null when the inverted copies disagree (a blocked sector). */
export function decodeAccessBits(b6: number, b7: number, b8: number): AccessConditions | null {
  const c1 = b7 >> 4;
  const c2 = b8 & 15;
  const c3 = b8 >> 4;
  if ((b6 & 15) !== (~c1 & 15) || b6 >> 4 !== (~c2 & 15) || (b7 & 15) !== (~c3 & 15)) return null;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) out.push((((c1 >> i) & 1) << 2) | (((c2 >> i) & 1) << 1) | ((c3 >> i) & 1));
  return out as unknown as AccessConditions;
}

/** A trailer block: key A, access bits, general-purpose byte 0x69, key B. */
export function encodeTrailer(keyA: Uint8Array, access: AccessConditions, keyB: Uint8Array): Uint8Array {
  const out = new Uint8Array(BLOCK_BYTES);
  out.set(keyA.subarray(0, 6), 0);
  out.set(encodeAccessBits(access), 6);
  out[9] = 0x69;
  out.set(keyB.subarray(0, 6), 10);
  return out;
}

/** A value block: value, ~value, value (int32 little-endian), then addr, ~addr, addr, ~addr. */
export function encodeValueBlock(value: number, addr: number): Uint8Array {
  const out = new Uint8Array(BLOCK_BYTES);
  const v = new DataView(out.buffer);
  v.setInt32(0, value, true);
  v.setInt32(4, ~value, true);
  v.setInt32(8, value, true);
  out[12] = addr & 0xff;
  out[13] = ~addr & 0xff;
  out[14] = addr & 0xff;
  out[15] = ~addr & 0xff;
  return out;
}

/** The value and address of a value block, or a message saying what is wrong with it. */
export function decodeValueBlock(block: Uint8Array): { value: number; addr: number } | string {
  if (block.length !== BLOCK_BYTES) return `a value block is 16 bytes, got ${block.length}`;
  const v = new DataView(block.buffer, block.byteOffset, BLOCK_BYTES);
  const value = v.getInt32(0, true);
  if (v.getInt32(4, true) !== ~value) return "the value's inverse copy does not match";
  if (v.getInt32(8, true) !== value) return "the value's second copy does not match";
  if (block[13] !== (~block[12] & 0xff) || block[14] !== block[12] || block[15] !== block[13]) return "the address bytes do not match";
  return { value, addr: block[12] };
}

export interface CardIdentity {
  version: number;
  revoked: boolean;
  issuer: number;
  cardId: number;
}

export function encodeIdentity(id: CardIdentity): Uint8Array {
  const out = new Uint8Array(BLOCK_BYTES);
  const v = new DataView(out.buffer);
  out[0] = 0x54; // T
  out[1] = 0x47; // G
  out[2] = id.version;
  out[3] = id.revoked ? FLAG_REVOKED : 0;
  v.setUint16(4, id.issuer, true);
  v.setUint32(6, id.cardId, true);
  return out;
}

export function decodeIdentity(block: Uint8Array): CardIdentity | string {
  if (block.length !== BLOCK_BYTES) return "the identity block is not 16 bytes";
  if (block[0] !== 0x54 || block[1] !== 0x47) return "not a Timeguard card (no TG mark in block 8)";
  if (block[2] !== FORMAT_VERSION) return `card format version ${block[2]} is not supported`;
  if ((block[3] & ~FLAG_REVOKED) !== 0) return `unknown flags 0x${block[3].toString(16)} in block 8`;
  const v = new DataView(block.buffer, block.byteOffset, BLOCK_BYTES);
  for (let i = 10; i < 16; i++) if (block[i] !== 0) return "reserved bytes of block 8 are not zero";
  return { version: block[2], revoked: (block[3] & FLAG_REVOKED) !== 0, issuer: v.getUint16(4, true), cardId: v.getUint32(6, true) };
}

/** What wrote the record last (covered by the MAC). */
export const RecordKind = Object.freeze({ Issue: 1, TopUp: 2, Debit: 3, Revoke: 4 });

export interface CardRecord {
  /** the card's transaction sequence: every deduction, top-up and revocation adds one */
  seq: number;
  /** the balance this record vouches for */
  balance: number;
  /** RecordKind of the last transaction */
  kind: number;
  /** who did it: 0 the issuer, else a terminal's tag (terminalTag) */
  tag: number;
  mac: Uint8Array;
}

/**
 * Record block: seq u32 LE, balance i32 LE, kind u8, tag u8, MAC (6 bytes).
 */
export function encodeRecord(r: CardRecord): Uint8Array {
  const out = new Uint8Array(BLOCK_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, r.seq >>> 0, true);
  v.setInt32(4, r.balance, true);
  out[8] = r.kind;
  out[9] = r.tag;
  out.set(r.mac.subarray(0, MAC_BYTES), 10);
  return out;
}

export function decodeRecord(block: Uint8Array): CardRecord {
  const v = new DataView(block.buffer, block.byteOffset, BLOCK_BYTES);
  return { seq: v.getUint32(0, true), balance: v.getInt32(4, true), kind: block[8], tag: block[9], mac: block.slice(10, 16) };
}

/** A terminal's one-byte tag in the records it writes (never 0, which is the issuer). */
export function terminalTag(terminalId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < terminalId.length; i++) h = Math.imul(h ^ terminalId.charCodeAt(i), 0x01000193);
  return ((h >>> 0) % 255) + 1;
}

const MAC_TAG = Uint8Array.of(0x54, 0x47, 0x52, 0x31); // "TGR1"

/**
 * The record's MAC: HMAC-SHA-256 under the issuer's MAC key over a tag, the card's UID, the
 * identity block's first 10 bytes (mark, version, flags, issuer, card id) and the record's first
 * 10 bytes (sequence, balance, kind, tag), cut to 6 bytes.
 */
export function recordMac(macKey: RecordMacKey, uid: Uint8Array, identity: CardIdentity, r: Omit<CardRecord, "mac">): Uint8Array {
  const msg = new Uint8Array(4 + uid.length + 10 + 10);
  msg.set(MAC_TAG, 0);
  msg.set(uid, 4);
  msg.set(encodeIdentity(identity).subarray(0, 10), 4 + uid.length);
  msg.set(encodeRecord({ ...r, mac: new Uint8Array(MAC_BYTES) }).subarray(0, 10), 14 + uid.length);
  return (macKey instanceof HmacKey ? macKey.mac(msg) : hmacSha256(macKey, msg)).slice(0, MAC_BYTES);
}

/** The record MAC key: raw bytes, or prepared once (the terminal's purse keeps one: two compressions fewer a MAC). */
export type RecordMacKey = Uint8Array | HmacKey;

/** A record with its MAC. */
export function macRecord(macKey: RecordMacKey, uid: Uint8Array, identity: CardIdentity, r: Omit<CardRecord, "mac">): CardRecord {
  return { ...r, mac: recordMac(macKey, uid, identity, r) };
}

/** Compares without an early exit. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

const HEX = "0123456789abcdef";

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}

/** Bytes from hex of exactly `length` bytes, or null. */
export function fromHex(hex: unknown, length: number): Uint8Array | null {
  if (typeof hex !== "string" || hex.length !== length * 2 || !HEX_CHARS.test(hex)) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
