import type { EventKind } from "../core/alarm";
import { isRecord } from "../core/errors";
import { Seconds, formatTime } from "../core/time";
import type { Store } from "../platform/store";

export type AlarmKind = EventKind;

export interface Alarm {
  seq: number;
  /** seconds */
  at: Seconds;
  kind: AlarmKind;
  sensor: string;
  /** inside a guarded period */
  guarded: boolean;
  pattern: number | null;
  /** the media unit being gathered for it, or null */
  media: number | null;
  /** SIA Contact ID event code (core/alarm.ts) */
  contactId: number;
  /** not shown on the terminal (duress; openings and troubles are events, not alarms on the LCD) */
  silent: boolean;
  /** with a media unit: the images and sound clips asked of its cameras (the center waits for them) */
  images?: number;
  clips?: number;
}

interface LogEntry {
  at: Seconds;
  id: string;
  event: string;
}

const KEY_ALARMS = "sn_alarms";
const KEY_LOG = "sn_log";
const MAX_ALARMS = 16;
const MAX_LOG = 20;

/**
 * What the hub keeps for the snapshot and the link: the last MAX_ALARMS alarms (and other panel
 * events) with their sequence numbers, and the sensor log (connected, registered, battery,
 * tamper, alarms) of the last MAX_LOG entries; each written whole to the store when it changes.
 */
export class HubRecords {
  #store: Store;
  #zoneMinutes: number;
  #alarms: Alarm[] = [];
  #seq = 0;
  #log: LogEntry[] = [];

  constructor(store: Store, zoneMinutes: number) {
    this.#store = store;
    this.#zoneMinutes = zoneMinutes;
    const alarms = store.readJson(KEY_ALARMS);
    if (isRecord(alarms) && Array.isArray(alarms.list) && typeof alarms.seq === "number") {
      this.#alarms = alarms.list as Alarm[];
      this.#seq = alarms.seq;
    }
    const log = store.readJson(KEY_LOG);
    if (Array.isArray(log)) this.#log = log as LogEntry[];
  }

  /** The sequence number the next alarm gets (taken by `addAlarm`). */
  nextSeq(): number {
    return this.#seq + 1;
  }

  /** Stores an alarm numbered `nextSeq()`. */
  addAlarm(alarm: Alarm): void {
    this.#seq = alarm.seq;
    this.#alarms.push(alarm);
    if (this.#alarms.length > MAX_ALARMS) this.#alarms.shift();
    this.#store.writeJson(KEY_ALARMS, { seq: this.#seq, list: this.#alarms });
  }

  record(t: Seconds, id: string, event: string): void {
    this.#log.push({ at: t, id, event });
    if (this.#log.length > MAX_LOG) this.#log.shift();
    this.#store.writeJson(KEY_LOG, this.#log);
  }

  /** The alarms as the snapshot shows them (local time, and `t` in seconds). */
  alarms(): Array<Record<string, unknown>> {
    return this.#alarms.map((a) => ({ ...a, at: formatTime(a.at, this.#zoneMinutes), t: a.at }));
  }

  log(): Array<Record<string, unknown>> {
    return this.#log.map((l) => ({ ...l, at: formatTime(l.at, this.#zoneMinutes) }));
  }
}
