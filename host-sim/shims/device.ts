import type ListenerType from "embedded:io/socket/listener";
import type TCPType from "embedded:io/socket/tcp";
import type UDPType from "embedded:io/socket/udp";
import { fromWire, toWire } from "./bridge";

/**
 * The ECMA-419 `device` global as the ESP32 host provider gives it, emulated: every IO object is a
 * handle on the host's IoHub (host-sim/io/hub.ts), reached through `call`. Callbacks
 * (onReadable) run when the host delivers events. The same classes serve the engines (call =
 * the bridge to the host) and Node-only driver tests (call = the hub directly).
 */
export type Call = (op: string, args: unknown) => any;

/** An event from the host for one IO handle (host-sim/io/hub.ts queues them). */
export interface DeliveredEvent {
  handle: number;
  /** serial, tcp, udp: the bytes, base64 (shims/bridge.ts toWire) */
  data?: string;
  /** bank: which pins triggered */
  triggered?: number;
  /** udp: the sender of the datagram in `data` */
  address?: string;
  port?: number;
  /** listener: connections waiting to be accepted */
  count?: number;
  /** tcp: the peer closed the connection */
  closed?: boolean;
}

function bytesOf(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The ESP32 DevKit's defaults, as Moddable's esp32 host provider sets them. */
const I2C_DEFAULT = { data: 21, clock: 22 };
const SERIAL_DEFAULT = { port: 1, receive: 3, transmit: 1 };

/** Bytes received and not yet read, in arrival order: a UART's or a stream socket's input. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  available = 0;

  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.available += bytes.length;
  }

  /** Everything ready, or at most `count` bytes; undefined when nothing is there. */
  take(count?: number): ArrayBuffer | undefined {
    if (this.available === 0) return undefined;
    const n = count === undefined ? this.available : Math.min(count, this.available);
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = this.#chunks[0];
      const part = Math.min(head.length, n - o);
      out.set(head.subarray(0, part), o);
      o += part;
      if (part === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(part);
    }
    this.available -= n;
    return out.buffer;
  }
}

/**
 * Holding an I2C write until the read that follows it on the same device (shims/bridge.ts): the
 * engines' bridge gives `hold` (the write is kept), `sendHeld` is called by the bridge before any
 * other host call.
 */
export interface I2CPairing {
  /** keeps `send` until the next host call: a read on the same handle takes it along, anything else sends it first */
  hold(send: () => void): void;
  /** drops the write kept (a read carries it) */
  release(): void;
  /** what the host said the next read on `h` would give, until any other call (shims/bridge.ts) */
  setAhead(h: number, bytes: Uint8Array<ArrayBuffer>): void;
  /** those bytes for a read of `count` on `h`, or null */
  takeAhead(h: number, count: number): Uint8Array<ArrayBuffer> | null;
  /** posts a read taken ahead, for the host to serve in order and check (`expect`: the bytes, base64) */
  postRead(args: { h: number; count: number; stop: boolean }, expect: string): void;
  /** which command of the host's runs (what the host says of a device holds until its end) */
  command(): number;
}

/** bytes the host reads ahead after a write carried by its read (a PN532 answer frame is at most 1 + 9 + 40) */
const READ_AHEAD = 64;

/**
 * `post` sends a call that answers nothing and cannot fail but for a power cut (bytes out of a
 * UART): the engines' bridge batches those (shims/bridge.ts postCall); by default it is `call`.
 * `pairing` (the engines' bridge): an I2C write is carried by the read that follows it on the same
 * device ("io.i2c.writeRead", one crossing for two transfers), once that device has shown the
 * pattern (a PN532: a command, then its ACK read); the host serves the two as the two calls.
 */
export function makeDevice(call: Call, post: (op: string, args: unknown, movesHost?: boolean) => void = call, pairing: I2CPairing | null = null) {
  const live = new Map<number, { deliver(e: DeliveredEvent): void }>();

  class I2C {
    #h: number;
    /** the last transfer on this device was a write */
    #wrote = false;
    /** its writes are followed by a read: a write waits for that read */
    #pairs = false;
    /** the write waiting for its read */
    #held: { data: string; stop: boolean } | null = null;
    /** the command in which the host said this device acknowledges every write (an LCD backpack): its writes are posted in it */
    #posts = -1;
    constructor(o: { address: number; port?: number; hz: number }) {
      this.#h = call("io.open", { kind: "i2c", address: o.address, port: o.port ?? 0, hz: o.hz });
    }
    read(what: number | ArrayBufferView, stop = true): any {
      const count = typeof what === "number" ? what : what.byteLength;
      const held = this.#held;
      this.#held = null;
      if (held) pairing?.release();
      if (this.#wrote) this.#pairs = true;
      this.#wrote = false;
      let bytes: Uint8Array<ArrayBuffer>;
      const ahead = held || !pairing ? null : pairing.takeAhead(this.#h, count);
      if (ahead !== null) {
        bytes = ahead;
        (pairing as I2CPairing).postRead({ h: this.#h, count, stop }, toWire(ahead));
      } else if (held) {
        const r = call("io.i2c.writeRead", { h: this.#h, data: held.data, writeStop: held.stop, count, stop, ahead: READ_AHEAD });
        bytes = fromWire(r.data);
        if (typeof r.next === "string") (pairing as I2CPairing).setAhead(this.#h, fromWire(r.next));
      } else bytes = fromWire(call("io.i2c.read", { h: this.#h, count, stop }));
      if (typeof what === "number") return bytes.buffer;
      bytesOf(what).set(bytes);
      return undefined;
    }
    write(buffer: ArrayBuffer | ArrayBufferView, stop = true): void {
      const data = toWire(bytesOf(buffer));
      this.#wrote = true;
      if (pairing && this.#pairs) {
        const held = { data, stop };
        // anything but this device's read comes first: the write goes alone, and the pattern is off
        pairing.hold(() => {
          this.#held = null;
          this.#pairs = false;
          call("io.i2c.write", { h: this.#h, data: held.data, stop: held.stop });
        });
        this.#held = held;
        return;
      }
      if (pairing && this.#posts === pairing.command()) return post("io.i2c.write", { h: this.#h, data, stop }, false);
      if (call("io.i2c.write", { h: this.#h, data, stop }) === "post" && pairing) this.#posts = pairing.command();
    }
    close(): void {
      call("io.close", { h: this.#h });
    }
  }

  class Digital {
    static readonly Input = 0;
    static readonly InputPullUp = 1;
    static readonly InputPullDown = 2;
    static readonly Output = 8;
    static readonly OutputOpenDrain = 9;
    static readonly Rising = 1;
    static readonly Falling = 2;
    #h: number;
    constructor(o: { pin: number; mode: number; edge?: number; onReadable?: (this: any) => void }) {
      this.#h = call("io.open", { kind: "digital", pin: o.pin, mode: o.mode, edge: o.onReadable ? o.edge ?? 3 : 0 });
      const onReadable = o.onReadable;
      if (onReadable) live.set(this.#h, { deliver: () => onReadable.call(this) });
    }
    read(): number {
      return call("io.digital.read", { h: this.#h });
    }
    write(value: number): void {
      call("io.digital.write", { h: this.#h, value: value ? 1 : 0 });
    }
    close(): void {
      live.delete(this.#h);
      call("io.close", { h: this.#h });
    }
  }

  class DigitalBank {
    static readonly Input = 0;
    static readonly InputPullUp = 1;
    static readonly InputPullDown = 2;
    static readonly Output = 8;
    static readonly OutputOpenDrain = 9;
    #h: number;
    constructor(o: { pins: number; mode: number; rises?: number; falls?: number; onReadable?: (this: any, triggered: number) => void }) {
      this.#h = call("io.open", { kind: "bank", pins: o.pins, mode: o.mode, rises: o.rises ?? 0, falls: o.falls ?? 0 });
      const onReadable = o.onReadable;
      if (onReadable) live.set(this.#h, { deliver: (e) => onReadable.call(this, e.triggered ?? 0) });
    }
    read(): number {
      return call("io.bank.read", { h: this.#h });
    }
    write(bits: number): void {
      call("io.bank.write", { h: this.#h, bits });
    }
    close(): void {
      live.delete(this.#h);
      call("io.close", { h: this.#h });
    }
  }

  class Serial {
    #h: number;
    #rx = new ByteQueue();
    constructor(o: { port: number; baud: number; onReadable?: (this: any, bytes: number) => void }) {
      this.#h = call("io.open", { kind: "serial", port: o.port, baud: o.baud });
      const onReadable = o.onReadable;
      live.set(this.#h, {
        deliver: (e) => {
          if (!e.data) return;
          this.#rx.push(fromWire(e.data));
          if (onReadable) onReadable.call(this, this.#rx.available);
        },
      });
    }
    read(count?: number): ArrayBuffer | undefined {
      return this.#rx.take(count);
    }
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      post("io.serial.write", { h: this.#h, data: toWire(bytesOf(buffer)) });
    }
    close(): void {
      live.delete(this.#h);
      call("io.close", { h: this.#h });
    }
  }

  /** ECMA-419 UDP socket: read() gives one datagram (an ArrayBuffer with address and port). */
  class UDP {
    #h: number;
    #rx: Array<{ bytes: Uint8Array<ArrayBuffer>; address: string; port: number }> = [];
    constructor(o: { port?: number; onReadable?: (this: any, packets: number) => void }) {
      this.#h = call("io.open", { kind: "udp", port: o.port });
      const onReadable = o.onReadable;
      live.set(this.#h, {
        deliver: (e) => {
          if (e.data === undefined) return;
          this.#rx.push({ bytes: fromWire(e.data), address: e.address ?? "", port: e.port ?? 0 });
          if (onReadable) onReadable.call(this, this.#rx.length);
        },
      });
    }
    read(): (ArrayBuffer & { address: string; port: number }) | undefined {
      const d = this.#rx.shift();
      if (!d) return undefined;
      return Object.assign(d.bytes.buffer, { address: d.address, port: d.port });
    }
    write(buffer: ArrayBuffer | ArrayBufferView, address: string, port: number): void {
      call("io.udp.write", { h: this.#h, data: toWire(bytesOf(buffer)), address, port });
    }
    close(): void {
      live.delete(this.#h);
      call("io.close", { h: this.#h });
    }
  }

  /** ECMA-419 TCP listener: read() gives an accepted connection, for `new TCP({from})`. */
  class Listener {
    #h: number;
    constructor(o: { port?: number; onReadable?: (this: any, requests: number) => void }) {
      this.#h = call("io.open", { kind: "listener", port: o.port });
      const onReadable = o.onReadable;
      live.set(this.#h, { deliver: (e) => onReadable && onReadable.call(this, e.count ?? 1) });
    }
    read(): TCPType | undefined {
      const h = call("io.listener.accept", { h: this.#h });
      return typeof h === "number" ? ({ handle: h } as unknown as TCPType) : undefined;
    }
    close(): void {
      live.delete(this.#h);
      call("io.close", { h: this.#h });
    }
  }

  /** ECMA-419 TCP socket (accepted from a Listener; outgoing connections are not emulated). */
  class TCP {
    #h: number;
    #rx = new ByteQueue();
    constructor(o: { from?: unknown; onReadable?: (this: any, bytes: number) => void; onError?: (this: any) => void }) {
      const from = o.from as unknown as { handle?: number } | undefined;
      if (!from || typeof from.handle !== "number") throw new Error("TCP: only sockets accepted from a Listener are emulated");
      this.#h = from.handle;
      const { onReadable, onError } = o;
      live.set(this.#h, {
        deliver: (e) => {
          if (e.closed) {
            if (onError) onError.call(this);
            return;
          }
          if (e.data === undefined) return;
          this.#rx.push(fromWire(e.data));
          if (onReadable) onReadable.call(this, this.#rx.available);
        },
      });
    }
    read(count?: number): ArrayBuffer | undefined {
      return this.#rx.take(count);
    }
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      call("io.tcp.write", { h: this.#h, data: toWire(bytesOf(buffer)) });
    }
    close(): void {
      live.delete(this.#h);
      call("io.close", { h: this.#h });
    }
  }

  // What the SDK's host provider for the board (build/devices/esp32/targets/nodemcu/host/provider.js)
  // exports as `device`: the IO classes, the default I2C and Serial buses, the named pins. Sockets
  // are not on `device`: they are the modules embedded:io/socket/{udp,tcp,listener}.
  const io = { I2C, Digital, DigitalBank, Serial };
  const device = Object.freeze({
    I2C: Object.freeze({ default: Object.freeze({ io: I2C, ...I2C_DEFAULT }) }),
    Serial: Object.freeze({ default: Object.freeze({ io: Serial, ...SERIAL_DEFAULT }) }),
    io: Object.freeze(io),
    pin: Object.freeze({ button: 0, led: 2 }),
  });
  const sockets = Object.freeze({ UDP, TCP, Listener });

  /** Runs the callbacks for events from the host. */
  function deliver(events: DeliveredEvent[]): number {
    let n = 0;
    for (const e of events) {
      const target = live.get(e.handle);
      if (target) {
        target.deliver(e);
        n++;
      }
    }
    return n;
  }

  return {
    device: device as unknown as typeof globalThis.device,
    sockets: sockets as unknown as { UDP: typeof UDPType; TCP: typeof TCPType; Listener: typeof ListenerType },
    deliver,
  };
}
