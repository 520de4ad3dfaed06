import { frozen } from "../lib/frozen";
import { DeviceType, billingKind, deviceType, isCamera, isDeviceId } from "../core/devices";
import { FieldError, isRecord } from "../core/errors";
import { DeviceCounts, deviceCounts } from "../core/fee";
import type { Inventory, Period } from "../core/plan";
import { Seconds, formatTime } from "../core/time";
import type { Clock, Terminal, Timers } from "../app/terminal";
import type { Store } from "../platform/store";
import {
  COMMAND,
  EVENT,
  MEDIA_KIND,
  MSG,
  RawFrame,
  Rejection,
  STATE,
  STATUS,
  TO_SENSOR,
  TO_TERMINAL,
  encodeFrame,
  parseFrame,
  sensorKey,
  verifyMac,
} from "./frame";
import { MAX_FILES, MAX_FILE_BYTES, MediaManifest, MediaStore, PART_BYTES } from "./media";
import type { LinkReceiver, SensorLink } from "./radio";
import { HmacKey } from "../lib/sha256";
import { AlarmRules, EventKind } from "../core/alarm";
import { AlarmPanel } from "./panel";

/** The `sensors` section of the manifest's config. */
export interface SensorHubConfig {
  /** the kit key the rental company provisioned (16 bytes); every sensor's key derives from it */
  kitKey: Uint8Array;
  /** a sensor silent this many heartbeat intervals (plus graceSeconds) is disconnected */
  missedHeartbeats: number;
  graceSeconds: number;
  /** how long the pairing window stays open */
  pairingSeconds: number;
  /** what an intrusion asks of each camera */
  captureImages: number;
  captureSeconds: number;
  /** a media unit still missing files this long after the capture is closed as incomplete */
  mediaTimeoutSeconds: number;
  /** while guarding, the terminal asks each armed sensor for a sign of life this often (PING);
   * an armed sensor silent for two of these plus graceSeconds is lost (a trouble event) */
  guardCheckSeconds: number;
  /** cameras that capture for a 24-hour alarm (fire, tamper, panic) outside guarding: "all"
   * registered cameras, or the IDs the site registered for that ([] for none) */
  allDayCameras: "all" | string[];
}

function hexKey(v: unknown): Uint8Array {
  if (typeof v !== "string" || !/^([0-9a-fA-F]{2}){16,32}$/.test(v)) {
    throw new FieldError("config.sensors.kitKey", "must be 16 to 32 bytes of hex");
  }
  const out = new Uint8Array(v.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(v.substr(i * 2, 2), 16);
  return out;
}

function int(v: unknown, fallback: number, field: string, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new FieldError(`config.sensors.${field}`, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function allDay(v: unknown): "all" | string[] {
  if (v === undefined || v === "all") return "all";
  if (Array.isArray(v) && v.length <= MAX_SENSORS && v.every((x) => isDeviceId(x) && isCamera(x))) return v.slice() as string[];
  throw new FieldError("config.sensors.allDayCameras", 'must be "all" or a list of camera IDs (B0001…)');
}

export function readSensorConfig(config: Readonly<Record<string, unknown>>): SensorHubConfig {
  const s = isRecord(config.sensors) ? config.sensors : {};
  return {
    kitKey: hexKey(s.kitKey),
    missedHeartbeats: int(s.missedHeartbeats, 3, "missedHeartbeats", 1, 20),
    graceSeconds: int(s.graceSeconds, 30, "graceSeconds", 0, 3600),
    pairingSeconds: int(s.pairingSeconds, 600, "pairingSeconds", 30, 86400),
    captureImages: int(s.captureImages, 3, "captureImages", 1, 10),
    captureSeconds: int(s.captureSeconds, 3, "captureSeconds", 1, 60),
    mediaTimeoutSeconds: int(s.mediaTimeoutSeconds, 120, "mediaTimeoutSeconds", 10, 3600),
    guardCheckSeconds: int(s.guardCheckSeconds, 60, "guardCheckSeconds", 10, 3600),
    allDayCameras: allDay(s.allDayCameras),
  };
}

/** One row of the sensor table (DESIGN §3: ID, connected?, operating?). */
interface Sensor {
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

/** What the hub tells the UI and the link (the link sends alarms and media to the center). */
export type HubEvent =
  | { type: "sensors.changed"; at: Seconds }
  | { type: "pairing.pending"; ids: string[]; at: Seconds }
  | { type: "sensors.registered"; ids: string[]; at: Seconds }
  | { type: "alarm"; alarm: Alarm }
  | { type: "media.ready"; unit: number; complete: boolean; at: Seconds };

export type HubListener = (e: HubEvent) => void;

export interface SensorHubPorts {
  terminal: Terminal;
  /** wall-clock milliseconds (timers are set to the millisecond of a deadline) */
  clock: Clock;
  store: Store;
  timers: Timers;
  config: SensorHubConfig;
  zoneMinutes: number;
  /** entry and exit delays (config.alarm); 30 s and 60 s when not given */
  alarmRules?: AlarmRules;
}

interface LogEntry {
  at: Seconds;
  id: string;
  event: string;
}

interface StoredSensor {
  id: string;
  hb: number;
  caps: number;
  fw: string;
  connected: boolean;
  battery: "ok" | "low";
}

interface Transfer {
  unit: MediaManifest;
  camera: string;
  fileIndex: number;
  /** number of this file inside the unit (storage key) */
  slot: number;
  kind: "jpeg" | "wav";
  total: number;
  offset: number;
  part: Uint8Array;
  fill: number;
  parts: number;
}

interface Capture {
  unit: MediaManifest;
  mediaId: number;
  /** camera → files it announced (null until its first chunk) */
  expected: Map<string, number | null>;
  /** camera → files finished */
  done: Map<string, number>;
  deadline: Seconds;
  /** the CAPTURE command's arguments, and per camera the counter of the last one sent (0 once answered) */
  args: Uint8Array;
  unanswered: Map<string, number>;
  tries: number;
  retryAt: Seconds;
  /** what the cameras were asked for: captureImages JPEGs and one clip each */
  images: number;
  clips: number;
}

const KEY_TABLE = "sn_table";
const KEY_RX = "sn_rx";
const KEY_TX = "sn_tx";
const KEY_ALARMS = "sn_alarms";
const KEY_LOG = "sn_log";
const KEY_EVENTS = "sn_ev";
const CAPTURE_RETRY_SECONDS = 2;
const CAPTURE_TRIES = 3;
const TX_RESERVE = 64;
const MAX_ALARMS = 16;
const MAX_LOG = 20;
export const MAX_SENSORS = 16;

const REJECTIONS: readonly Rejection[] = frozen(["truncated", "oversized", "crc", "version", "id", "mac", "replay", "unknown", "malformed", "direction"]);

/**
 * The sensor hub: the sensor table built by plug and play, the pairing window and the user's
 * confirmation, supervision, arming by the plan, 24-hour zones, and the alarm → capture → media
 * unit path. Links (radio, Wi-Fi) hand it frames; it answers through the link the sensor last
 * spoke on. Everything a frame claims is believed only after its CRC, its MAC under the sensor's
 * key and its counter pass; a refused frame is counted and changes nothing.
 */
export class SensorHub implements LinkReceiver, Inventory {
  #p: SensorHubPorts;
  #media: MediaStore;
  #sensors: Sensor[] = [];
  #pairingUntil: Seconds | null = null;
  #tx = 0;
  #txReserved = 0;
  #alarms: Alarm[] = [];
  #alarmSeq = 0;
  #log: LogEntry[] = [];
  #listeners: HubListener[] = [];
  #rejected: Record<string, number> = {};
  #accepted = 0;
  #sent = 0;
  #ignoredDetects = 0;
  #repeats = 0;
  #captureRepeats = 0;
  #mediaRefused = 0;
  #mediaGaps = 0;
  #timer: unknown = undefined;
  #armedIds: string[] = [];
  #capture: Capture | null = null;
  #transfers = new Map<string, Transfer>();
  #lastOperating = "";
  #panel: AlarmPanel;
  /** next PING round while guarding (null: not guarding) */
  #checkAt: Seconds | null = null;
  #armedSince: Seconds = 0;
  #lostIds: string[] = [];

  constructor(ports: SensorHubPorts) {
    this.#p = ports;
    for (const r of REJECTIONS) this.#rejected[r] = 0;
    this.#media = new MediaStore(ports.store);
    const t = this.#now();
    const table = ports.store.readJson(KEY_TABLE);
    const rx = ports.store.readJson(KEY_RX);
    const rxs = isRecord(rx) ? rx : {};
    const ev = ports.store.readJson(KEY_EVENTS);
    const evs = isRecord(ev) ? ev : {};
    if (Array.isArray(table)) {
      for (const s of table as StoredSensor[]) {
        if (!s || !isDeviceId(s.id) || this.#find(s.id)) continue;
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
          key: new HmacKey(sensorKey(ports.config.kitKey, s.id)),
          link: null,
        });
      }
    }
    const tx = ports.store.readJson(KEY_TX);
    // Counters below the stored reservation may have been used before a power cut: skip them all.
    this.#tx = this.#txReserved = typeof tx === "number" ? tx : 0;
    const alarms = ports.store.readJson(KEY_ALARMS);
    if (isRecord(alarms) && Array.isArray(alarms.list) && typeof alarms.seq === "number") {
      this.#alarms = alarms.list as Alarm[];
      this.#alarmSeq = alarms.seq;
    }
    const log = ports.store.readJson(KEY_LOG);
    if (Array.isArray(log)) this.#log = log as LogEntry[];
    this.#media.recover();
    // First installation: the window opens by itself so the kit's sensors can announce themselves.
    if (this.#registered().length === 0) this.#pairingUntil = t + ports.config.pairingSeconds;

    const terminal = ports.terminal;
    this.#panel = new AlarmPanel({
      terminal,
      store: ports.store,
      clock: ports.clock,
      timers: ports.timers,
      rules: ports.alarmRules ?? { entrySeconds: 30, exitSeconds: 60 },
      zoneMinutes: ports.zoneMinutes,
      raise: (kind, sensor, contactId, capture, silent) => this.#alarm(kind, sensor, this.#now(), contactId, capture, silent),
    });
    terminal.onEvent((e) => {
      if (e.type === "period.start" || e.type === "period.end" || e.type === "plan.changed") this.#applyPlan();
    });
    terminal.addSnapshotSource("sensors", () => this.sensorTable());
    terminal.addSnapshotSource("alarms", () => this.#alarms.map((a) => this.#showAlarm(a)));
    terminal.addSnapshotSource("pairing", () => this.pairing());
    terminal.addSnapshotSource("media", () => this.#mediaSummary());
    terminal.addSnapshotSource("sensorLink", () => this.counters());
    terminal.addSnapshotSource("sensorLog", () => this.#log.map((l) => ({ ...l, at: formatTime(l.at, ports.zoneMinutes) })));
    // After the terminal's boot (which may resume a period without an event): arm by the plan.
    ports.timers.set(() => {
      this.#applyPlan();
      this.#tick();
      this.#reschedule();
    }, 0);
  }

  /** The alarm panel: delays, disarm, duress, panic, per-alarm state (the UI and the link use it). */
  get panel(): AlarmPanel {
    return this.#panel;
  }

  /** The storage port the link engineer's outbox reads media units from. */
  get media(): MediaStore {
    return this.#media;
  }

  onEvent(listener: HubListener): void {
    this.#listeners.push(listener);
  }

  /** Inventory for plan validation: the registered sensors and cameras. */
  has(id: string): boolean {
    const s = this.#find(id);
    return s !== undefined && s.registered;
  }

  /** Inventory: the operating cameras (or the other devices), in table order; a plan by counts takes these. */
  operating(cameras: boolean): string[] {
    return this.#registered()
      .filter((s) => isCamera(s.id) === cameras && this.#operating(s))
      .map((s) => s.id);
  }

  // ---- user actions (keypad, CLI, center) ----

  openPairing(): { ok: true; until: string } {
    const t = this.#now();
    this.#pairingUntil = t + this.#p.config.pairingSeconds;
    this.#reschedule();
    return { ok: true, until: formatTime(this.#pairingUntil, this.#p.zoneMinutes) };
  }

  /** The user's OK on the list of new sensors: they join the table. */
  confirmPairing(): { ok: true; registered: string[] } | { ok: false; field: string; error: string } {
    const pending = this.#sensors.filter((s) => !s.registered);
    if (pending.length === 0) return { ok: false, field: "pairing", error: "no new sensor is waiting for confirmation" };
    const t = this.#now();
    for (const s of pending) {
      s.registered = true;
      this.#record(t, s.id, "registered");
    }
    this.#pairingUntil = null;
    this.#saveTable();
    this.#saveRx();
    this.#saveEvents();
    const ids = pending.map((s) => s.id);
    this.#emit({ type: "sensors.registered", ids, at: t });
    this.#applyPlan();
    return { ok: true, registered: ids };
  }

  pairing(): { open: boolean; until: string | null; pending: string[] } {
    const open = this.#pairingOpen(this.#now());
    return {
      open,
      until: open && this.#pairingUntil !== null ? formatTime(this.#pairingUntil, this.#p.zoneMinutes) : null,
      pending: this.#sensors.filter((s) => !s.registered).map((s) => s.id),
    };
  }

  sensorTable(): Array<Record<string, unknown>> {
    return this.#registered().map((s) => ({
      id: s.id,
      type: s.type,
      connected: s.connected,
      operating: this.#operating(s),
      battery: s.battery,
      armed: s.armed,
      tamper: s.tamper,
    }));
  }

  counters(): Record<string, unknown> {
    return {
      accepted: this.#accepted,
      sent: this.#sent,
      rejected: { ...this.#rejected },
      ignoredDetects: this.#ignoredDetects,
      repeatedEvents: this.#repeats,
      captureRepeats: this.#captureRepeats,
      mediaRefused: this.#mediaRefused,
      mediaGaps: this.#mediaGaps,
    };
  }

  // ---- from the links ----

  reject(why: Rejection): void {
    this.#rejected[why] = (this.#rejected[why] ?? 0) + 1;
  }

  frame(bytes: Uint8Array, link: SensorLink): void {
    const f = parseFrame(bytes);
    if (typeof f === "string") return this.reject(f);
    if (f.direction !== TO_TERMINAL) return this.reject("direction");
    const t = this.#now();
    let s = this.#find(f.id);
    if (!s) {
      // A newcomer is heard only while the pairing window is open, and only if it holds its key.
      if (!this.#pairingOpen(t) || (f.type !== MSG.STARTUP && f.type !== MSG.IDENT)) return this.reject("unknown");
      if (this.#sensors.length >= MAX_SENSORS) return this.reject("unknown");
      const key = new HmacKey(sensorKey(this.#p.config.kitKey, f.id));
      if (!verifyMac(f, key)) return this.reject("mac");
      if (f.counter === 0) return this.reject("replay");
      s = this.#newSensor(f.id, key, t);
    } else {
      if (!verifyMac(f, s.key)) return this.reject("mac");
      if (f.counter <= s.rx) return this.reject("replay");
    }
    if (!this.#payloadOk(f)) return this.reject("malformed");
    const sensor = s;
    if (this.#sensors.indexOf(sensor) < 0) {
      this.#sensors.push(sensor);
      this.#sensors.sort((a, b) => (a.id < b.id ? -1 : 1)); // the table reads in ID order
    }
    sensor.rx = f.counter;
    sensor.heard = t;
    if (!link.media) sensor.link = link;
    this.#accepted++;
    if (sensor.registered) this.#saveRx();
    let changed = false;
    if (!sensor.connected) {
      sensor.connected = true;
      changed = true;
      if (sensor.registered) this.#record(t, sensor.id, "connected");
      if (sensor.registered) this.#panel.event({ type: "back", sensor: sensor.id });
    }
    switch (f.type) {
      case MSG.STARTUP:
        this.#send(sensor, MSG.RESPONSE, this.#response(f, STATUS.IDENTIFY));
        break;
      case MSG.IDENT:
        changed = this.#ident(sensor, f.payload, t) || changed;
        this.#send(sensor, MSG.RESPONSE, this.#response(f, STATUS.OK));
        if (sensor.registered && this.#armedIds.indexOf(sensor.id) >= 0) this.#command(sensor, COMMAND.ARM);
        break;
      case MSG.HEARTBEAT:
        changed = this.#state(sensor, f.payload[0], f.payload[1], t) || changed;
        break;
      case MSG.EVENT:
        this.#send(sensor, MSG.RESPONSE, this.#response(f, STATUS.OK));
        if (f.payload[3] === sensor.lastEvent) {
          this.#repeats++; // the sensor repeated it because our answer was lost: done already
          break;
        }
        sensor.lastEvent = f.payload[3];
        if (sensor.registered) this.#saveEvents();
        changed = this.#event(sensor, f.payload[0], f.payload[1], f.payload[2], t) || changed;
        break;
      case MSG.RESPONSE:
        // a command's answer: heard (what supervision needs); a camera's answer to CAPTURE stops its repeats
        if (this.#capture && f.payload[0] === MSG.COMMAND) {
          const c = ((f.payload[1] << 24) | (f.payload[2] << 16) | (f.payload[3] << 8) | f.payload[4]) >>> 0;
          if (this.#capture.unanswered.get(sensor.id) === c) this.#capture.unanswered.delete(sensor.id);
        }
        break;
      case MSG.MEDIA:
        this.#mediaChunk(sensor, f.payload, t);
        break;
    }
    if (changed) {
      if (sensor.registered) this.#saveTable();
      this.#updateOperating();
      this.#emit({ type: "sensors.changed", at: t });
    }
    this.#reschedule();
  }

  // ---- internals ----

  #now(): Seconds {
    return this.#p.terminal.now();
  }

  #find(id: string): Sensor | undefined {
    for (const s of this.#sensors) if (s.id === id) return s;
    return undefined;
  }

  #registered(): Sensor[] {
    return this.#sensors.filter((s) => s.registered);
  }

  #pairingOpen(t: Seconds): boolean {
    return this.#pairingUntil !== null && t < this.#pairingUntil;
  }

  #operating(s: Sensor): boolean {
    return s.registered && s.connected;
  }

  #newSensor(id: string, key: HmacKey, t: Seconds): Sensor {
    this.#emitLater({ type: "pairing.pending", ids: [id], at: t });
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

  #payloadOk(f: RawFrame): boolean {
    const n = f.payload.length;
    switch (f.type) {
      case MSG.STARTUP:
        return n === 0;
      case MSG.IDENT:
        return n === 7 && ((f.payload[4] << 8) | f.payload[5]) > 0;
      case MSG.HEARTBEAT:
        return n === 2 && f.payload[1] <= 100;
      case MSG.EVENT:
        return n === 4 && f.payload[0] >= EVENT.DETECT && f.payload[0] <= EVENT.BATTERY_OK && f.payload[2] <= 100;
      case MSG.RESPONSE:
        return n === 6;
      case MSG.MEDIA:
        return n > 13 && n <= 13 + 211;
      default:
        return false;
    }
  }

  #response(f: RawFrame, status: number): Uint8Array {
    const c = f.counter;
    return new Uint8Array([f.type, c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff, status]);
  }

  /** Sends a frame to a sensor; returns its counter (0 when the sensor has no link yet). */
  #send(s: Sensor, type: number, payload: Uint8Array): number {
    if (!s.link) return 0;
    this.#tx++;
    if (this.#tx >= this.#txReserved) {
      this.#txReserved = this.#tx + TX_RESERVE;
      this.#p.store.writeJson(KEY_TX, this.#txReserved);
    }
    s.link.send(encodeFrame({ direction: TO_SENSOR, type, id: s.id, counter: this.#tx, payload }, s.key));
    this.#sent++;
    return this.#tx;
  }

  #command(s: Sensor, op: number, args?: Uint8Array): number {
    const payload = new Uint8Array(1 + (args ? args.length : 0));
    payload[0] = op;
    if (args) payload.set(args, 1);
    const counter = this.#send(s, MSG.COMMAND, payload);
    if (op === COMMAND.ARM) s.armed = true;
    if (op === COMMAND.DISARM) s.armed = false;
    return counter;
  }

  /** IDENT: state, firmware major.minor, battery %, heartbeat seconds (u16), capabilities. */
  #ident(s: Sensor, p: Uint8Array, t: Seconds): boolean {
    s.firmware = `${p[1]}.${p[2]}`;
    s.heartbeat = (p[4] << 8) | p[5];
    s.caps = p[6];
    return this.#state(s, p[0], p[3], t) || true;
  }

  /** The state bits every message carries: battery and tamper follow them. */
  #state(s: Sensor, state: number, percent: number, t: Seconds): boolean {
    s.batteryPercent = percent;
    let changed = false;
    const low = (state & STATE.LOW_BATTERY) !== 0 ? "low" : "ok";
    if (low !== s.battery) {
      s.battery = low;
      changed = true;
      if (s.registered) this.#record(t, s.id, low === "low" ? "battery.low" : "battery.ok");
    }
    const tamper = (state & STATE.TAMPER) !== 0;
    if (tamper !== s.tamper) {
      s.tamper = tamper;
      changed = true;
    }
    return changed;
  }

  #event(s: Sensor, kind: number, state: number, percent: number, t: Seconds): boolean {
    const wasTamper = s.tamper;
    const changed = this.#state(s, state, percent, t);
    if (!s.registered) return changed; // not in the table yet: heard, nothing more
    switch (kind) {
      case EVENT.DETECT:
        if (s.type === "smoke") this.#panel.event({ type: "fire", sensor: s.id });
        else if (s.type !== "camera" && this.#armedIds.indexOf(s.id) >= 0) this.#panel.event({ type: "detect", sensor: s.id });
        else this.#ignoredDetects++;
        break;
      case EVENT.TAMPER:
        s.tamper = true;
        if (!wasTamper) this.#panel.event({ type: "tamper", sensor: s.id });
        return true;
      case EVENT.TAMPER_RESTORE:
        s.tamper = false;
        this.#record(t, s.id, "tamper.restore");
        return true;
    }
    return changed;
  }

  /**
   * An event of the panel (an alarm, a trouble, an opening): recorded, stored, told to the link;
   * with `capture`, in a guarded period the period's cameras capture.
   */
  #alarm(kind: AlarmKind, sensor: string, t: Seconds, contactId: number, capture: boolean, silent: boolean): number {
    const period = this.#p.terminal.activePeriod;
    const alarm: Alarm = {
      seq: ++this.#alarmSeq,
      at: t,
      kind,
      sensor,
      guarded: period !== null,
      pattern: period ? period.pattern : null,
      media: null,
      contactId,
      silent,
    };
    if (capture) {
      // in a guarded period the period's cameras; outside one, a 24-hour alarm (fire, tamper,
      // panic) still gets images from the cameras registered for that
      const cams = period ? this.#periodCameras(period) : kind === "fire" || kind === "tamper" || kind === "panic" ? this.#allDayCameras() : [];
      alarm.media = this.#startCapture(alarm, cams, t);
      if (alarm.media !== null && this.#capture) {
        alarm.images = this.#capture.images;
        alarm.clips = this.#capture.clips;
      }
    }
    this.#alarms.push(alarm);
    if (this.#alarms.length > MAX_ALARMS) this.#alarms.shift();
    this.#p.store.writeJson(KEY_ALARMS, { seq: this.#alarmSeq, list: this.#alarms });
    this.#record(t, sensor, `alarm.${kind}`);
    this.#emit({ type: "alarm", alarm: { ...alarm } });
    return alarm.seq;
  }

  #periodCameras(period: Period): Sensor[] {
    const cams = this.#registered().filter((s) => s.type === "camera" && s.connected);
    return cams.filter((s) => period.cameraIds.indexOf(s.id) >= 0);
  }

  #allDayCameras(): Sensor[] {
    const cams = this.#registered().filter((s) => s.type === "camera" && s.connected);
    const chosen = this.#p.config.allDayCameras;
    return chosen === "all" ? cams : cams.filter((s) => chosen.indexOf(s.id) >= 0);
  }

  #startCapture(alarm: Alarm, cams: Sensor[], t: Seconds): number | null {
    if (cams.length === 0) return null;
    if (this.#capture) return this.#capture.unit.id; // one capture at a time: this alarm shares it
    if (this.#media.full) {
      this.#mediaRefused++;
      return null;
    }
    const mediaId = alarm.seq & 0xffff;
    const unit = this.#media.begin(mediaId, alarm.seq, t, cams.map((c) => c.id));
    const cfg = this.#p.config;
    this.#capture = {
      unit,
      mediaId,
      expected: new Map(cams.map((c) => [c.id, null])),
      done: new Map(cams.map((c) => [c.id, 0])),
      deadline: t + cfg.captureSeconds + cfg.mediaTimeoutSeconds,
      args: new Uint8Array(0),
      unanswered: new Map(),
      tries: 1,
      retryAt: t + CAPTURE_RETRY_SECONDS,
      images: cams.length * cfg.captureImages,
      clips: cams.length, // the CAPTURE's last argument asks each camera for one clip
    };
    const args = new Uint8Array([mediaId >> 8, mediaId & 0xff, cfg.captureImages, cfg.captureSeconds, 1]);
    this.#capture.args = args;
    for (const c of cams) this.#capture.unanswered.set(c.id, this.#command(c, COMMAND.CAPTURE, args));
    return mediaId;
  }

  /** MEDIA: media id u16, file u8, files u8, kind u8, total u32, offset u32, data. */
  #mediaChunk(s: Sensor, p: Uint8Array, t: Seconds): void {
    const cap = this.#capture;
    const mediaId = (p[0] << 8) | p[1];
    if (!cap || cap.mediaId !== mediaId || !cap.expected.has(s.id)) return this.reject("unknown");
    const fileIndex = p[2];
    const files = p[3];
    const kind = p[4] === MEDIA_KIND.JPEG ? "jpeg" : p[4] === MEDIA_KIND.WAV ? "wav" : null;
    const total = ((p[5] << 24) | (p[6] << 16) | (p[7] << 8) | p[8]) >>> 0;
    const offset = ((p[9] << 24) | (p[10] << 16) | (p[11] << 8) | p[12]) >>> 0;
    const data = p.subarray(13);
    if (!kind || files === 0 || fileIndex >= files || total === 0 || total > MAX_FILE_BYTES || offset + data.length > total) {
      return this.reject("malformed");
    }
    const announced = cap.expected.get(s.id);
    if (announced === null) {
      if (cap.unit.files.length + files > MAX_FILES) return this.reject("malformed");
      cap.expected.set(s.id, files);
    } else if (announced !== files) return this.reject("malformed");
    const done = cap.done.get(s.id) as number;
    if (fileIndex < done) return; // a repeat of a finished file
    let tr = this.#transfers.get(s.id);
    if (!tr || tr.fileIndex !== fileIndex) {
      if (fileIndex !== done || offset !== 0) {
        this.#mediaGaps++;
        return this.#resend(s, mediaId, done, tr && tr.fileIndex === done ? tr.offset : 0);
      }
      tr = {
        unit: cap.unit,
        camera: s.id,
        fileIndex,
        slot: this.#nextSlot(cap),
        kind,
        total,
        offset: 0,
        part: new Uint8Array(PART_BYTES),
        fill: 0,
        parts: 0,
      };
      this.#transfers.set(s.id, tr);
    }
    if (offset !== tr.offset || total !== tr.total) {
      if (offset > tr.offset) {
        this.#mediaGaps++;
        this.#resend(s, mediaId, fileIndex, tr.offset);
      }
      return; // behind: a repeat
    }
    let i = 0;
    while (i < data.length) {
      const take = Math.min(PART_BYTES - tr.fill, data.length - i);
      tr.part.set(data.subarray(i, i + take), tr.fill);
      tr.fill += take;
      i += take;
      tr.offset += take;
      if (tr.fill === PART_BYTES || tr.offset === tr.total) {
        this.#media.writePart(cap.unit.id, tr.slot, tr.parts++, tr.part.slice(0, tr.fill));
        tr.fill = 0;
      }
    }
    if (tr.offset === tr.total) {
      const name = kind === "wav" ? `${s.id}.wav` : `${s.id}-${fileIndex + 1}.jpg`;
      this.#media.addFile(cap.unit, { name, kind, camera: s.id, size: tr.total, parts: tr.parts });
      this.#transfers.delete(s.id);
      cap.done.set(s.id, done + 1);
      if (this.#captureComplete(cap)) this.#finishCapture(true, t);
    }
  }

  #nextSlot(cap: Capture): number {
    let slot = cap.unit.files.length;
    for (const tr of this.#transfers.values()) if (tr.unit === cap.unit && tr.slot >= slot) slot = tr.slot + 1;
    return slot;
  }

  #resend(s: Sensor, mediaId: number, file: number, offset: number): void {
    this.#command(s, COMMAND.RESEND, new Uint8Array([mediaId >> 8, mediaId & 0xff, file, offset >>> 24, (offset >>> 16) & 0xff, (offset >>> 8) & 0xff, offset & 0xff]));
  }

  #captureComplete(cap: Capture): boolean {
    for (const [cam, files] of cap.expected) if (files === null || (cap.done.get(cam) as number) < files) return false;
    return true;
  }

  #finishCapture(complete: boolean, t: Seconds): void {
    const cap = this.#capture;
    if (!cap) return;
    this.#capture = null;
    for (const [cam, tr] of this.#transfers) if (tr.unit === cap.unit) this.#transfers.delete(cam);
    this.#media.finish(cap.unit, complete);
    this.#emit({ type: "media.ready", unit: cap.unit.id, complete, at: t });
  }

  /** Arms the period's chosen sensors, disarms the rest; billing follows what operates. */
  #applyPlan(): void {
    const period = this.#p.terminal.activePeriod;
    let ids: string[] = [];
    if (period) {
      // the plan names its devices (a count was turned into IDs of the table when it was set)
      ids = period.sensorIds.filter((id) => this.has(id));
    }
    const t = this.#now();
    if (ids.length === 0) this.#checkAt = null;
    else if (this.#checkAt === null || ids.join() !== this.#armedIds.join()) {
      this.#armedSince = t;
      this.#checkAt = t + this.#p.config.guardCheckSeconds;
    }
    this.#armedIds = ids;
    for (const s of this.#registered()) {
      if (s.type === "camera") continue;
      const want = ids.indexOf(s.id) >= 0;
      if (want !== s.armed) this.#command(s, want ? COMMAND.ARM : COMMAND.DISARM);
    }
    this.#updateOperating();
    this.#reschedule();
  }

  /** Tells the terminal how many of the running period's chosen devices operate now. */
  #updateOperating(): void {
    const period = this.#p.terminal.activePeriod;
    if (!period) {
      this.#lastOperating = "";
      return;
    }
    const counts = this.#operatingCounts(period);
    const key = `${counts.sensor},${counts.camera},${counts.door},${counts.smoke}`;
    if (key === this.#lastOperating) return;
    this.#lastOperating = key;
    this.#p.terminal.setOperating(counts);
  }

  #operatingCounts(period: Period): DeviceCounts {
    const reg = this.#registered();
    const c: Record<string, number> = { sensor: 0, camera: 0, door: 0, smoke: 0 };
    // Only the chosen devices that operate are billed (a plan's counts became IDs of the table).
    for (const s of reg) if (this.#operating(s) && period.sensorIds.indexOf(s.id) >= 0) c[billingKind(s.id)]++;
    for (const s of reg) if (this.#operating(s) && period.cameraIds.indexOf(s.id) >= 0) c.camera++;
    return deviceCounts(c);
  }

  /** Supervision and timeouts: one timer, at the earliest deadline. */
  #tick(): void {
    const t = this.#now();
    let changed = false;
    for (const s of this.#sensors) {
      if (s.connected && t >= this.#deadline(s)) {
        s.connected = false;
        changed = true;
        if (s.registered) this.#record(t, s.id, "disconnected");
        // supervision while guarding: a chosen sensor lost is a trouble event for the center
        if (s.registered && this.#armedIds.indexOf(s.id) >= 0) this.#lostIds.push(s.id);
        const tr = this.#transfers.get(s.id);
        if (tr) this.#transfers.delete(s.id);
      }
    }
    // pending sensors that went silent leave the list
    const before = this.#sensors.length;
    this.#sensors = this.#sensors.filter((s) => s.registered || s.connected);
    if (this.#sensors.length !== before) changed = true;
    if (this.#pairingUntil !== null && t >= this.#pairingUntil) {
      // the window closed without the user's OK: the newcomers are forgotten
      this.#pairingUntil = null;
      this.#sensors = this.#sensors.filter((s) => s.registered);
    }
    const cap = this.#capture;
    if (cap && t >= cap.retryAt && cap.unanswered.size > 0) {
      // a camera has not answered CAPTURE: the command or its answer was lost; ask again
      // (a camera takes a repeated CAPTURE of the same media id as the same request)
      if (cap.tries < CAPTURE_TRIES) {
        cap.tries++;
        cap.retryAt = t + CAPTURE_RETRY_SECONDS;
        for (const id of Array.from(cap.unanswered.keys())) {
          const cam = this.#find(id);
          if (cam) cap.unanswered.set(id, this.#command(cam, COMMAND.CAPTURE, cap.args));
        }
        this.#captureRepeats++;
      } else cap.unanswered.clear();
    }
    if (this.#capture && t >= this.#capture.deadline) this.#finishCapture(false, t);
    // while guarding, the armed sensors are asked for a sign of life every guardCheckSeconds
    if (this.#checkAt !== null && t >= this.#checkAt) {
      this.#checkAt = t + this.#p.config.guardCheckSeconds;
      for (const id of this.#armedIds) {
        const s = this.#find(id);
        if (s && s.registered) this.#command(s, COMMAND.PING);
      }
    }
    if (changed) {
      this.#saveTable();
      this.#updateOperating();
      this.#emit({ type: "sensors.changed", at: t });
    }
    const lost = this.#lostIds;
    this.#lostIds = [];
    for (const id of lost) this.#panel.event({ type: "lost", sensor: id });
  }

  #deadline(s: Sensor): Seconds {
    const c = this.#p.config;
    const usual = s.heard + s.heartbeat * c.missedHeartbeats + c.graceSeconds;
    if (this.#checkAt === null || this.#armedIds.indexOf(s.id) < 0) return usual;
    // armed: two unanswered checks (counted from the arming at the earliest) and the grace
    const guarded = Math.max(s.heard, this.#armedSince) + 2 * c.guardCheckSeconds + c.graceSeconds;
    return guarded < usual ? guarded : usual;
  }

  #reschedule(): void {
    let wake: Seconds | null = null;
    const consider = (x: Seconds) => {
      if (wake === null || x < wake) wake = x;
    };
    for (const s of this.#sensors) if (s.connected) consider(this.#deadline(s));
    if (this.#pairingUntil !== null) consider(this.#pairingUntil);
    if (this.#checkAt !== null) consider(this.#checkAt);
    if (this.#capture) {
      consider(this.#capture.deadline);
      if (this.#capture.unanswered.size > 0) consider(this.#capture.retryAt);
    }
    if (wake === null) return;
    const timers = this.#p.timers;
    if (this.#timer !== undefined) timers.clear(this.#timer);
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.#tick();
      this.#reschedule();
    }, Math.max(0, (wake as number) * 1000 - this.#p.clock.now()));
  }

  #record(t: Seconds, id: string, event: string): void {
    this.#log.push({ at: t, id, event });
    if (this.#log.length > MAX_LOG) this.#log.shift();
    this.#p.store.writeJson(KEY_LOG, this.#log);
  }

  #saveTable(): void {
    const rows: StoredSensor[] = this.#registered().map((s) => ({
      id: s.id,
      hb: s.heartbeat,
      caps: s.caps,
      fw: s.firmware,
      connected: s.connected,
      battery: s.battery,
    }));
    this.#p.store.writeJson(KEY_TABLE, rows);
  }

  #saveEvents(): void {
    const ev: Record<string, number> = {};
    for (const s of this.#registered()) ev[s.id] = s.lastEvent;
    this.#p.store.writeJson(KEY_EVENTS, ev);
  }

  #saveRx(): void {
    const rx: Record<string, number> = {};
    for (const s of this.#registered()) rx[s.id] = s.rx;
    this.#p.store.writeJson(KEY_RX, rx);
  }

  #showAlarm(a: Alarm): Record<string, unknown> {
    return { ...a, at: formatTime(a.at, this.#p.zoneMinutes), t: a.at };
  }

  #mediaSummary(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const id of this.#media.units()) {
      const m = this.#media.manifest(id);
      if (!m) continue;
      out.push({
        id,
        alarm: m.alarm,
        open: m.open,
        complete: m.complete,
        files: m.files.map((f) => ({ name: f.name, kind: f.kind, size: f.size })),
      });
    }
    return out;
  }

  #pendingEmits: HubEvent[] = [];

  #emitLater(e: HubEvent): void {
    this.#pendingEmits.push(e);
  }

  #emit(e: HubEvent): void {
    const all = this.#pendingEmits.concat([e]);
    this.#pendingEmits = [];
    for (const ev of all) {
      for (const l of this.#listeners) {
        try {
          l(ev);
        } catch {
          // a listener's failure must not stop the hub
        }
      }
    }
  }
}
