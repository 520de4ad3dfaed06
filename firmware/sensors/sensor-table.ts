import { DeviceType, deviceType, isDeviceId } from "../core/devices";
import { isRecord } from "../core/errors";
import type { Seconds } from "../core/time";
import { HmacKey, Sha256Scratch } from "../lib/sha256";
import type { Store } from "../platform/store";
import { sensorKey } from "./frame";
import type { SensorLink } from "./radio";

/** One row of the sensor table (DESIGN §3: ID, connected?, operating?). */
export interface Sensor {
  id: string;
  type: DeviceType;
  registered: boolean;
  connected: boolean;
  /** seconds, when last heard (not stored: at boot everyone gets a fresh supervision window) */
  heard: Seconds;
  battery: "ok" | "low";
  batteryPercent: number;
  tamper: boolean;
  /** heartbeat interval the sensor declared, seconds */
  heartbeat: number;
  caps: number;
  firmware: string;
  /** last counter accepted from it */
  rx: number;
  /** what the terminal last told it */
  armed: boolean;
  /** the number of the last event taken from it (a repeat carries the same number) */
  lastEvent: number;
  key: HmacKey;
  link: SensorLink | null;
}

interface StoredSensor {
  id: string;
  hb: number;
  caps: number;
  fw: string;
  connected: boolean;
  battery: "ok" | "low";
}

const KEY_TABLE = "sn_table";
const KEY_RX = "sn_rx";
const KEY_EVENTS = "sn_ev";

/** A registered device that is connected operates (and is billed when a period chose it). */
export function operating(s: Sensor): boolean {
  return s.registered && s.connected;
}

/** A sensor first heard now: not in the table until the user's OK, not connected until accepted. */
export function newcomer(id: string, key: HmacKey, t: Seconds): Sensor {
  return {
    id,
    type: deviceType(id),
    registered: false,
    connected: false,
    heard: t,
    battery: "ok",
    batteryPercent: 0,
    tamper: false,
    heartbeat: 60,
    caps: 0,
    firmware: "",
    rx: 0,
    armed: false,
    lastEvent: -1,
    key,
    link: null,
  };
}

/**
 * The sensor table: the registered devices (stored) and the newcomers waiting for the user's OK
 * (not stored), in ID order. The table, each sensor's last counter and its last event number are
 * three store entries, each written whole, so a power cut between them loses at most the newest.
 */
export class SensorTable {
  #store: Store;
  #sensors: Sensor[] = [];
  #kitKey: Uint8Array;
  /** the working memory every sensor's key shares (a frame's MAC is checked to its end before the next) */
  #scratch = new Sha256Scratch();

  constructor(store: Store, kitKey: Uint8Array, t: Seconds) {
    this.#store = store;
    this.#kitKey = kitKey;
    const table = store.readJson(KEY_TABLE);
    const rx = store.readJson(KEY_RX);
    const rxs = isRecord(rx) ? rx : {};
    const ev = store.readJson(KEY_EVENTS);
    const evs = isRecord(ev) ? ev : {};
    if (!Array.isArray(table)) return;
    for (const s of table as StoredSensor[]) {
      if (!s || !isDeviceId(s.id) || this.find(s.id)) continue;
      this.#sensors.push({
        id: s.id,
        type: deviceType(s.id),
        registered: true,
        connected: s.connected === true,
        heard: t,
        battery: s.battery === "low" ? "low" : "ok",
        batteryPercent: 0,
        tamper: false,
        heartbeat: typeof s.hb === "number" && s.hb > 0 ? s.hb : 60,
        caps: typeof s.caps === "number" ? s.caps : 0,
        firmware: typeof s.fw === "string" ? s.fw : "",
        rx: typeof rxs[s.id] === "number" ? (rxs[s.id] as number) : 0,
        armed: false,
        lastEvent: typeof evs[s.id] === "number" ? (evs[s.id] as number) : -1,
        key: this.keyOf(s.id),
        link: null,
      });
    }
  }

  /** The link key of sensor `id` (derived from the kit key), working in the table's shared scratch. */
  keyOf(id: string): HmacKey {
    return new HmacKey(sensorKey(this.#kitKey, id), this.#scratch);
  }

  /** Every sensor heard, registered or waiting, in ID order. */
  get all(): readonly Sensor[] {
    return this.#sensors;
  }

  get size(): number {
    return this.#sensors.length;
  }

  find(id: string): Sensor | undefined {
    for (const s of this.#sensors) if (s.id === id) return s;
    return undefined;
  }

  registered(): Sensor[] {
    return this.#sensors.filter((s) => s.registered);
  }

  pending(): Sensor[] {
    return this.#sensors.filter((s) => !s.registered);
  }

  /** Adds a newcomer whose first frame was accepted (the table reads in ID order). */
  add(s: Sensor): void {
    if (this.#sensors.indexOf(s) >= 0) return;
    this.#sensors.push(s);
    this.#sensors.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Keeps the sensors `keep` approves; returns whether any left. */
  retain(keep: (s: Sensor) => boolean): boolean {
    const before = this.#sensors.length;
    this.#sensors = this.#sensors.filter(keep);
    return this.#sensors.length !== before;
  }

  saveTable(): void {
    const rows: StoredSensor[] = this.registered().map((s) => ({
      id: s.id,
      hb: s.heartbeat,
      caps: s.caps,
      fw: s.firmware,
      connected: s.connected,
      battery: s.battery,
    }));
    this.#store.writeJson(KEY_TABLE, rows);
  }

  saveEvents(): void {
    const ev: Record<string, number> = {};
    for (const s of this.registered()) ev[s.id] = s.lastEvent;
    this.#store.writeJson(KEY_EVENTS, ev);
  }

  saveRx(): void {
    const rx: Record<string, number> = {};
    for (const s of this.registered()) rx[s.id] = s.rx;
    this.#store.writeJson(KEY_RX, rx);
  }
}
