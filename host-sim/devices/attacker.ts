import { randomBytes } from "node:crypto";
import type { RadioModule, AirStation } from "./radio-module";
import { LINK, buildFrame, crc16ccitt, readFrame } from "./sensors";

/**
 * Test-only: someone with a radio near the house. Listens to everything on the air and transmits
 * forged, replayed, truncated, oversized and corrupted frames. It never holds a sensor's key.
 */
export class Attacker implements AirStation {
  readonly heard: Uint8Array[] = [];
  #radio: RadioModule;

  constructor(radio: RadioModule) {
    this.#radio = radio;
    radio.join(this);
  }

  hear(bytes: Uint8Array): void {
    this.heard.push(bytes.slice());
  }

  /** The frames heard from a sensor (to the terminal), newest last; optionally of one type. */
  captured(id: string, type?: number): Uint8Array[] {
    return this.heard.filter((b) => {
      const f = readFrame(b);
      return f !== null && !f.toSensor && f.id === id && (type === undefined || f.type === type);
    });
  }

  transmit(bytes: Uint8Array): void {
    this.#radio.transmit(this, bytes);
  }

  /** Sends a frame heard before, unchanged. */
  replay(bytes: Uint8Array): void {
    this.transmit(bytes);
  }

  /** A well-formed frame with a good CRC, in a sensor's name, signed with a key of its own. */
  forge(id: string, type: number, payload: Uint8Array, counter = 0x7fffffff): Uint8Array {
    const bytes = buildFrame({ toSensor: false, type, id, counter, payload }, randomBytes(16));
    this.transmit(bytes);
    return bytes;
  }

  /** The first `keep` bytes of a frame, then silence. */
  truncate(bytes: Uint8Array, keep: number): void {
    this.transmit(bytes.slice(0, keep));
  }

  /** A frame with one payload bit flipped (its CRC no longer matches). */
  corrupt(bytes: Uint8Array, at = 12): Uint8Array {
    const bad = bytes.slice();
    bad[Math.min(at, bad.length - 3)] ^= 0x10;
    this.transmit(bad);
    return bad;
  }

  /** A frame claiming more than the link allows, with a CRC that matches what it claims. */
  oversized(id: string, length = 250): Uint8Array {
    const body = new Uint8Array(length);
    body[0] = (LINK.VERSION << 4) | 0;
    body[1] = LINK.MSG.EVENT;
    body[2] = id.charCodeAt(0);
    body[3] = 0;
    body[4] = parseInt(id.slice(1), 10);
    const covered = new Uint8Array(1 + length);
    covered[0] = length;
    covered.set(body, 1);
    const crc = crc16ccitt(covered);
    const bytes = new Uint8Array(2 + covered.length + 2);
    bytes.set(LINK.SYNC, 0);
    bytes.set(covered, 2);
    bytes[bytes.length - 2] = crc >> 8;
    bytes[bytes.length - 1] = crc & 0xff;
    this.transmit(bytes);
    return bytes;
  }
}
