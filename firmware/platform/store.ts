import { crc32 } from "../lib/crc32";
import { decodeUtf8, encodeUtf8 } from "../lib/utf8";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a storage key's characters */
const KEY_CHARS = /^[A-Za-z0-9_-]+$/;

/**
 * What a key-value flash gives us (on the ESP32: Moddable's `preference`, backed by NVS).
 * Keys are at most 15 characters, values at most 4000 bytes.
 */
export interface KeyValueBackend {
  get(key: string): ArrayBuffer | undefined;
  set(key: string, value: ArrayBuffer): void;
  delete(key: string): void;
}

export const MAX_KEY = 13; // two characters go to the slot suffix
export const MAX_VALUE = 4000 - 10;

const HEADER = 10; // crc32 u32 (over everything after it), seq u32, length u16, then the payload
const TOMBSTONE = 0xffff;

interface Slot {
  seq: number;
  payload: Uint8Array | null; // null: a tombstone
}

/**
 * The firmware's only storage port. Every record is written to the older of two slots with a
 * sequence number and a CRC, so a write torn by a power cut leaves the previous value readable:
 * a read always returns the previous or the new value, never a torn one. Deleting writes a
 * tombstone first, so a cut between the deletes cannot resurrect an old value.
 */
export class Store {
  #backend: KeyValueBackend;
  #writes = 0;
  #rejected = 0;
  /**
   * Which slot holds the newest record of a key and its sequence number, once known, as one
   * number (the sequence number for slot 0, -1 - seq for slot 1; null: no record): a Map value that is a number takes no heap of its own, where
   * an object with the slot's name took five slots a key (bench/memory.ts).
   */
  #heads = new Map<string, number | null>();
  /** keys whose newest record, as #heads knows it, is a tombstone (a delete under way, or one a power cut left unfinished) */
  #tombs = new Set<string>();

  constructor(backend: KeyValueBackend) {
    this.#backend = backend;
  }

  get writes(): number {
    return this.#writes;
  }
  /** Slots found torn or corrupt on read (each one counted once per read). */
  get rejected(): number {
    return this.#rejected;
  }

  read(key: string): Uint8Array | undefined {
    const newest = this.#newest(key);
    return newest && newest.slot.payload ? newest.slot.payload : undefined;
  }

  write(key: string, payload: Uint8Array): void {
    checkKey(key);
    if (payload.length > MAX_VALUE) throw new RangeError(`storage: ${key} is ${payload.length} bytes, more than ${MAX_VALUE}`);
    this.#put(key, payload);
  }

  delete(key: string): void {
    checkKey(key);
    // Once a key was written or read, its head says which slot holds its newest record and
    // #tombs whether that is a tombstone: deleting it (an outbox entry acknowledged) decodes and
    // CRC-checks no slot.
    let head = this.#head(key);
    if (head === null) return;
    if (!this.#tombs.has(key)) {
      this.#put(key, null);
      head = this.#heads.get(key) as number; // #put returns only once the tombstone is written
    }
    // Remove the older slot first, then the tombstone.
    const tomb = slotName(key, head >= 0 ? 0 : 1);
    const other = slotName(key, head >= 0 ? 1 : 0);
    this.#heads.delete(key);
    this.#backend.delete(other);
    this.#backend.delete(tomb);
    this.#heads.set(key, null);
    this.#tombs.delete(key);
  }

  readJson(key: string): unknown {
    const bytes = this.read(key);
    if (!bytes) return undefined;
    try {
      return JSON.parse(decodeUtf8(bytes));
    } catch {
      this.#rejected++;
      return undefined;
    }
  }

  writeJson(key: string, value: unknown): void {
    this.write(key, encodeUtf8(JSON.stringify(value)));
  }

  #put(key: string, payload: Uint8Array | null): void {
    const head = this.#head(key);
    // the head: the sequence number in slot 0, -1 - seq in slot 1 (written out here: a call costs)
    const seq = head === null ? 1 : ((head >= 0 ? head : -1 - head) + 1) >>> 0;
    const slot = head !== null && head >= 0 ? 1 : 0;
    const target = slotName(key, slot);
    const length = payload ? payload.length : 0;
    const record = new Uint8Array(HEADER + length);
    const view = new DataView(record.buffer);
    view.setUint32(4, seq, true);
    view.setUint16(8, payload ? length : TOMBSTONE, true);
    if (payload) record.set(payload, HEADER);
    view.setUint32(0, crc32(record, 4), true);
    this.#writes++;
    this.#heads.delete(key); // unknown until the write is known to have completed
    this.#backend.set(target, record.buffer);
    this.#heads.set(key, slot === 0 ? seq : -1 - seq);
    if (payload) this.#tombs.delete(key);
    else this.#tombs.add(key);
  }

  #head(key: string): number | null {
    let head = this.#heads.get(key);
    if (head === undefined) {
      const newest = this.#newest(key);
      head = newest ? (newest.index === 0 ? newest.slot.seq : -1 - newest.slot.seq) : null;
      this.#heads.set(key, head);
      if (newest && !newest.slot.payload) this.#tombs.add(key);
      else this.#tombs.delete(key);
    }
    return head;
  }

  #newest(key: string): { name: string; index: number; slot: Slot } | undefined {
    let best: { name: string; index: number; slot: Slot } | undefined;
    for (let i = 0; i < 2; i++) {
      const name = slotName(key, i);
      const slot = this.#decode(this.#backend.get(name));
      if (!slot) continue;
      if (!best || newer(slot.seq, best.slot.seq)) best = { name, index: i, slot };
    }
    return best;
  }

  #decode(buffer: ArrayBuffer | undefined): Slot | undefined {
    if (buffer === undefined) return undefined;
    const record = new Uint8Array(buffer);
    if (record.length < HEADER) {
      this.#rejected++;
      return undefined;
    }
    const view = new DataView(buffer);
    const seq = view.getUint32(4, true);
    const length = view.getUint16(8, true);
    const tomb = length === TOMBSTONE;
    if ((tomb && record.length !== HEADER) || (!tomb && record.length !== HEADER + length) || view.getUint32(0, true) !== crc32(record, 4)) {
      this.#rejected++;
      return undefined;
    }
    return { seq, payload: tomb ? null : record.slice(HEADER) };
  }
}

/** Serial-number arithmetic: a is newer than b (wraps at 2^32). */
function newer(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

function slotName(key: string, slot: number): string {
  return `${key}.${slot}`;
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY || !KEY_CHARS.test(key)) {
    throw new RangeError(`storage: bad key ${JSON.stringify(key)}`);
  }
}
