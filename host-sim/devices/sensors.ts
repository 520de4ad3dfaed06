import { createHmac } from "node:crypto";
import type { IoHub } from "../io/hub";
import { ACTIONS, ScriptError } from "../script";
import type { SimPlugin, Simulator } from "../simulator";
import { manifestConfig } from "../project";
import { AirStation, RadioModule } from "./radio-module";
import { FIRMWARE_ADDRESS, Lan } from "../io/sockets";

/*
 * Simulated field devices: intrusion (PIR) sensors, door contacts, smoke/heat sensors and cameras,
 * each an independent device with its own counter, key and timers, speaking the sensor link of
 * docs/protocols.md over the emulated radio. The codec here is written from the document, apart
 * from the firmware's (firmware/sensors/frame.ts), and uses Node's HMAC: the two meet only on the air.
 */

// ---------------------------------------------------------------- the link, from docs/protocols.md

export const LINK = Object.freeze({
  SYNC: [0xa5, 0x5a] as const,
  VERSION: 1,
  MAX_PAYLOAD: 224,
  MSG: { STARTUP: 1, RESPONSE: 2, IDENT: 3, HEARTBEAT: 4, EVENT: 5, COMMAND: 6, MEDIA: 7 },
  EVENT: { DETECT: 1, RESTORE: 2, TAMPER: 3, LOW_BATTERY: 4, TAMPER_RESTORE: 5, BATTERY_OK: 6 },
  COMMAND: { ARM: 1, DISARM: 2, CAPTURE: 3, PING: 4, RESEND: 5 },
  STATE: { DETECT: 1, TAMPER: 2, LOW_BATTERY: 4, ARMED: 8 },
  CAPS: { IMAGES: 1, SOUND: 2 },
  STATUS: { OK: 0, IDENTIFY: 1 },
  MEDIA_CHUNK: 192,
});

/** CRC-16/CCITT-FALSE, bit by bit. */
export function crc16ccitt(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function deriveSensorKey(kitKey: Uint8Array, id: string): Buffer {
  return createHmac("sha256", kitKey).update(Buffer.from(`TG1${id}`, "ascii")).digest().subarray(0, 16);
}

export interface LinkFrame {
  toSensor: boolean;
  type: number;
  id: string;
  counter: number;
  payload: Uint8Array;
}

/** Encodes a frame; `lenOverride` and friends exist for the attacker. */
export function buildFrame(f: LinkFrame, key: Uint8Array): Uint8Array {
  const body = Buffer.alloc(9 + f.payload.length);
  body[0] = (LINK.VERSION << 4) | (f.toSensor ? 1 : 0);
  body[1] = f.type;
  body[2] = f.id.charCodeAt(0);
  body.writeUInt16BE(parseInt(f.id.slice(1), 10), 3);
  body.writeUInt32BE(f.counter >>> 0, 5);
  body.set(f.payload, 9);
  const len = body.length + 4;
  const macInput = Buffer.concat([Buffer.from([len]), body]);
  const mac = createHmac("sha256", key).update(macInput).digest().subarray(0, 4);
  const covered = Buffer.concat([macInput, mac]);
  const crc = crc16ccitt(covered);
  return new Uint8Array(Buffer.concat([Buffer.from(LINK.SYNC), covered, Buffer.from([crc >> 8, crc & 0xff])]));
}

/** Parses one whole transmission; null when it is not a good frame (CRC, length, sync). */
export function readFrame(bytes: Uint8Array): (LinkFrame & { macOk(key: Uint8Array): boolean }) | null {
  if (bytes.length < 3 + 13 + 2 || bytes[0] !== 0xa5 || bytes[1] !== 0x5a) return null;
  const len = bytes[2];
  if (bytes.length !== 3 + len + 2 || len < 13) return null;
  const b = Buffer.from(bytes);
  if (crc16ccitt(bytes.subarray(2, 3 + len)) !== b.readUInt16BE(3 + len)) return null;
  if (bytes[3] >> 4 !== LINK.VERSION) return null;
  const id = String.fromCharCode(bytes[5]) + String(b.readUInt16BE(6)).padStart(4, "0");
  return {
    toSensor: (bytes[3] & 1) === 1,
    type: bytes[4],
    id,
    counter: b.readUInt32BE(8),
    payload: bytes.slice(12, 3 + len - 4),
    macOk(key) {
      const mac = createHmac("sha256", key).update(b.subarray(2, 3 + len - 4)).digest().subarray(0, 4);
      return mac.equals(b.subarray(3 + len - 4, 3 + len));
    },
  };
}

// ---------------------------------------------------------------- real media: baseline JPEG, WAV

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56,
  57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
// ITU T.81 Annex K tables: luminance quantisation (K.1) and the typical Huffman tables (K.3, K.5).
const QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18,
  22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91,
  0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a,
  0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53,
  0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
  0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
  0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
  0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2,
  0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

/** Huffman codes from a DHT's counts and values (T.81 Annex C). */
function huffmanCodes(bits: number[], vals: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) out.set(vals[k++], [code++, len]);
    code <<= 1;
  }
  return out;
}
const DC_CODES = huffmanCodes(DC_BITS, DC_VALS);
const AC_CODES = huffmanCodes(AC_BITS, AC_VALS);

const COS = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i >> 3) + 1) * (i & 7) * Math.PI) / 16)); // [x][u]

/**
 * A baseline (SOF0) greyscale JPEG of `pixels` (w×h, both multiples of 8), quality as Annex K's
 * table, standard Huffman tables. Any JPEG decoder reads it.
 */
export function encodeJpeg(pixels: Uint8Array, w: number, h: number): Uint8Array {
  if (w % 8 || h % 8) throw new Error("width and height must be multiples of 8");
  const out: number[] = [0xff, 0xd8];
  const seg = (marker: number, body: number[]) => out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // JFIF 1.01
  seg(0xdb, [0, ...ZIGZAG.map((z) => QUANT[z])]);
  seg(0xc0, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]);
  seg(0xc4, [0x00, ...DC_BITS, ...DC_VALS]);
  seg(0xc4, [0x10, ...AC_BITS, ...AC_VALS]);
  seg(0xda, [1, 1, 0x00, 0, 63, 0]);
  let acc = 0;
  let nbits = 0;
  const put = (code: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >> i) & 1);
      if (++nbits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const category = (v: number) => (v === 0 ? 0 : 32 - Math.clz32(Math.abs(v)));
  const amplitude = (v: number, cat: number) => (v < 0 ? v + (1 << cat) - 1 : v);
  let prevDc = 0;
  const block = new Float64Array(64);
  const q = new Int32Array(64);
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = pixels[(by + y) * w + bx + x] - 128;
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let sum = 0;
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += block[y * 8 + x] * COS[x * 8 + u] * COS[y * 8 + v];
          const cu = u === 0 ? Math.SQRT1_2 : 1;
          const cv = v === 0 ? Math.SQRT1_2 : 1;
          q[v * 8 + u] = Math.round((0.25 * cu * cv * sum) / QUANT[v * 8 + u]);
        }
      }
      const dc = q[0];
      const diff = dc - prevDc;
      prevDc = dc;
      const dcat = category(diff);
      const [dcode, dlen] = DC_CODES.get(dcat) as [number, number];
      put(dcode, dlen);
      if (dcat) put(amplitude(diff, dcat), dcat);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = q[ZIGZAG[k]];
        if (v === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          const [c, l] = AC_CODES.get(0xf0) as [number, number];
          put(c, l);
          run -= 16;
        }
        const cat = category(v);
        const [c, l] = AC_CODES.get((run << 4) | cat) as [number, number];
        put(c, l);
        put(amplitude(v, cat), cat);
        run = 0;
      }
      if (run > 0) {
        const [c, l] = AC_CODES.get(0x00) as [number, number];
        put(c, l);
      }
    }
  }
  if (nbits > 0) put((1 << (8 - nbits)) - 1, 8 - nbits);
  out.push(0xff, 0xd9);
  return new Uint8Array(out);
}

/** A camera's view: a room-like gradient with a figure that moves from image to image. */
export function cameraImage(seed: number, index: number, w = 32, h = 24): Uint8Array {
  const px = new Uint8Array(w * h);
  const fx = (seed * 7 + index * 6) % (w - 6);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 60 + ((x * 4 + y * 3) % 90);
      if (x >= fx && x < fx + 6 && y >= 6 && y < h - 2) v = 220 - y * 2;
      px[y * w + x] = v;
    }
  }
  return encodeJpeg(px, w, h);
}

/** A short PCM WAV clip: 8-bit mono at `rate`, a tone with a little noise. */
export function soundClip(seed: number, ms = 250, rate = 8000): Uint8Array {
  const n = Math.floor((rate * ms) / 1000);
  const b = Buffer.alloc(44 + n);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + n, 4);
  b.write("WAVE", 8, "ascii");
  b.write("fmt ", 12, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate, 28); // bytes per second
  b.writeUInt16LE(1, 32); // block align
  b.writeUInt16LE(8, 34); // bits per sample
  b.write("data", 36, "ascii");
  b.writeUInt32LE(n, 40);
  let r = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    r = (r * 1103515245 + 12345) >>> 0;
    const noise = ((r >>> 16) & 15) - 8;
    b[44 + i] = Math.max(0, Math.min(255, Math.round(128 + 60 * Math.sin((2 * Math.PI * 440 * i) / rate) + noise)));
  }
  return new Uint8Array(b);
}

// ---------------------------------------------------------------- the devices

export type SimSensorType = "intrusion" | "camera" | "smoke" | "door";
const LETTER: Record<SimSensorType, string> = { intrusion: "A", camera: "B", smoke: "C", door: "D" };
const TYPE_OF: Record<string, SimSensorType> = { A: "intrusion", B: "camera", C: "smoke", D: "door" };

export interface SimSensorOptions {
  id: string;
  kitKey: Uint8Array;
  heartbeatSeconds?: number;
  /** the key the device holds, when it is not the kit's (a sensor from another kit) */
  key?: Uint8Array;
}

/** What a field device keeps in its own flash across power-downs. */
export interface SensorMemory {
  /** its transmit counter */
  counter: number;
  /** the last counter it accepted from the terminal */
  terminalCounter: number;
  /** its last event's number (0-255) */
  eventNumber: number;
}

const SENSOR_COUNTER_MAX = 0xffffffff;

/**
 * A device's memory saved outside the simulator (a demo's sensors.json, a saved session): the
 * first field that is not what it must be, or null when all are.
 */
export function sensorMemoryProblem(m: Record<string, unknown>): { field: keyof SensorMemory; want: string } | null {
  const isInt = (v: unknown, max: number) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
  if (!isInt(m.counter, SENSOR_COUNTER_MAX)) return { field: "counter", want: `an integer from 0 to ${SENSOR_COUNTER_MAX}` };
  if (!isInt(m.terminalCounter, SENSOR_COUNTER_MAX)) return { field: "terminalCounter", want: `an integer from 0 to ${SENSOR_COUNTER_MAX}` };
  if (!isInt(m.eventNumber, 255)) return { field: "eventNumber", want: "an integer from 0 to 255" };
  return null;
}

/**
 * One battery-powered field device. Its message counter lives in its own flash and survives
 * unplugging; everything else restarts at power-up: announce, identify, heartbeat.
 */
export class SimSensor implements AirStation {
  readonly id: string;
  readonly type: SimSensorType;
  readonly key: Uint8Array;
  heartbeatSeconds: number;
  powered = false;
  armed = false;
  lowBattery = false;
  tamper = false;
  battery = 100;
  /** own transmit counter (persistent) */
  counter = 0;
  /** last counter accepted from the terminal (persistent) */
  terminalCounter = 0;
  /** what the device did: for tests and the snapshot */
  stats = { sent: 0, commands: 0, refused: 0, acks: 0, captures: 0, eventRepeats: 0, eventsLost: 0 };
  static readonly EVENT_RETRY_MS = 1500;
  static readonly EVENT_TRIES = 4;
  /** event numbering (kept in the device's flash, like the counter) */
  #eventNumber = 0;
  #events: Uint8Array[] = [];
  #eventTries = 0;
  #eventCounter = 0;
  #cancelRetry: (() => void) | null = null;
  readonly commands: number[] = [];
  protected io: IoHub;
  protected radio: RadioModule;
  #cancelHeartbeat: (() => void) | null = null;
  #identified = false;

  constructor(io: IoHub, radio: RadioModule, options: SimSensorOptions) {
    if (!/^[ABCD][0-9]{4}$/.test(options.id)) throw new Error(`not an ID code: ${options.id}`);
    this.id = options.id;
    this.type = TYPE_OF[options.id[0]];
    this.key = options.key ?? deriveSensorKey(options.kitKey, options.id);
    // every 10 minutes: a coin cell lasts years at that rate (supervision then notices in ~31 min)
    this.heartbeatSeconds = options.heartbeatSeconds ?? 600;
    this.io = io;
    this.radio = radio;
  }

  get identified(): boolean {
    return this.#identified;
  }

  /** What its flash holds (a demo that resumes saves it: host-sim/demo-sensors.ts). */
  memory(): SensorMemory {
    return { counter: this.counter, terminalCounter: this.terminalCounter, eventNumber: this.#eventNumber };
  }

  /**
   * Its flash as saved by an earlier run of the simulator (before it powers up): the counters go
   * on from there, as the real device's would, so the terminal does not refuse its frames as replays.
   */
  recall(m: SensorMemory): void {
    if (this.powered) throw new Error(`${this.id}: recall before power-up`);
    this.counter = m.counter;
    this.terminalCounter = m.terminalCounter;
    this.#eventNumber = m.eventNumber & 0xff;
  }

  get caps(): number {
    return 0;
  }

  /** Battery in, switch on: it announces itself. */
  powerUp(): void {
    if (this.powered) return;
    this.powered = true;
    this.#identified = false;
    this.armed = false;
    this.attach();
    this.send(LINK.MSG.STARTUP, new Uint8Array(0));
    this.#scheduleHeartbeat();
  }

  /** Unplugged (or out of range): silent from now on. */
  unplug(): void {
    this.powered = false;
    this.detach();
    this.#cancelHeartbeat?.();
    this.#cancelHeartbeat = null;
    this.#cancelRetry?.();
    this.#cancelRetry = null;
    this.#events = [];
    this.#eventTries = 0;
    this.onUnplug();
  }

  protected onUnplug(): void {}

  /** How it reaches the terminal: the radio here, Wi-Fi for WifiCamera. */
  protected attach(): void {
    this.radio.join(this);
  }

  protected detach(): void {
    this.radio.leave(this);
  }

  protected transmit(bytes: Uint8Array): void {
    this.radio.transmit(this, bytes);
  }

  state(): number {
    return (this.armed ? LINK.STATE.ARMED : 0) | (this.tamper ? LINK.STATE.TAMPER : 0) | (this.lowBattery ? LINK.STATE.LOW_BATTERY : 0);
  }

  trip(): void {
    if (!this.powered) throw new Error(`${this.id} is not powered`);
    this.event(LINK.EVENT.DETECT, LINK.STATE.DETECT);
  }

  setBattery(low: boolean): void {
    this.lowBattery = low;
    this.battery = low ? 12 : 100;
    if (this.powered) this.event(low ? LINK.EVENT.LOW_BATTERY : LINK.EVENT.BATTERY_OK, 0);
  }

  setTamper(on: boolean): void {
    this.tamper = on;
    if (this.powered) this.event(on ? LINK.EVENT.TAMPER : LINK.EVENT.TAMPER_RESTORE, 0);
  }

  /**
   * Events are numbered (a repeat carries the same number) and repeated every EVENT_RETRY_MS until
   * the terminal answers, at most EVENT_TRIES times; one at a time, in order.
   */
  protected event(kind: number, extraState: number): void {
    this.#eventNumber = (this.#eventNumber + 1) & 0xff;
    this.#events.push(new Uint8Array([kind, this.state() | extraState, this.battery, this.#eventNumber]));
    if (this.#events.length === 1) this.#sendEvent();
  }

  #sendEvent(): void {
    const head = this.#events[0];
    if (!head || !this.powered) return;
    this.#eventTries++;
    this.send(LINK.MSG.EVENT, head);
    this.#eventCounter = this.counter;
    this.#cancelRetry = this.io.schedule(SimSensor.EVENT_RETRY_MS, () => {
      this.#cancelRetry = null;
      if (this.#eventTries >= SimSensor.EVENT_TRIES) {
        this.stats.eventsLost++;
        this.#events.shift();
        this.#eventTries = 0;
      }
      this.#sendEvent();
    });
  }

  #eventAnswered(): void {
    this.#cancelRetry?.();
    this.#cancelRetry = null;
    this.#events.shift();
    this.#eventTries = 0;
    this.#sendEvent();
  }

  /** Builds, signs and transmits one frame with the next counter. */
  send(type: number, payload: Uint8Array): Uint8Array {
    this.counter++;
    const bytes = buildFrame({ toSensor: false, type, id: this.id, counter: this.counter, payload }, this.key);
    this.stats.sent++;
    this.transmit(bytes);
    return bytes;
  }

  #scheduleHeartbeat(): void {
    this.#cancelHeartbeat?.();
    // until the terminal has answered, it announces itself every minute (a pairing window is short)
    const seconds = this.#identified ? this.heartbeatSeconds : Math.min(this.heartbeatSeconds, 60);
    this.#cancelHeartbeat = this.io.schedule(seconds * 1000, () => {
      this.#cancelHeartbeat = null;
      if (!this.powered) return;
      // not answered yet: it keeps announcing itself instead
      if (this.#identified) this.send(LINK.MSG.HEARTBEAT, new Uint8Array([this.state(), this.battery]));
      else this.send(LINK.MSG.STARTUP, new Uint8Array(0));
      this.#scheduleHeartbeat();
    });
  }

  hear(bytes: Uint8Array): void {
    if (!this.powered) return;
    const f = readFrame(bytes);
    if (!f || !f.toSensor || f.id !== this.id) return;
    if (!f.macOk(this.key) || f.counter <= this.terminalCounter) {
      this.stats.refused++;
      return;
    }
    this.terminalCounter = f.counter;
    if (f.type === LINK.MSG.RESPONSE && f.payload.length === 6) {
      this.stats.acks++;
      if (f.payload[0] === LINK.MSG.STARTUP && f.payload[5] === LINK.STATUS.IDENTIFY) this.#identify();
      if (f.payload[0] === LINK.MSG.IDENT) this.#identified = true;
      if (f.payload[0] === LINK.MSG.EVENT && Buffer.from(f.payload).readUInt32BE(1) === this.#eventCounter && this.#events.length > 0) {
        if (this.#eventTries > 1) this.stats.eventRepeats += this.#eventTries - 1;
        this.#eventAnswered();
      }
      return;
    }
    if (f.type === LINK.MSG.COMMAND && f.payload.length >= 1) {
      this.stats.commands++;
      this.commands.push(f.payload[0]);
      const ack = Buffer.alloc(6);
      ack[0] = f.type;
      ack.writeUInt32BE(f.counter, 1);
      ack[5] = LINK.STATUS.OK;
      this.send(LINK.MSG.RESPONSE, new Uint8Array(ack));
      this.command(f.payload[0], f.payload.subarray(1));
    }
  }

  #identify(): void {
    const p = new Uint8Array(7);
    p[0] = this.state();
    p[1] = 1; // firmware 1.2
    p[2] = 2;
    p[3] = this.battery;
    p[4] = this.heartbeatSeconds >> 8;
    p[5] = this.heartbeatSeconds & 0xff;
    p[6] = this.caps;
    this.send(LINK.MSG.IDENT, p);
  }

  protected command(op: number, _args: Uint8Array): void {
    if (op === LINK.COMMAND.ARM) this.armed = true;
    if (op === LINK.COMMAND.DISARM) this.armed = false;
  }

  snapshot(): Record<string, unknown> {
    return {
      id: this.id,
      type: this.type,
      link: this instanceof WifiCamera ? "wifi" : "radio",
      powered: this.powered,
      armed: this.armed,
      battery: this.lowBattery ? "low" : "ok",
      tamper: this.tamper,
      counter: this.counter,
      ...this.stats,
    };
  }
}

/** A camera with a microphone: on CAPTURE it takes N images over T seconds and a sound clip. */
export class SimCamera extends SimSensor {
  /** what it sent, file by file, for the tests to compare with what the terminal stored */
  readonly sentFiles: Array<{ mediaId: number; file: number; kind: "jpeg" | "wav"; bytes: Uint8Array }> = [];
  #cancel: Array<() => void> = [];
  #seed: number;
  /** length of the sound clip it records, ms */
  clipMs = 250;

  constructor(io: IoHub, radio: RadioModule, options: SimSensorOptions) {
    super(io, radio, options);
    this.#seed = parseInt(options.id.slice(1), 10);
  }

  override get caps(): number {
    return LINK.CAPS.IMAGES | LINK.CAPS.SOUND;
  }

  protected override onUnplug(): void {
    for (const c of this.#cancel) c();
    this.#cancel = [];
  }

  protected override command(op: number, args: Uint8Array): void {
    super.command(op, args);
    const a = Buffer.from(args);
    if (op === LINK.COMMAND.CAPTURE && args.length === 5) {
      const mediaId = a.readUInt16BE(0);
      if (this.sentFiles.some((f) => f.mediaId === mediaId)) return; // a repeat: our answer was lost; already on it
      this.stats.captures++;
      const images = args[2];
      const seconds = args[3];
      const sound = args[4] !== 0;
      const files: Array<{ kind: "jpeg" | "wav"; bytes: Uint8Array }> = [];
      for (let i = 0; i < images; i++) files.push({ kind: "jpeg", bytes: cameraImage(this.#seed + mediaId, i) });
      if (sound) files.push({ kind: "wav", bytes: soundClip(this.#seed + mediaId, this.clipMs) });
      files.forEach((f, i) => this.sentFiles.push({ mediaId, file: i, ...f }));
      // image i is taken at i × T/N seconds and sent as soon as it is taken; the clip at the end
      files.forEach((f, i) => {
        const atMs = f.kind === "wav" ? seconds * 1000 : Math.floor((i * seconds * 1000) / images);
        this.#cancel.push(this.io.schedule(atMs, () => this.#sendFile(mediaId, i, files.length, f.kind, f.bytes, 0)));
      });
    } else if (op === LINK.COMMAND.RESEND && args.length === 7) {
      const mediaId = a.readUInt16BE(0);
      const file = args[2];
      const offset = a.readUInt32BE(3);
      const sent = this.sentFiles.find((f) => f.mediaId === mediaId && f.file === file);
      const count = this.sentFiles.filter((f) => f.mediaId === mediaId).length;
      if (sent) this.#sendFile(mediaId, file, count, sent.kind, sent.bytes, offset);
    }
  }

  #sendFile(mediaId: number, file: number, files: number, kind: "jpeg" | "wav", bytes: Uint8Array, from: number): void {
    if (!this.powered) return;
    const frames: Uint8Array[] = [];
    for (let off = from; off < bytes.length; off += LINK.MEDIA_CHUNK) {
      const data = bytes.subarray(off, Math.min(bytes.length, off + LINK.MEDIA_CHUNK));
      const p = Buffer.alloc(13 + data.length);
      p.writeUInt16BE(mediaId, 0);
      p[2] = file;
      p[3] = files;
      p[4] = kind === "jpeg" ? 1 : 2;
      p.writeUInt32BE(bytes.length, 5);
      p.writeUInt32BE(off, 9);
      p.set(data, 13);
      this.counter++;
      this.stats.sent++;
      frames.push(buildFrame({ toSensor: false, type: LINK.MSG.MEDIA, id: this.id, counter: this.counter, payload: new Uint8Array(p) }, this.key));
    }
    this.sendMedia(frames);
  }

  /** On the radio, media frames go on the air like any other. */
  protected sendMedia(frames: Uint8Array[]): void {
    for (const f of frames) this.transmit(f);
  }
}

export interface WifiEndpoint {
  lan: Lan;
  /** the camera's own address */
  address: string;
  /** the terminal's UDP port for frames and TCP port for media (config.sensors.wifi) */
  port: number;
  mediaPort: number;
}

/**
 * A Wi-Fi camera: the same messages as a radio camera, one frame per UDP datagram to the
 * terminal, and its media as a TCP stream of MEDIA frames, one connection per file.
 */
export class WifiCamera extends SimCamera {
  static readonly PORT = 47900;
  readonly wifi: WifiEndpoint;
  #unbind: (() => void) | null = null;
  connections = 0;

  constructor(io: IoHub, radio: RadioModule, options: SimSensorOptions, wifi: WifiEndpoint) {
    super(io, radio, options);
    this.wifi = wifi;
  }

  protected override attach(): void {
    this.#unbind ??= this.wifi.lan.bindUdp(this.wifi.address, WifiCamera.PORT, (bytes) => this.hear(bytes));
  }

  protected override detach(): void {
    this.#unbind?.();
    this.#unbind = null;
  }

  protected override transmit(bytes: Uint8Array): void {
    this.wifi.lan.sendUdp([this.wifi.address, WifiCamera.PORT], [FIRMWARE_ADDRESS, this.wifi.port], bytes);
  }

  protected override sendMedia(frames: Uint8Array[]): void {
    const end = this.wifi.lan.connect(this.wifi.address, [FIRMWARE_ADDRESS, this.wifi.mediaPort]);
    this.connections++;
    end.attach({ onData() {}, onClose() {} });
    for (const f of frames) end.write(f);
    end.close();
  }
}

// ---------------------------------------------------------------- the plugin and script actions

/**
 * The sensors and cameras around one simulated terminal, and the radio module they reach it by.
 * Its snapshot adds what the devices themselves know (`sensorDevices`, `radio`); the terminal's
 * own sensor table and alarms come from the firmware (`sensors`, `alarms`).
 */
export class SensorField implements SimPlugin {
  readonly name = "sensors";
  readonly radio: RadioModule;
  readonly kitKey: Uint8Array;
  #io: IoHub;
  #wifi: { port: number; mediaPort: number } | null;
  #nextHost = 10;
  #devices = new Map<string, SimSensor>();

  constructor(sim: Simulator, options: { kitKey?: Uint8Array; port?: number } = {}) {
    this.#io = sim.io;
    const config = manifestConfig() as { radio?: { port?: number }; sensors?: { kitKey?: string; wifi?: { port: number; mediaPort: number } } };
    this.#wifi = config.sensors?.wifi ?? null;
    this.kitKey = options.kitKey ?? new Uint8Array(Buffer.from(config.sensors?.kitKey ?? "", "hex"));
    this.radio = new RadioModule(sim.io, options.port ?? config.radio?.port ?? 2);
  }

  /** Adds a device and powers it up; an existing (unplugged) one is plugged back in. */
  add(id: string, options: { heartbeatSeconds?: number; key?: Uint8Array; wifi?: boolean; memory?: SensorMemory } = {}): SimSensor {
    let d = this.#devices.get(id);
    if (!d) {
      const o = { id, kitKey: this.kitKey, heartbeatSeconds: options.heartbeatSeconds, key: options.key };
      if (options.wifi) {
        if (id[0] !== "B") throw new Error(`${id}: only cameras are simulated on Wi-Fi`);
        if (!this.#wifi) throw new Error("the manifest's config.sensors.wifi is missing");
        const address = `192.168.4.${this.#nextHost++}`;
        d = new WifiCamera(this.#io, this.radio, o, { lan: this.#io.lan, address, ...this.#wifi });
      } else d = id[0] === "B" ? new SimCamera(this.#io, this.radio, o) : new SimSensor(this.#io, this.radio, o);
      if (options.memory) d.recall(options.memory);
      this.#devices.set(id, d);
    }
    d.powerUp();
    return d;
  }

  /** Takes a device away for good (a restored session that never had it): unplugged and forgotten. */
  discard(id: string): void {
    this.#devices.get(id)?.unplug();
    this.#devices.delete(id);
  }

  get(id: string): SimSensor {
    const d = this.#devices.get(id);
    if (!d) throw new Error(`no sensor ${id} (known: ${[...this.#devices.keys()].join(", ") || "none"})`);
    return d;
  }

  devices(): SimSensor[] {
    return [...this.#devices.values()];
  }

  snapshot(): Record<string, unknown> {
    return { sensorDevices: this.devices().map((d) => d.snapshot()), radio: this.radio.snapshot() };
  }
}

/** The simulator's sensor field, attached on first use. */
export function sensorField(sim: Simulator): SensorField {
  if (!sim.hasPlugin("sensors")) sim.use(new SensorField(sim));
  return sim.plugin<SensorField>("sensors");
}

function idArg(a: Record<string, unknown>): string {
  if (typeof a.id !== "string" || !/^[ABCD][0-9]{4}$/.test(a.id)) throw new ScriptError(`id must be an ID code like A0001, got ${JSON.stringify(a.id)}`);
  return a.id;
}

ACTIONS["sensor.add"] = async (sim, a) => {
  const id = idArg(a);
  if (a.type !== undefined) {
    if (typeof a.type !== "string" || !(a.type in LETTER)) throw new ScriptError(`type must be one of ${Object.keys(LETTER).join(", ")}`);
    if (LETTER[a.type as SimSensorType] !== id[0]) throw new ScriptError(`${id} is not a ${a.type} (its letter says ${TYPE_OF[id[0]]})`);
  }
  let heartbeatSeconds: number | undefined;
  if (a.heartbeat !== undefined) {
    if (typeof a.heartbeat !== "number" || !Number.isInteger(a.heartbeat) || a.heartbeat < 1 || a.heartbeat > 65535) {
      throw new ScriptError("heartbeat must be whole seconds, 1..65535");
    }
    heartbeatSeconds = a.heartbeat;
  }
  if (a.link !== undefined && a.link !== "radio" && a.link !== "wifi") throw new ScriptError('link must be "radio" or "wifi"');
  sensorField(sim).add(id, { heartbeatSeconds, wifi: a.link === "wifi" });
};
ACTIONS["sensor.trip"] = async (sim, a) => {
  sensorField(sim).get(idArg(a)).trip();
};
ACTIONS["sensor.remove"] = async (sim, a) => {
  sensorField(sim).get(idArg(a)).unplug();
};
ACTIONS["sensor.battery"] = async (sim, a) => {
  if (typeof a.low !== "boolean") throw new ScriptError("low must be true or false");
  sensorField(sim).get(idArg(a)).setBattery(a.low);
};
ACTIONS["sensor.tamper"] = async (sim, a) => {
  sensorField(sim).get(idArg(a)).setTamper(a.on !== false);
};
ACTIONS["pairing.open"] = async (sim) => sim.command("pairing.open");
ACTIONS["pairing.confirm"] = async (sim) => sim.command("pairing.confirm");
