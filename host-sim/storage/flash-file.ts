import { closeSync, existsSync, openSync, readFileSync, renameSync, fsyncSync, writeSync, ftruncateSync, writeFileSync } from "node:fs";
import { crc32 } from "../../firmware/lib/crc32";

/** A preference value as the emulated flash keeps it. */
export type FlashValue = { t: "b"; v: boolean } | { t: "i"; v: number } | { t: "s"; v: string } | { t: "a"; v: Uint8Array };

/** Thrown inside a write when an armed power cut hits: the write is torn, the device is dead. */
export class PowerCutError extends Error {
  constructor() {
    super("power cut");
    this.name = "PowerCutError";
  }
}

const OP_SET = 1;
const OP_DELETE = 2;
const TYPES = ["b", "i", "s", "a"] as const;

/**
 * The terminal's NVS flash, emulated in a file so state survives a simulated power cut and a
 * restart of the simulator. The file is an append-only log of records, each with a CRC; loading
 * stops at the first damaged or incomplete record (a host crash mid-append) and drops it.
 *
 * `armPowerCut(n)` lets the next n bytes reach the flash and then cuts the power in the middle of
 * the write that crosses that point: the value is left torn (its first bytes new, the rest erased
 * 0xFF), as raw flash would be. The firmware's Store must cope with that.
 */
export class FlashFile {
  #path: string | null;
  #data = new Map<string, FlashValue>();
  #fd: number | null = null;
  #fileBytes = 0;
  #cutBudget: number | null = null;
  #dead = false;
  /** bytes of damaged log dropped at load */
  readonly droppedAtLoad: number = 0;
  writes = 0;

  constructor(path: string | null) {
    this.#path = path;
    if (path && existsSync(path)) {
      const bytes = new Uint8Array(readFileSync(path));
      const good = this.#replay(bytes);
      this.droppedAtLoad = bytes.length - good;
      if (good < bytes.length) {
        const fd = openSync(path, "r+");
        ftruncateSync(fd, good);
        closeSync(fd);
      }
      this.#fileBytes = good;
    }
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Cuts the power after `bytes` more bytes have been written (0: at the next write). */
  armPowerCut(bytes: number): void {
    this.#cutBudget = bytes;
  }

  disarm(): void {
    this.#cutBudget = null;
  }

  /** Power is back (an in-memory flash is reused across a cut; a file-backed one is reloaded). */
  powerUp(): void {
    this.#dead = false;
    this.#cutBudget = null;
  }

  get(domain: string, key: string): FlashValue | undefined {
    return this.#data.get(name(domain, key));
  }

  keys(domain: string): string[] {
    const prefix = domain + "\u0000";
    const out: string[] = [];
    for (const k of this.#data.keys()) if (k.startsWith(prefix)) out.push(k.slice(prefix.length));
    return out;
  }

  set(domain: string, key: string, value: FlashValue): void {
    this.#alive();
    let stored = value;
    if (this.#cutBudget !== null) {
      const size = valueSize(value);
      if (this.#cutBudget < size) {
        stored = torn(value, this.#cutBudget);
        this.#append(OP_SET, domain, key, stored);
        this.#data.set(name(domain, key), stored);
        this.#die();
      }
      this.#cutBudget -= size;
    }
    this.#append(OP_SET, domain, key, stored);
    this.#data.set(name(domain, key), stored);
    this.writes++;
  }

  delete(domain: string, key: string): void {
    this.#alive();
    if (this.#cutBudget !== null) {
      if (this.#cutBudget < 1) this.#die();
      this.#cutBudget -= 1;
    }
    if (!this.#data.has(name(domain, key))) return;
    this.#append(OP_DELETE, domain, key, null);
    this.#data.delete(name(domain, key));
    this.writes++;
  }

  /** Every value the flash holds, by domain and key (a saved simulator session). */
  entries(): { domain: string; key: string; value: FlashValue }[] {
    const out: { domain: string; key: string; value: FlashValue }[] = [];
    for (const [k, value] of this.#data) {
      const i = k.indexOf("\u0000");
      out.push({ domain: k.slice(0, i), key: k.slice(i + 1), value: value.t === "a" ? { t: "a", v: value.v.slice() } : { ...value } });
    }
    return out;
  }

  /** Erases every key (a terminal as it left the factory); each erase is logged like a delete. */
  eraseAll(): void {
    this.#alive();
    for (const k of [...this.#data.keys()]) {
      const i = k.indexOf("\u0000");
      this.#append(OP_DELETE, k.slice(0, i), k.slice(i + 1), null);
      this.#data.delete(k);
      this.writes++;
    }
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #alive(): void {
    if (this.#dead) throw new PowerCutError();
  }

  #die(): never {
    this.#dead = true;
    this.#cutBudget = null;
    throw new PowerCutError();
  }

  #append(op: number, domain: string, key: string, value: FlashValue | null): void {
    if (!this.#path) return;
    if (this.#fileBytes > 256 * 1024 && this.#fileBytes > 8 * this.#liveSize()) this.#compact();
    const record = encodeRecord(op, domain, key, value);
    if (this.#fd === null) this.#fd = openSync(this.#path, "a");
    writeSync(this.#fd, record);
    this.#fileBytes += record.length;
  }

  #liveSize(): number {
    let n = 0;
    for (const [k, v] of this.#data) n += k.length + valueSize(v) + 16;
    return n;
  }

  /** Rewrites the log as one record per live key: written aside, synced, then renamed over. */
  #compact(): void {
    const path = this.#path as string;
    this.close();
    const parts: Uint8Array[] = [];
    for (const [k, v] of this.#data) {
      const [domain, key] = k.split("\u0000");
      parts.push(encodeRecord(OP_SET, domain, key, v));
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const tmp = path + ".tmp";
    writeFileSync(tmp, all);
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    this.#fileBytes = total;
  }

  #replay(bytes: Uint8Array): number {
    let offset = 0;
    for (;;) {
      const r = decodeRecord(bytes, offset);
      if (!r) return offset;
      const k = name(r.domain, r.key);
      if (r.op === OP_SET && r.value) this.#data.set(k, r.value);
      else this.#data.delete(k);
      offset = r.next;
    }
  }
}

function name(domain: string, key: string): string {
  return domain + "\u0000" + key;
}

function valueBytes(value: FlashValue): Uint8Array {
  switch (value.t) {
    case "a":
      return value.v;
    case "s":
      return new TextEncoder().encode(value.v);
    case "b":
      return Uint8Array.of(value.v ? 1 : 0);
    case "i": {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, value.v, true);
      return b;
    }
  }
}

function valueSize(value: FlashValue): number {
  return Math.max(1, valueBytes(value).length);
}

/** What a write cut after `written` bytes leaves: the new bytes so far, then erased flash. */
function torn(value: FlashValue, written: number): FlashValue {
  const bytes = valueBytes(value);
  const out = new Uint8Array(bytes.length).fill(0xff);
  out.set(bytes.subarray(0, Math.max(0, written)));
  return { t: "a", v: out };
}

function fromBytes(t: string, b: Uint8Array): FlashValue | null {
  switch (t) {
    case "a":
      return { t: "a", v: b.slice() };
    case "s":
      return { t: "s", v: new TextDecoder().decode(b) };
    case "b":
      return b.length === 1 ? { t: "b", v: b[0] === 1 } : null;
    case "i":
      return b.length === 4 ? { t: "i", v: new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) } : null;
  }
  return null;
}

// Record: op u8, domain length u8, domain, key length u8, key, type u8, value length u32, value, crc32 u32.
function encodeRecord(op: number, domain: string, key: string, value: FlashValue | null): Uint8Array {
  const enc = new TextEncoder();
  const d = enc.encode(domain);
  const k = enc.encode(key);
  const v = value ? valueBytes(value) : new Uint8Array(0);
  const out = new Uint8Array(1 + 1 + d.length + 1 + k.length + 1 + 4 + v.length + 4);
  const view = new DataView(out.buffer);
  let o = 0;
  out[o++] = op;
  out[o++] = d.length;
  out.set(d, o);
  o += d.length;
  out[o++] = k.length;
  out.set(k, o);
  o += k.length;
  out[o++] = value ? TYPES.indexOf(value.t) : 0;
  view.setUint32(o, v.length, true);
  o += 4;
  out.set(v, o);
  o += v.length;
  view.setUint32(o, crc32(out, 0, o), true);
  return out;
}

function decodeRecord(b: Uint8Array, start: number): { op: number; domain: string; key: string; value: FlashValue | null; next: number } | null {
  const dec = new TextDecoder();
  let o = start;
  const need = (n: number) => o + n <= b.length;
  if (!need(2)) return null;
  const op = b[o++];
  if (op !== OP_SET && op !== OP_DELETE) return null;
  const dl = b[o++];
  if (!need(dl + 1)) return null;
  const domain = dec.decode(b.subarray(o, o + dl));
  o += dl;
  const kl = b[o++];
  if (!need(kl + 5)) return null;
  const key = dec.decode(b.subarray(o, o + kl));
  o += kl;
  const type = TYPES[b[o++]];
  const vl = new DataView(b.buffer, b.byteOffset + o, 4).getUint32(0, true);
  o += 4;
  if (type === undefined || !need(vl + 4)) return null;
  const v = b.subarray(o, o + vl);
  o += vl;
  const crc = new DataView(b.buffer, b.byteOffset + o, 4).getUint32(0, true);
  if (crc !== crc32(b, start, o)) return null;
  o += 4;
  if (op === OP_DELETE) return { op, domain, key, value: null, next: o };
  const value = fromBytes(type, v);
  if (!value) return null;
  return { op, domain, key, value, next: o };
}
