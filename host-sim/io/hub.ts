import type { DeliveredEvent } from "../shims/device";
import { bytesOfWire, wireOf } from "./wire-bytes";
import { Gpio, PinMode } from "./gpio";
import { I2CBus } from "./i2c-bus";
import { Uart } from "./uart";
import { FIRMWARE_ADDRESS, Lan, TcpEnd } from "./sockets";

/** Something the firmware must hear about (bytes on a UART or socket, an edge on a pin): the
 * shim's DeliveredEvent, one definition for both sides of the line. */
export type FirmwareEvent = DeliveredEvent;

type Handle =
  | { kind: "i2c"; port: number; address: number }
  | { kind: "digital"; pin: number; mode: number; edge: number; last: number }
  | { kind: "bank"; pins: number; mode: number; rises: number; falls: number; last: number }
  | { kind: "serial"; port: number }
  | { kind: "udp"; port: number; unbind: () => void }
  | { kind: "listener"; port: number; waiting: TcpEnd[]; unlisten: () => void }
  | { kind: "tcp"; end: TcpEnd };

/**
 * A host timer that only puts bytes already on a UART line in front of the firmware (uart.ts):
 * nothing the host does decides them any more, so a step may carry them ahead of their instant
 * (Simulator #step, IoHub.takeAhead).
 */
interface QueueEntry {
  at: number;
  seq: number;
  run: () => void;
  wire?: { port: number; data: string };
}

/** Deliveries taken ahead of their instant (takeAhead): the events they make with today's handles. */
export interface AheadEntry {
  readonly at: number;
  readonly events: FirmwareEvent[];
  /** @internal the queue entry, put back by restoreAhead */
  readonly entry: QueueEntry;
}

const RISING = 1;
const FALLING = 2;



function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`${what} must be an integer`);
  return v;
}

/**
 * The board as the host emulates it: I2C buses, GPIO, UARTs, and the handles the firmware's
 * ECMA-419 objects hold on them. Also the host side's own timeline: device timers (a sensor's
 * heartbeat, a modem's latency) and events on their way to the firmware, in virtual time.
 */
export class IoHub {
  readonly gpio = new Gpio();
  /** the Wi-Fi network (host-sim/io/sockets.ts) */
  readonly lan: Lan = new Lan((ms, run) => this.schedule(ms, run));
  #now: () => number;
  #buses = new Map<number, I2CBus>();
  #uarts = new Map<number, Uart>();
  #handles = new Map<number, Handle>();
  #nextHandle = 1;
  #queue: QueueEntry[] = [];
  #seq = 0;
  #outbox: FirmwareEvent[] = [];
  /** moves whenever a handle is opened or closed (or all are forgotten): deliveries taken ahead name the handles of their time */
  handleEpoch = 0;

  constructor(now: () => number) {
    this.#now = now;
    this.gpio.onChange(() => this.#scanEdges());
  }

  i2c(port = 0): I2CBus {
    let bus = this.#buses.get(port);
    if (!bus) this.#buses.set(port, (bus = new I2CBus()));
    return bus;
  }

  uart(port: number): Uart {
    let u = this.#uarts.get(port);
    if (!u) {
      u = new Uart(port, this.#now, (bytes, delay) => this.#toSerialHandles(port, bytes, delay));
      this.#uarts.set(port, u);
    }
    return u;
  }

  /** Runs `run` at virtual time now + delayMs (host-side device timers). Returns a cancel function. */
  schedule(delayMs: number, run: () => void): () => void {
    return this.#enqueue({ at: this.#now() + Math.max(0, delayMs), seq: this.#seq++, run });
  }

  #enqueue(entry: QueueEntry): () => void {
    let i = this.#queue.length;
    while (i > 0 && (this.#queue[i - 1].at > entry.at || (this.#queue[i - 1].at === entry.at && this.#queue[i - 1].seq > entry.seq))) i--;
    this.#queue.splice(i, 0, entry);
    return () => {
      const j = this.#queue.indexOf(entry);
      if (j >= 0) this.#queue.splice(j, 1);
    };
  }

  /**
   * The deliveries at the head of the host's timeline, up to `limit`, taken out of it with the
   * events they would make now: whole instants only, each holding nothing but bytes already on a
   * UART line (a host timer of any other kind, or one sharing the last instant, ends the run).
   * What the firmware does before their instant cannot change them but through its handles
   * (`handleEpoch`) or by putting host events before them (the host's `hold`): Simulator #step.
   */
  takeAhead(limit: number): AheadEntry[] {
    const q = this.#queue;
    let n = 0;
    while (n < q.length && q[n].wire !== undefined && q[n].at <= limit) n++;
    if (n > 0 && n < q.length && q[n].at === q[n - 1].at) {
      const at = q[n - 1].at;
      while (n > 0 && q[n - 1].at === at) n--;
    }
    return q.splice(0, n).map((entry) => ({ at: entry.at, events: this.#wireEvents(entry.wire as { port: number; data: string }), entry }));
  }

  /** Puts back deliveries taken ahead that the firmware did not take (their timers run at their instant as before). */
  restoreAhead(entries: readonly AheadEntry[]): void {
    for (const e of entries) this.#enqueue(e.entry);
  }

  /** When the host side next has something to do, or events wait for the firmware. */
  nextAt(): number | null {
    if (this.#outbox.length > 0) return this.#now();
    return this.#queue.length > 0 ? this.#queue[0].at : null;
  }

  /** Runs the host timers due by now. */
  runDue(): void {
    const now = this.#now();
    while (this.#queue.length > 0 && this.#queue[0].at <= now) (this.#queue.shift() as { run: () => void }).run();
  }

  /** Events ready for the firmware (delivered with the io.deliver command). */
  takeEvents(): FirmwareEvent[] {
    const out = this.#outbox;
    this.#outbox = [];
    return out;
  }

  /** Forgets every handle: the firmware lost power. Devices stay as they are. */
  reset(): void {
    for (const h of this.#handles.values()) {
      if (h.kind === "digital") this.gpio.release(h.pin);
      else this.#closeSocket(h);
    }
    this.#handles.clear();
    this.handleEpoch++;
    this.#outbox = [];
  }

  /** The firmware's IO calls (host-sim/shims/device.ts). */
  handle(op: string, a: any): unknown {
    if (op === "io.open") return this.#open(a);
    const h = this.#handles.get(a?.h);
    if (!h) throw new Error(`${op}: no such handle`);
    switch (op) {
      case "io.close":
        this.#handles.delete(a.h);
        this.handleEpoch++;
        if (h.kind === "digital") this.gpio.release(h.pin);
        else this.#closeSocket(h);
        return null;
      case "io.udp.write":
        if (h.kind !== "udp") break;
        if (typeof a.address !== "string") throw new Error("address must be a numeric IPv4 string");
        this.lan.sendUdp([FIRMWARE_ADDRESS, h.port], [a.address, int(a.port, "port")], bytesOfWire(a.data));
        return null;
      case "io.listener.accept": {
        if (h.kind !== "listener") break;
        const end = h.waiting.shift();
        if (!end) return null;
        const id = this.#nextHandle++;
        this.#handles.set(id, { kind: "tcp", end });
        end.attach({
          onData: (bytes) => this.#outbox.push({ handle: id, data: wireOf(bytes) }),
          onClose: () => this.#outbox.push({ handle: id, closed: true }),
        });
        return id;
      }
      case "io.tcp.write":
        if (h.kind !== "tcp") break;
        h.end.write(bytesOfWire(a.data));
        return null;
      case "io.i2c.write": {
        if (h.kind !== "i2c") break;
        const bus = this.i2c(h.port);
        bus.write(h.address, bytesOfWire(a.data), a.stop !== false);
        // "post": the firmware may post its next writes to it (I2CTarget.acksEveryWrite)
        return bus.target(h.address)?.acksEveryWrite === true ? "post" : null;
      }
      case "io.i2c.read":
        if (h.kind !== "i2c") break;
        return wireOf(this.i2c(h.port).read(h.address, int(a.count, "count"), a.stop !== false));
      case "io.digital.read":
        if (h.kind !== "digital") break;
        return this.gpio.level(h.pin);
      case "io.digital.write":
        if (h.kind !== "digital") break;
        this.gpio.drive(h.pin, a.value ? 1 : 0);
        return null;
      case "io.bank.read":
        if (h.kind !== "bank") break;
        return this.#bankLevels(h.pins);
      case "io.bank.write":
        if (h.kind !== "bank") break;
        for (let pin = 0; pin < 32; pin++) if (h.pins & (1 << pin)) this.gpio.drive(pin, (int(a.bits, "bits") >>> pin) & 1);
        return null;
      case "io.serial.write":
        if (h.kind !== "serial") break;
        this.uart(h.port).fromFirmware(bytesOfWire(a.data));
        return null;
    }
    throw new Error(`${op} does not apply to a ${h.kind} handle`);
  }

  /** What a read of `count` on an I2C handle would give now, in base64, without reading (I2CTarget.peek); null when the target cannot say. */
  peekI2c(handle: unknown, count: number): string | null {
    const h = this.#handles.get(handle as number);
    if (!h || h.kind !== "i2c") return null;
    const bytes = this.i2c(h.port).peek(h.address, count);
    return bytes ? wireOf(bytes) : null;
  }

  #open(a: any): number {
    const id = this.#nextHandle++;
    this.handleEpoch++;
    switch (a?.kind) {
      case "i2c":
        this.#handles.set(id, { kind: "i2c", port: a.port ?? 0, address: int(a.address, "address") });
        break;
      case "digital": {
        const pin = int(a.pin, "pin");
        for (const h of this.#handles.values()) if (h.kind === "digital" && h.pin === pin) throw new Error(`GPIO ${pin} is in use`);
        this.gpio.configure(pin, int(a.mode, "mode"));
        this.#handles.set(id, { kind: "digital", pin, mode: a.mode, edge: a.edge ?? 0, last: this.gpio.level(pin) });
        break;
      }
      case "bank": {
        const pins = int(a.pins, "pins") >>> 0;
        for (let pin = 0; pin < 32; pin++) if (pins & (1 << pin)) this.gpio.configure(pin, int(a.mode, "mode"));
        this.#handles.set(id, { kind: "bank", pins, mode: a.mode, rises: a.rises ?? 0, falls: a.falls ?? 0, last: this.#bankLevels(pins) });
        break;
      }
      case "serial": {
        const port = int(a.port, "port");
        if (port === 0) throw new Error("UART 0 is the console");
        const u = this.uart(port);
        if (typeof a.baud === "number") u.baud = a.baud;
        this.#handles.set(id, { kind: "serial", port });
        break;
      }
      case "udp": {
        const port = int(a.port, "port");
        const unbind = this.lan.bindUdp(FIRMWARE_ADDRESS, port, (bytes, address, from) => {
          this.#outbox.push({ handle: id, data: wireOf(bytes), address, port: from });
        });
        this.#handles.set(id, { kind: "udp", port, unbind });
        break;
      }
      case "listener": {
        const port = int(a.port, "port");
        const waiting: TcpEnd[] = [];
        const unlisten = this.lan.listen(FIRMWARE_ADDRESS, port, (end) => {
          waiting.push(end);
          this.#outbox.push({ handle: id, count: waiting.length });
        });
        this.#handles.set(id, { kind: "listener", port, waiting, unlisten });
        break;
      }
      default:
        throw new Error(`io.open: unknown kind ${a?.kind}`);
    }
    return id;
  }

  #closeSocket(h: Handle): void {
    if (h.kind === "udp") h.unbind();
    else if (h.kind === "listener") {
      h.unlisten();
      for (const end of h.waiting) end.close();
    } else if (h.kind === "tcp") h.end.close();
  }

  #bankLevels(pins: number): number {
    let bits = 0;
    for (let pin = 0; pin < 32; pin++) if (pins & (1 << pin) && this.gpio.level(pin)) bits |= 1 << pin;
    return bits >>> 0;
  }

  #scanEdges(): void {
    for (const [id, h] of this.#handles) {
      if (h.kind === "digital" && h.mode !== PinMode.Output) {
        const level = this.gpio.level(h.pin);
        if (level !== h.last) {
          const fire = (level && h.edge & RISING) || (!level && h.edge & FALLING);
          h.last = level;
          if (fire) this.#outbox.push({ handle: id });
        }
      } else if (h.kind === "bank" && h.mode !== PinMode.Output) {
        const levels = this.#bankLevels(h.pins);
        const rose = levels & ~h.last & h.rises;
        const fell = ~levels & h.last & h.falls;
        h.last = levels;
        if (rose | fell) this.#outbox.push({ handle: id, triggered: (rose | fell) >>> 0 });
      }
    }
  }

  #toSerialHandles(port: number, bytes: Uint8Array, delayMs: number): void {
    const wire = { port, data: wireOf(bytes) };
    this.#enqueue({
      at: this.#now() + Math.max(0, delayMs),
      seq: this.#seq++,
      run: () => {
        for (const e of this.#wireEvents(wire)) this.#outbox.push(e);
      },
      wire,
    });
  }

  /** What bytes arriving on a UART make for the firmware: one event per handle open on that port. */
  #wireEvents(wire: { port: number; data: string }): FirmwareEvent[] {
    const out: FirmwareEvent[] = [];
    for (const [id, h] of this.#handles) if (h.kind === "serial" && h.port === wire.port) out.push({ handle: id, data: wire.data });
    return out;
  }
}
