import { HmacKey, hmacSha256 } from "../lib/sha256";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** an ID code: a type letter and four digits */
const ID_CODE = /^[ABCD][0-9]{4}$/;

/**
 * The sensor link frame (docs/protocols.md, "Sensor link"): the same bytes on the sub-GHz UART
 * radio and in a UDP datagram.
 *
 *   0  A5 5A        sync (radio only matters; kept in UDP for one parser)
 *   2  LEN          bytes from VER to the end of the MAC (13..MAX_LEN)
 *   3  VER          high nibble protocol version (1), bit 0 direction: 0 sensor→terminal, 1 back
 *   4  TYPE         message type (MSG)
 *   5  ID           type letter (ASCII A/B/C/D) + serial u16 big-endian: the sensor's ID code
 *   8  CTR          u32 big-endian message counter of the sender, strictly increasing
 *  12  PAYLOAD      0..MAX_PAYLOAD bytes, by type
 *   .  MAC          first 4 bytes of HMAC-SHA256(sensor key, bytes 2 .. end of payload)
 *   .  CRC          CRC-16/CCITT-FALSE over bytes 2 .. end of the MAC, big-endian
 */
export const SYNC0 = 0xa5;
export const SYNC1 = 0x5a;
export const VERSION = 1;
export const HEADER = 9; // VER..CTR
export const MAC_LENGTH = 4;
export const MIN_LEN = HEADER + MAC_LENGTH;
export const MAX_PAYLOAD = 224;
export const MAX_LEN = HEADER + MAX_PAYLOAD + MAC_LENGTH;
/** A whole frame on the wire: sync, LEN, body, CRC. */
export const MAX_FRAME = 3 + MAX_LEN + 2;

export const MSG = Object.freeze({
  STARTUP: 0x01,
  RESPONSE: 0x02,
  IDENT: 0x03,
  HEARTBEAT: 0x04,
  EVENT: 0x05,
  COMMAND: 0x06,
  MEDIA: 0x07,
});

export const EVENT = Object.freeze({ DETECT: 1, RESTORE: 2, TAMPER: 3, LOW_BATTERY: 4, TAMPER_RESTORE: 5, BATTERY_OK: 6 });
export const COMMAND = Object.freeze({ ARM: 1, DISARM: 2, CAPTURE: 3, PING: 4, RESEND: 5 });
export const MEDIA_KIND = Object.freeze({ JPEG: 1, WAV: 2 });
/** State bits in IDENT, HEARTBEAT and EVENT. */
export const STATE = Object.freeze({ DETECT: 1, TAMPER: 2, LOW_BATTERY: 4, ARMED: 8 });
/** Capability bits in IDENT. */
export const CAPS = Object.freeze({ IMAGES: 1, SOUND: 2 });
/** RESPONSE status codes. */
export const STATUS = Object.freeze({ OK: 0, IDENTIFY: 1, UNKNOWN: 2, BUSY: 3 });

export const TO_SENSOR = 1;
export const TO_TERMINAL = 0;

/** Built when the module body runs: on a board at link time (preload), so it sits in flash. */
const CRC_TABLE = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
    t[n] = c & 0xffff;
  }
  return t;
})();

/** CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor ("123456789" → 0x29B1). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = CRC_TABLE;
  let c = 0xffff;
  for (let i = start; i < end; i++) c = ((c << 8) ^ t[((c >> 8) ^ bytes[i]) & 0xff]) & 0xffff;
  return c;
}

/** ID code "A0001" ↔ letter + serial. Returns null for anything else. */
export function idBytes(id: string): { letter: number; serial: number } | null {
  if (!ID_CODE.test(id)) return null;
  return { letter: id.charCodeAt(0), serial: parseInt(id.slice(1), 10) };
}

export function idString(letter: number, serial: number): string | null {
  if (letter < 0x41 || letter > 0x44 || serial > 9999) return null;
  const s = "000" + serial;
  return String.fromCharCode(letter) + s.slice(s.length - 4);
}

export interface Frame {
  direction: number;
  type: number;
  id: string;
  counter: number;
  payload: Uint8Array;
}

/** Why a frame was refused (the link counts each kind). */
export type Rejection = "truncated" | "oversized" | "crc" | "version" | "id" | "mac" | "replay" | "unknown" | "malformed" | "direction";

/** The per-sensor key: HMAC-SHA256(kit key, "TG1" ‖ ID code), first 16 bytes (docs/protocols.md). */
export function sensorKey(kitKey: Uint8Array, id: string): Uint8Array {
  const label = new Uint8Array(3 + id.length);
  label[0] = 0x54; // T
  label[1] = 0x47; // G
  label[2] = 0x31; // 1
  for (let i = 0; i < id.length; i++) label[3 + i] = id.charCodeAt(i) & 0x7f;
  return hmacSha256(kitKey, label).subarray(0, 16);
}

/** A key as frames use it: raw bytes, or prepared once (the hub keeps one per sensor). */
export type LinkKey = Uint8Array | HmacKey;

function mac(key: LinkKey, bytes: Uint8Array): Uint8Array {
  return key instanceof HmacKey ? key.mac(bytes) : hmacSha256(key, bytes);
}

/** Builds a whole frame (sync to CRC). */
export function encodeFrame(frame: Frame, key: LinkKey): Uint8Array {
  const id = idBytes(frame.id);
  if (!id) throw new RangeError(`not an ID code: ${frame.id}`);
  if (frame.payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${frame.payload.length} bytes, more than ${MAX_PAYLOAD}`);
  const len = HEADER + frame.payload.length + MAC_LENGTH;
  const out = new Uint8Array(3 + len + 2);
  out[0] = SYNC0;
  out[1] = SYNC1;
  out[2] = len;
  out[3] = (VERSION << 4) | (frame.direction & 1);
  out[4] = frame.type;
  out[5] = id.letter;
  out[6] = id.serial >> 8;
  out[7] = id.serial & 0xff;
  const c = frame.counter >>> 0;
  out[8] = c >>> 24;
  out[9] = (c >>> 16) & 0xff;
  out[10] = (c >>> 8) & 0xff;
  out[11] = c & 0xff;
  out.set(frame.payload, 12);
  const macAt = 12 + frame.payload.length;
  out.set(mac(key, out.subarray(2, macAt)).subarray(0, MAC_LENGTH), macAt);
  const crc = crc16(out, 2, macAt + MAC_LENGTH);
  out[macAt + MAC_LENGTH] = crc >> 8;
  out[macAt + MAC_LENGTH + 1] = crc & 0xff;
  return out;
}

/** The header of a frame whose CRC is good, before its MAC is checked (to find the key). */
export interface RawFrame extends Frame {
  /** the whole frame, sync to CRC */
  bytes: Uint8Array;
}

/**
 * Parses a whole frame (sync to CRC): checks length, CRC, version and ID; the MAC is checked by
 * `verifyMac` once the sender's key is known. Returns the reason on refusal.
 */
export function parseFrame(bytes: Uint8Array): RawFrame | Rejection {
  if (bytes.length < 3 + MIN_LEN + 2 || bytes[0] !== SYNC0 || bytes[1] !== SYNC1) return "truncated";
  const len = bytes[2];
  if (len > MAX_LEN) return "oversized";
  if (len < MIN_LEN) return "malformed";
  if (bytes.length !== 3 + len + 2) return bytes.length < 3 + len + 2 ? "truncated" : "oversized";
  const crc = (bytes[3 + len] << 8) | bytes[3 + len + 1];
  if (crc16(bytes, 2, 3 + len) !== crc) return "crc";
  if (bytes[3] >> 4 !== VERSION) return "version";
  const id = idString(bytes[5], (bytes[6] << 8) | bytes[7]);
  if (!id) return "id";
  const counter = ((bytes[8] << 24) | (bytes[9] << 16) | (bytes[10] << 8) | bytes[11]) >>> 0;
  return {
    direction: bytes[3] & 1,
    type: bytes[4],
    id,
    counter,
    payload: bytes.subarray(12, 3 + len - MAC_LENGTH),
    bytes,
  };
}

/** Constant-time comparison of the frame's MAC with the one computed under `key`. */
export function verifyMac(frame: RawFrame, key: LinkKey): boolean {
  const len = frame.bytes[2];
  const macAt = 3 + len - MAC_LENGTH;
  const expected = mac(key, frame.bytes.subarray(2, macAt));
  let diff = 0;
  for (let i = 0; i < MAC_LENGTH; i++) diff |= expected[i] ^ frame.bytes[macAt + i];
  return diff === 0;
}

/**
 * Finds frames in a byte stream (the UART): resynchronises on the sync bytes, refuses lengths
 * out of range at once, and on a bad CRC skips one byte and searches again, so a frame cut short
 * by the next one is refused and the next one still found. A frame left incomplete is dropped by
 * `expire()` (the driver calls it after an inter-byte gap).
 */
export class Deframer {
  #buf = new Uint8Array(MAX_FRAME * 2);
  #n = 0;
  /** dropping the rest of a refused frame: its bytes are not counted again as noise */
  #resync = false;
  #onFrame: (bytes: Uint8Array) => void;
  #onReject: (why: Rejection) => void;

  constructor(onFrame: (bytes: Uint8Array) => void, onReject: (why: Rejection) => void) {
    this.#onFrame = onFrame;
    this.#onReject = onReject;
  }

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.#n;
  }

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const room = this.#buf.length - this.#n;
      const take = Math.min(room, bytes.length - i);
      this.#buf.set(bytes.subarray(i, i + take), this.#n);
      this.#n += take;
      i += take;
      this.#scan();
    }
  }

  /** The line went quiet with a partial frame: it was truncated. */
  expire(): void {
    if (this.#n === 0) {
      this.#resync = false;
      return;
    }
    const sawSync = this.#buf[0] === SYNC0;
    this.#n = 0;
    if (sawSync) this.#onReject("truncated");
    else if (!this.#resync) this.#onReject("malformed");
    this.#resync = false;
  }

  #drop(count: number): void {
    this.#buf.copyWithin(0, count, this.#n);
    this.#n -= count;
  }

  #scan(): void {
    for (;;) {
      // find the sync
      let s = 0;
      while (s < this.#n && !(this.#buf[s] === SYNC0 && (s + 1 >= this.#n || this.#buf[s + 1] === SYNC1))) s++;
      if (s > 0) {
        this.#drop(s);
        if (!this.#resync) this.#onReject("malformed"); // noise between frames
        this.#resync = true;
      }
      if (this.#n === 0) this.#resync = false; // the refused frame's bytes are all gone
      if (this.#n < 3) return;
      const len = this.#buf[2];
      if (len > MAX_LEN || len < MIN_LEN) {
        if (!this.#resync) this.#onReject(len > MAX_LEN ? "oversized" : "malformed");
        this.#resync = true;
        this.#drop(1);
        continue;
      }
      const total = 3 + len + 2;
      if (this.#n < total) return;
      const crc = (this.#buf[3 + len] << 8) | this.#buf[3 + len + 1];
      if (crc16(this.#buf, 2, 3 + len) !== crc) {
        if (!this.#resync) this.#onReject("crc");
        this.#resync = true;
        this.#drop(1);
        continue;
      }
      const frame = this.#buf.slice(0, total);
      this.#drop(total);
      this.#resync = false;
      this.#onFrame(frame);
    }
  }
}
