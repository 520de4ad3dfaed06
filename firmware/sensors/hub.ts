import { frozen } from "../lib/frozen";
import { billingKind, isCamera } from "../core/devices";
import { DeviceCounts, deviceCounts } from "../core/fee";
import type { Inventory, Period } from "../core/plan";
import { Seconds, formatTime } from "../core/time";
import type { Clock, Terminal, Timers } from "../app/terminal";
import type { Store } from "../platform/store";
import { COMMAND, EVENT, MSG, Rejection, STATE, STATUS, TO_SENSOR, TO_TERMINAL, encodeFrame, parseFrame, verifyMac } from "./frame";
import { MediaStore } from "./media";
import type { LinkReceiver, SensorLink } from "./radio";
import type { AlarmRules } from "../core/alarm";
import { AlarmPanel } from "./panel";
import { MAX_SENSORS, SensorHubConfig } from "./hub-config";
import { commandPayload, decodeEvent, decodeHeartbeat, decodeIdent, decodeResponse, payloadOk, responsePayload } from "./payload";
import { Sensor, SensorTable, newcomer, operating } from "./sensor-table";
import { Supervision } from "./supervision";
import { CaptureSession } from "./capture";
import { Alarm, AlarmKind, HubRecords } from "./hub-records";

export type { Alarm, AlarmKind } from "./hub-records";

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

const KEY_TX = "sn_tx";
const TX_RESERVE = 64;

const REJECTIONS: readonly Rejection[] = frozen(["truncated", "oversized", "crc", "version", "id", "mac", "replay", "unknown", "malformed", "direction"]);

/**
 * The sensor hub: the sensor table built by plug and play (sensor-table.ts), the pairing window
 * and the user's confirmation, supervision (supervision.ts), arming by the plan, 24-hour zones,
 * and the alarm → capture → media unit path (capture.ts). Links (radio, Wi-Fi) hand it frames;
 * it answers through the link the sensor last spoke on. Everything a frame claims is believed
 * only after its CRC, its MAC under the sensor's key and its counter pass, and its payload is
 * read (payload.ts) only once its size fits its type; a refused frame is counted and changes
 * nothing.
 */
export class SensorHub implements LinkReceiver, Inventory {
  #p: SensorHubPorts;
  #media: MediaStore;
  #table: SensorTable;
  #supervision: Supervision;
  #capture: CaptureSession;
  #pairingUntil: Seconds | null = null;
  #tx = 0;
  #txReserved = 0;
  #records: HubRecords;
  #listeners: HubListener[] = [];
  #rejected: Record<string, number> = {};
  #accepted = 0;
  #sent = 0;
  #ignoredDetects = 0;
  #repeats = 0;
  #timer: unknown = undefined;
  #lastOperating = "";
  #panel: AlarmPanel;
  #pendingEmits: HubEvent[] = [];

  constructor(ports: SensorHubPorts) {
    this.#p = ports;
    for (const r of REJECTIONS) this.#rejected[r] = 0;
    this.#media = new MediaStore(ports.store);
    const t = this.#now();
    this.#table = new SensorTable(ports.store, ports.config.kitKey, t);
    this.#supervision = new Supervision(ports.config);
    this.#capture = new CaptureSession({
      media: this.#media,
      config: ports.config,
      command: (id, op, args) => {
        const s = this.#table.find(id);
        return s ? this.#command(s, op, args) : null;
      },
      reject: (why) => this.reject(why),
      finished: (unit, complete, at) => this.#emit({ type: "media.ready", unit, complete, at }),
    });
    const tx = ports.store.readJson(KEY_TX);
    // Counters below the stored reservation may have been used before a power cut: skip them all.
    this.#tx = this.#txReserved = typeof tx === "number" ? tx : 0;
    this.#records = new HubRecords(ports.store, ports.zoneMinutes);
    this.#media.recover();
    // First installation: the window opens by itself so the kit's sensors can announce themselves.
    if (this.#table.registered().length === 0) this.#pairingUntil = t + ports.config.pairingSeconds;

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
    terminal.addSnapshotPart(this);
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
    const s = this.#table.find(id);
    return s !== undefined && s.registered;
  }

  /** Inventory: the operating cameras (or the other devices), in table order; a plan by counts takes these. */
  operating(cameras: boolean): string[] {
    return this.#table.registered()
      .filter((s) => isCamera(s.id) === cameras && operating(s))
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
    const pending = this.#table.pending();
    if (pending.length === 0) return { ok: false, field: "pairing", error: "no new sensor is waiting for confirmation" };
    const t = this.#now();
    for (const s of pending) {
      s.registered = true;
      this.#records.record(t, s.id, "registered");
    }
    this.#pairingUntil = null;
    this.#table.saveTable();
    this.#table.saveRx();
    this.#table.saveEvents();
    const ids = pending.map((s) => s.id);
    this.#emit({ type: "sensors.registered", ids, at: t });
    this.#applyPlan();
    return { ok: true, registered: ids };
  }

  /** its part of the terminal's snapshot */
  snapshotInto(out: Record<string, unknown>): void {
    out.sensors = this.sensorTable();
    out.alarms = this.#records.alarms();
    out.pairing = this.pairing();
    out.media = this.#media.summary();
    out.sensorLink = this.counters();
    out.sensorLog = this.#records.log();
  }

  pairing(): { open: boolean; until: string | null; pending: string[] } {
    const open = this.#pairingOpen(this.#now());
    return {
      open,
      until: open && this.#pairingUntil !== null ? formatTime(this.#pairingUntil, this.#p.zoneMinutes) : null,
      pending: this.#table.pending().map((s) => s.id),
    };
  }

  sensorTable(): Array<Record<string, unknown>> {
    return this.#table.registered().map((s) => ({
      id: s.id,
      type: s.type,
      connected: s.connected,
      operating: operating(s),
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
      ...this.#capture.counters(),
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
    let s = this.#table.find(f.id);
    if (!s) {
      // A newcomer is heard only while the pairing window is open, and only if it holds its key.
      if (!this.#pairingOpen(t) || (f.type !== MSG.STARTUP && f.type !== MSG.IDENT)) return this.reject("unknown");
      if (this.#table.size >= MAX_SENSORS) return this.reject("unknown");
      const key = this.#table.keyOf(f.id);
      if (!verifyMac(f, key)) return this.reject("mac");
      if (f.counter === 0) return this.reject("replay");
      this.#emitLater({ type: "pairing.pending", ids: [f.id], at: t });
      s = newcomer(f.id, key, t);
    } else {
      if (!verifyMac(f, s.key)) return this.reject("mac");
      if (f.counter <= s.rx) return this.reject("replay");
    }
    if (!payloadOk(f)) return this.reject("malformed");
    const sensor = s;
    this.#table.add(sensor);
    sensor.rx = f.counter;
    sensor.heard = t;
    if (!link.media) sensor.link = link;
    this.#accepted++;
    if (sensor.registered) this.#table.saveRx();
    let changed = false;
    if (!sensor.connected) {
      sensor.connected = true;
      changed = true;
      if (sensor.registered) this.#records.record(t, sensor.id, "connected");
      if (sensor.registered) this.#panel.event({ type: "back", sensor: sensor.id });
    }
    switch (f.type) {
      case MSG.STARTUP:
        this.#send(sensor, MSG.RESPONSE, responsePayload(f.type, f.counter, STATUS.IDENTIFY));
        break;
      case MSG.IDENT: {
        const id = decodeIdent(f.payload);
        sensor.firmware = id.firmware;
        sensor.heartbeat = id.heartbeat;
        sensor.caps = id.caps;
        this.#state(sensor, id.state, id.percent, t);
        changed = true;
        this.#send(sensor, MSG.RESPONSE, responsePayload(f.type, f.counter, STATUS.OK));
        if (sensor.registered && this.#supervision.isArmed(sensor.id)) this.#command(sensor, COMMAND.ARM);
        break;
      }
      case MSG.HEARTBEAT: {
        const hb = decodeHeartbeat(f.payload);
        changed = this.#state(sensor, hb.state, hb.percent, t) || changed;
        break;
      }
      case MSG.EVENT: {
        const ev = decodeEvent(f.payload);
        this.#send(sensor, MSG.RESPONSE, responsePayload(f.type, f.counter, STATUS.OK));
        if (ev.number === sensor.lastEvent) {
          this.#repeats++; // the sensor repeated it because our answer was lost: done already
          break;
        }
        sensor.lastEvent = ev.number;
        if (sensor.registered) this.#table.saveEvents();
        changed = this.#event(sensor, ev.kind, ev.state, ev.percent, t) || changed;
        break;
      }
      case MSG.RESPONSE: {
        // a command's answer: heard (what supervision needs); a camera's answer to CAPTURE stops its repeats
        const r = decodeResponse(f.payload);
        if (r.type === MSG.COMMAND) this.#capture.answered(sensor.id, r.counter);
        break;
      }
      case MSG.MEDIA:
        this.#capture.chunk(sensor.id, f.payload, t);
        break;
    }
    if (changed) {
      if (sensor.registered) this.#table.saveTable();
      this.#updateOperating();
      this.#emit({ type: "sensors.changed", at: t });
    }
    this.#reschedule();
  }

  // ---- internals ----

  #now(): Seconds {
    return this.#p.terminal.now();
  }

  #pairingOpen(t: Seconds): boolean {
    return this.#pairingUntil !== null && t < this.#pairingUntil;
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
    const counter = this.#send(s, MSG.COMMAND, commandPayload(op, args));
    if (op === COMMAND.ARM) s.armed = true;
    if (op === COMMAND.DISARM) s.armed = false;
    return counter;
  }

  /** The state bits every message carries: battery and tamper follow them. */
  #state(s: Sensor, state: number, percent: number, t: Seconds): boolean {
    s.batteryPercent = percent;
    let changed = false;
    const low = (state & STATE.LOW_BATTERY) !== 0 ? "low" : "ok";
    if (low !== s.battery) {
      s.battery = low;
      changed = true;
      if (s.registered) this.#records.record(t, s.id, low === "low" ? "battery.low" : "battery.ok");
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
        else if (s.type !== "camera" && this.#supervision.isArmed(s.id)) this.#panel.event({ type: "detect", sensor: s.id });
        else this.#ignoredDetects++;
        break;
      case EVENT.TAMPER:
        s.tamper = true;
        if (!wasTamper) this.#panel.event({ type: "tamper", sensor: s.id });
        return true;
      case EVENT.TAMPER_RESTORE:
        s.tamper = false;
        this.#records.record(t, s.id, "tamper.restore");
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
      seq: this.#records.nextSeq(),
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
      const asked = this.#capture.start(alarm.seq, cams, t);
      if (asked) {
        alarm.media = asked.media;
        alarm.images = asked.images;
        alarm.clips = asked.clips;
      }
    }
    this.#records.addAlarm(alarm);
    this.#records.record(t, sensor, `alarm.${kind}`);
    this.#emit({ type: "alarm", alarm: { ...alarm } });
    return alarm.seq;
  }

  /** The period's connected cameras. */
  #periodCameras(period: Period): string[] {
    return this.#connectedCameras().filter((id) => period.cameraIds.indexOf(id) >= 0);
  }

  /** The connected cameras registered for 24-hour alarms. */
  #allDayCameras(): string[] {
    const chosen = this.#p.config.allDayCameras;
    const cams = this.#connectedCameras();
    return chosen === "all" ? cams : cams.filter((id) => chosen.indexOf(id) >= 0);
  }

  #connectedCameras(): string[] {
    return this.#table
      .registered()
      .filter((s) => s.type === "camera" && s.connected)
      .map((s) => s.id);
  }

  /** Arms the period's chosen sensors, disarms the rest; billing follows what operates. */
  #applyPlan(): void {
    const period = this.#p.terminal.activePeriod;
    let ids: string[] = [];
    if (period) {
      // the plan names its devices (a count was turned into IDs of the table when it was set)
      ids = period.sensorIds.filter((id) => this.has(id));
    }
    this.#supervision.arm(ids, this.#now());
    for (const s of this.#table.registered()) {
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
    const reg = this.#table.registered();
    const c: Record<string, number> = { sensor: 0, camera: 0, door: 0, smoke: 0 };
    // Only the chosen devices that operate are billed (a plan's counts became IDs of the table).
    for (const s of reg) if (operating(s) && period.sensorIds.indexOf(s.id) >= 0) c[billingKind(s.id)]++;
    for (const s of reg) if (operating(s) && period.cameraIds.indexOf(s.id) >= 0) c.camera++;
    return deviceCounts(c);
  }

  /** Supervision and timeouts: one timer, at the earliest deadline. */
  #tick(): void {
    const t = this.#now();
    let changed = false;
    const lost: string[] = [];
    for (const s of this.#table.all) {
      if (s.connected && t >= this.#supervision.deadline(s)) {
        s.connected = false;
        changed = true;
        if (s.registered) this.#records.record(t, s.id, "disconnected");
        // supervision while guarding: a chosen sensor lost is a trouble event for the center
        if (s.registered && this.#supervision.isArmed(s.id)) lost.push(s.id);
        this.#capture.lost(s.id);
      }
    }
    // pending sensors that went silent leave the list
    if (this.#table.retain((s) => s.registered || s.connected)) changed = true;
    if (this.#pairingUntil !== null && t >= this.#pairingUntil) {
      // the window closed without the user's OK: the newcomers are forgotten
      this.#pairingUntil = null;
      this.#table.retain((s) => s.registered);
    }
    this.#capture.tick(t);
    // while guarding, the armed sensors are asked for a sign of life every guardCheckSeconds
    if (this.#supervision.checkDue(t)) {
      for (const id of this.#supervision.armedIds) {
        const s = this.#table.find(id);
        if (s && s.registered) this.#command(s, COMMAND.PING);
      }
    }
    if (changed) {
      this.#table.saveTable();
      this.#updateOperating();
      this.#emit({ type: "sensors.changed", at: t });
    }
    for (const id of lost) this.#panel.event({ type: "lost", sensor: id });
  }

  #reschedule(): void {
    let wake: Seconds | null = null;
    const consider = (x: Seconds | null) => {
      if (x !== null && (wake === null || x < wake)) wake = x;
    };
    for (const s of this.#table.all) if (s.connected) consider(this.#supervision.deadline(s));
    consider(this.#pairingUntil);
    consider(this.#supervision.nextCheck);
    consider(this.#capture.wake());
    if (wake === null) return;
    const timers = this.#p.timers;
    if (this.#timer !== undefined) timers.clear(this.#timer);
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.#tick();
      this.#reschedule();
    }, Math.max(0, (wake as number) * 1000 - this.#p.clock.now()));
  }

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
