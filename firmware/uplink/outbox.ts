import { frozen } from "../lib/frozen";
import type { Store } from "../platform/store";
import { MAX_VALUE } from "../platform/store";
import { MESSAGES, MessageName, encodeMessage } from "./messages";

/**
 * The persistent outbox: what the terminal must tell the center, kept in the Store until the
 * center has acknowledged it (PUBACK). Power can fail between any two writes:
 *
 *  - the index `ob_idx` is one record (the Store makes each write atomic): the next sequence
 *    number and the items. An item's body `ob_<seq>` is written BEFORE the index names it, so a
 *    cut leaves at worst a body nobody names, which the next enqueue overwrites (same seq).
 *  - on PUBACK the body is deleted FIRST, then the index is rewritten: an index item whose body
 *    is missing can only be one the center already has, and is dropped at load.
 *  - a sequence number is never reused (it is in the same record as the items), so the center's
 *    de-duplication by (terminal, seq) makes a re-send after a cut harmless.
 *  - media items carry no body: their bytes are read from the sensor hub's media store at send
 *    time (one part of one file per message). One index entry stands for a whole file: it holds
 *    a run of sequence numbers (one per part) and a mask of the parts acknowledged, so a media
 *    unit takes a few entries whatever its size; the unit is deleted once all of it is acknowledged.
 *
 * Order: alarms, then media (oldest first), then routine items (reports, plan, test call…).
 */

export const PRIORITY = Object.freeze({ alarm: 0, media: 1, routine: 2 });

export interface OutboxItem {
  seq: number;
  kind: number;
  priority: number;
  /** seconds: when it was queued */
  at: number;
  /** media items: unit, file, part */
  media?: [number, number, number];
}

interface Index {
  n: number;
  /** [seq, kind, priority, at] or, for a media file, [first seq, kind, priority, at, unit, file, parts, acknowledged mask] */
  i: number[][];
  /** media units handed to the outbox (deleted locally once every part is acknowledged) */
  u: number[];
  /** totals: acknowledged, refused for lack of room */
  a: number;
  r: number;
  /** items withdrawn, superseded by a newer one before they went */
  w?: number;
}

const INDEX = "ob_idx";
const bodyKey = (seq: number) => `ob_${seq}`;
/** Index entries (a media file is one): the index stays well under the Store's value limit. */
export const MAX_ITEMS = 80;
/** Parts of one media file at most (the mask is one 31-bit integer). */
export const MAX_PARTS = 31;
/** Room kept for alarms and media when routine items pile up. */
export const MAX_ROUTINE = 48;

const KIND_NAMES: Record<number, MessageName> = {};
for (const name of Object.keys(MESSAGES) as MessageName[]) KIND_NAMES[MESSAGES[name].kind] = name;
frozen(KIND_NAMES);

export class OutboxFull extends Error {}

export class Outbox {
  #store: Store;
  #terminal: string;
  #index: Index;
  #dropped = 0;

  constructor(store: Store, terminal: string) {
    this.#store = store;
    this.#terminal = terminal;
    this.#index = this.#load();
  }

  #load(): Index {
    const raw = this.#store.readJson(INDEX) as Partial<Index> | undefined;
    const index: Index = { n: 1, i: [], u: [], a: 0, r: 0 };
    if (raw && typeof raw === "object") {
      if (typeof raw.n === "number" && Number.isSafeInteger(raw.n) && raw.n > 0) index.n = raw.n;
      if (Array.isArray(raw.u)) index.u = raw.u.filter((x) => typeof x === "number");
      if (typeof raw.a === "number") index.a = raw.a;
      if (typeof raw.r === "number") index.r = raw.r;
      if (typeof raw.w === "number") index.w = raw.w;
      if (Array.isArray(raw.i)) {
        for (const it of raw.i) {
          if (!Array.isArray(it) || (it.length !== 4 && it.length !== 8) || !it.every((x) => typeof x === "number")) {
            this.#dropped++;
            continue;
          }
          // a body-less non-media item was acknowledged just before a cut
          if (it.length === 4 && this.#store.read(bodyKey(it[0])) === undefined) {
            this.#dropped++;
            continue;
          }
          index.i.push(it);
        }
      }
    }
    return index;
  }

  get nextSeq(): number {
    return this.#index.n;
  }
  /** Messages waiting (each part of a media file counts). */
  get size(): number {
    let n = 0;
    for (const it of this.#index.i) n += it.length === 8 ? it[6] - popcount(it[7]) : 1;
    return n;
  }
  get acknowledged(): number {
    return this.#index.a;
  }
  get refused(): number {
    return this.#index.r;
  }
  /** Items dropped at load because the center had them (or the record was damaged). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Items in sending order: alarms, media, routine; by sequence number within each. */
  items(): OutboxItem[] {
    const out: OutboxItem[] = [];
    for (const it of this.#index.i) {
      if (it.length !== 8) {
        out.push({ seq: it[0], kind: it[1], priority: it[2], at: it[3] });
        continue;
      }
      for (let p = 0; p < it[6]; p++) {
        if (it[7] & (1 << p)) continue;
        out.push({ seq: it[0] + p, kind: it[1], priority: it[2], at: it[3], media: [it[4], it[5], p] });
      }
    }
    out.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    return out;
  }

  has(seq: number): boolean {
    return this.#find(seq) >= 0;
  }

  /** Counts by message name, for the snapshot. */
  byKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const it of this.#index.i) {
      const name = KIND_NAMES[it[1]] ?? String(it[1]);
      out[name] = (out[name] ?? 0) + (it.length === 8 ? it[6] - popcount(it[7]) : 1);
    }
    return out;
  }

  /**
   * Queues a message (its body validated by the schema); returns its sequence number.
   * Throws OutboxFull (counted) when there is no room, MessageError when the body is wrong.
   */
  enqueue(name: MessageName, body: Record<string, unknown>, time: number, priority: number): number {
    this.#room(priority, 1);
    const seq = this.#index.n;
    const bytes = encodeMessage({ name, terminal: this.#terminal, seq, time, body });
    if (bytes.length > MAX_VALUE) {
      this.#index.r++;
      throw new OutboxFull(`${name} is ${bytes.length} bytes, more than a record holds`);
    }
    this.#store.write(bodyKey(seq), bytes);
    this.#index.i.push([seq, MESSAGES[name].kind, priority, time]);
    this.#index.n = seq + 1;
    this.#save();
    return seq;
  }

  /**
   * Queues every part of every file of a media unit (`parts[f]`: how many parts file f has);
   * returns how many messages. One index entry per file.
   */
  enqueueMedia(unit: number, parts: number[], time: number): number {
    if (this.#index.u.indexOf(unit) >= 0) return 0; // already queued
    for (const n of parts) if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS) throw new OutboxFull(`a media file of ${n} parts (1..${MAX_PARTS})`);
    this.#room(PRIORITY.media, parts.length);
    let seq = this.#index.n;
    let total = 0;
    parts.forEach((n, file) => {
      this.#index.i.push([seq, MESSAGES.media.kind, PRIORITY.media, time, unit, file, n, 0]);
      seq += n;
      total += n;
    });
    this.#index.n = seq;
    this.#index.u.push(unit);
    this.#save();
    return total;
  }

  /** The stored message bytes of a non-media item. */
  body(seq: number): Uint8Array | undefined {
    return this.#store.read(bodyKey(seq));
  }

  /**
   * The center acknowledged `seq`: the item goes. Returns the media unit when that was its last
   * part (the caller deletes the local copy, then calls mediaDone).
   */
  acknowledge(seq: number): { item: OutboxItem; unitDone: number | null } | null {
    const k = this.#find(seq);
    if (k < 0) return null;
    const it = this.#index.i[k];
    let unitDone: number | null = null;
    if (it.length !== 8) {
      this.#store.delete(bodyKey(seq)); // body first: see the header
      this.#index.i.splice(k, 1);
      this.#index.a++;
      this.#save();
      return { item: { seq, kind: it[1], priority: it[2], at: it[3] }, unitDone };
    }
    const part = seq - it[0];
    const item: OutboxItem = { seq, kind: it[1], priority: it[2], at: it[3], media: [it[4], it[5], part] };
    it[7] |= 1 << part;
    if (popcount(it[7]) === it[6]) this.#index.i.splice(k, 1);
    this.#index.a++;
    this.#save();
    const unit = it[4];
    if (!this.#index.i.some((x) => x.length === 8 && x[4] === unit)) unitDone = unit;
    return { item, unitDone };
  }

  /**
   * Takes back a waiting item a newer one supersedes (a sensor table replaced by the current
   * one). Only for an item not published yet: the caller knows which are in flight.
   */
  withdraw(seq: number): boolean {
    const k = this.#find(seq);
    if (k < 0 || this.#index.i[k].length !== 4) return false;
    this.#store.delete(bodyKey(seq));
    this.#index.i.splice(k, 1);
    this.#index.w = (this.#index.w ?? 0) + 1;
    this.#save();
    return true;
  }

  get withdrawn(): number {
    return this.#index.w ?? 0;
  }

  /** The media unit is deleted locally: forget it. */
  mediaDone(unit: number): void {
    const k = this.#index.u.indexOf(unit);
    if (k < 0) return;
    this.#index.u.splice(k, 1);
    this.#save();
  }

  /** Units queued earlier whose parts are all acknowledged (a cut came before their deletion). */
  finishedUnits(): number[] {
    return this.#index.u.filter((unit) => !this.#index.i.some((it) => it.length === 8 && it[4] === unit));
  }

  /** Units the outbox has taken (queued or finished). */
  knowsUnit(unit: number): boolean {
    return this.#index.u.indexOf(unit) >= 0;
  }

  /** Drops the media items of a unit that can no longer be read (counted as refused). */
  dropUnit(unit: number): void {
    let dropped = 0;
    this.#index.i = this.#index.i.filter((it) => {
      if (it.length !== 8 || it[4] !== unit) return true;
      dropped += it[6] - popcount(it[7]);
      return false;
    });
    this.#index.r += dropped;
    this.#save();
  }

  #room(priority: number, n: number): void {
    const items = this.#index.i;
    if (priority === PRIORITY.routine) {
      let routine = 0;
      for (const it of items) if (it[2] === PRIORITY.routine) routine++;
      if (routine + n > MAX_ROUTINE || items.length + n > MAX_ITEMS) {
        this.#index.r += n;
        this.#save();
        throw new OutboxFull(`outbox full (${routine} routine items wait)`);
      }
      return;
    }
    // Alarms and media make room by evicting the oldest routine items (counted as refused).
    while (items.length + n > MAX_ITEMS) {
      let oldest = -1;
      for (let k = 0; k < items.length; k++) if (items[k][2] === PRIORITY.routine && (oldest < 0 || items[k][0] < items[oldest][0])) oldest = k;
      if (oldest < 0) {
        this.#index.r += n;
        this.#save();
        throw new OutboxFull("outbox full of alarms and media");
      }
      this.#store.delete(bodyKey(items[oldest][0]));
      items.splice(oldest, 1);
      this.#index.r++;
    }
  }

  /** The entry holding `seq` (a media file entry holds a run), not yet acknowledged; or -1. */
  #find(seq: number): number {
    const items = this.#index.i;
    for (let k = 0; k < items.length; k++) {
      const it = items[k];
      if (it.length !== 8) {
        if (it[0] === seq) return k;
      } else if (seq >= it[0] && seq < it[0] + it[6] && (it[7] & (1 << (seq - it[0]))) === 0) return k;
    }
    return -1;
  }

  #save(): void {
    this.#store.writeJson(INDEX, this.#index);
  }
}

function popcount(mask: number): number {
  let n = 0;
  for (let m = mask >>> 0; m !== 0; m &= m - 1) n++;
  return n;
}
