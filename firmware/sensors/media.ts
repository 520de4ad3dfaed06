import type { Store } from "../platform/store";

/**
 * Media units in storage: the images and the sound clip of one alarm, ready for the link to send
 * (the link is another component; this is its port). A unit is a manifest `mu_<id>` plus its
 * files in parts `mp<id>_<file>_<part>` of at most PART_BYTES each (the store's values are
 * ≤ 3990 bytes). Parts are written before the manifest names them, so a power cut leaves at worst
 * unnamed parts, which `recover()` deletes; a unit still open at boot is closed as incomplete
 * (what arrived is still evidence worth sending).
 */
export const PART_BYTES = 2048;
/** Units waiting to be sent; a new capture is refused (and counted) when this many wait. */
export const MAX_UNITS = 4;
export const MAX_FILES = 12;
export const MAX_FILE_BYTES = 32768;

export interface MediaFile {
  /** e.g. B0001-1.jpg, B0001.wav */
  name: string;
  kind: "jpeg" | "wav";
  camera: string;
  size: number;
  parts: number;
}

export interface MediaManifest {
  id: number;
  /** the alarm's sequence number */
  alarm: number;
  /** seconds */
  at: number;
  cameras: string[];
  files: MediaFile[];
  /** every camera delivered every file it announced */
  complete: boolean;
  /** still being received */
  open: boolean;
}

const LIST = "mu_list";
const unitKey = (id: number) => `mu_${id}`;
const partKey = (id: number, file: number, part: number) => `mp${id}_${file}_${part}`;

export class MediaStore {
  #store: Store;
  #list: number[];

  constructor(store: Store) {
    this.#store = store;
    const list = store.readJson(LIST);
    this.#list = Array.isArray(list) ? list.filter((n): n is number => typeof n === "number" && Number.isInteger(n)) : [];
  }

  /** Units in storage, oldest first. */
  units(): number[] {
    return this.#list.slice();
  }

  get full(): boolean {
    return this.#list.length >= MAX_UNITS;
  }

  manifest(id: number): MediaManifest | undefined {
    const m = this.#store.readJson(unitKey(id));
    return m && typeof m === "object" ? (m as MediaManifest) : undefined;
  }

  /** A whole file of a unit, assembled from its parts; undefined if missing. */
  readFile(id: number, file: number): Uint8Array | undefined {
    const m = this.manifest(id);
    const f = m?.files[file];
    if (!f) return undefined;
    const out = new Uint8Array(f.size);
    let at = 0;
    for (let p = 0; p < f.parts; p++) {
      const part = this.#store.read(partKey(id, file, p));
      if (!part || at + part.length > f.size) return undefined;
      out.set(part, at);
      at += part.length;
    }
    return at === f.size ? out : undefined;
  }

  /** The units as the snapshot shows them: their files named, not their bytes. */
  summary(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const id of this.#list) {
      const m = this.manifest(id);
      if (!m) continue;
      out.push({ id, alarm: m.alarm, open: m.open, complete: m.complete, files: m.files.map((f) => ({ name: f.name, kind: f.kind, size: f.size })) });
    }
    return out;
  }

  /** The link sent the unit and the center has it: the local copy goes. */
  remove(id: number): void {
    const m = this.manifest(id);
    if (m) {
      for (let k = 0; k < m.files.length; k++) for (let p = 0; p < m.files[k].parts; p++) this.#store.delete(partKey(id, k, p));
      this.#deleteOrphans(id, m.files.length);
    }
    this.#store.delete(unitKey(id));
    this.#list = this.#list.filter((n) => n !== id);
    this.#store.writeJson(LIST, this.#list);
  }

  begin(id: number, alarm: number, at: number, cameras: string[]): MediaManifest {
    const m: MediaManifest = { id, alarm, at, cameras, files: [], complete: false, open: true };
    this.#store.writeJson(unitKey(id), m);
    this.#list = this.#list.filter((n) => n !== id).concat([id]);
    this.#store.writeJson(LIST, this.#list);
    return m;
  }

  writePart(id: number, file: number, part: number, bytes: Uint8Array): void {
    this.#store.write(partKey(id, file, part), bytes);
  }

  /** Names a file whose parts are all written. */
  addFile(m: MediaManifest, file: MediaFile): void {
    m.files.push(file);
    this.#store.writeJson(unitKey(m.id), m);
  }

  finish(m: MediaManifest, complete: boolean): void {
    m.open = false;
    m.complete = complete;
    this.#store.writeJson(unitKey(m.id), m);
  }

  /** At boot: close units left open by a power cut, delete parts no manifest names. */
  recover(): number[] {
    const closed: number[] = [];
    for (const id of this.#list) {
      const m = this.manifest(id);
      if (!m) continue;
      if (m.open) {
        this.#deleteOrphans(id, m.files.length);
        this.finish(m, false);
        closed.push(id);
      }
    }
    return closed;
  }

  /** Deletes the parts of the file a cut interrupted (the one after the last named). */
  #deleteOrphans(id: number, file: number): void {
    for (let p = 0; p < MAX_FILE_BYTES / PART_BYTES; p++) {
      const key = partKey(id, file, p);
      if (this.#store.read(key) === undefined) break;
      this.#store.delete(key);
    }
  }
}
