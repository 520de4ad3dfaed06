import { bytesOfWire, wireOf } from "./io/wire-bytes";
import type { IoHub } from "./io/hub";
import { FlashFile, FlashValue, PowerCutError } from "./storage/flash-file";

/** What the firmware may ask of the host (the other side of host-sim/shims/bridge.ts). */
export interface HostServiceOptions {
  flash: FlashFile;
  io: IoHub;
  config: Readonly<Record<string, unknown>>;
  /** a time sync from the firmware (Moddable `Time.set`) */
  setClock(ms: number): void;
  /** the firmware's time at a host call (its timers run ahead of the host's last step) */
  follow?(ms: number): void;
  /** the host's next event (ms), 0 to stop the firmware's timers now, null: nothing planned */
  holdAt?(): number | null;
  /**
   * A step asks the host to go on to its next event (host-sim/simulator.ts #next): the events then,
   * or null to end the step. Not a host call of the firmware's: not counted or heard as one.
   */
  next?(delivered: unknown, due: unknown): unknown;
  /** hears every host call (op, its arguments, the firmware's time at the call) */
  onCall?(op: string, args: unknown, t: number | undefined): void;
  log?(line: string): void;
}



/** Calls the firmware may post (shims/bridge.ts): they answer nothing and fail only by a power cut. */
const POSTED_OPS = new Set(["pref.set", "pref.delete", "io.serial.write", "io.i2c.read", "io.i2c.write"]);
/** the most bytes a read ahead may look at (shims/device.ts READ_AHEAD) */
const READ_AHEAD_MAX = 64;
const POSTED_MAX = 64;

function wireValue(value: FlashValue | undefined): unknown {
  if (value === undefined) return null;
  return value.t === "a" ? { t: "a", v: wireOf(value.v) } : value;
}

/** bytes on the wire as hex, for a message a person reads */
function asHex(wire: unknown): string {
  try {
    return Buffer.from(bytesOfWire(wire)).toString("hex");
  } catch {
    return String(wire);
  }
}

function flashValue(input: any): FlashValue {
  switch (input?.t) {
    case "b64": // bytes, as every transfer (shims/preference.ts)
      try {
        return { t: "a", v: bytesOfWire(input.v, 4000) };
      } catch {
        throw new Error("bad preference value: base64 of at most 4000 bytes expected");
      }
    case "b":
      return { t: "b", v: Boolean(input.v) };
    case "i":
      return { t: "i", v: Number(input.v) };
    case "s":
      return { t: "s", v: String(input.v) };
  }
  throw new Error("bad preference value");
}

/**
 * Serves the firmware's host calls. Once the power is cut, every call answers `powerCut` and
 * nothing more reaches the flash, whatever the dying firmware still tries.
 */
export class HostServices {
  #o: HostServiceOptions;
  #cut = false;
  /** host calls served, by op (posted ones too: each as the call it stands for) */
  readonly calls = new Map<string, number>();
  /** requests that crossed from the engine (a batch of posted calls is one): the round trips out of it */
  crossings = 0;
  /** those requests by the op that crossed ("batch", "io.i2c.writeRead", …): where the crossings go (bench/sim-week.ts) */
  readonly crossed = new Map<string, number>();
  /** real ms spent serving requests (sim.next with the host timers it runs too): the host's share of a step (bench/sim-week.ts) */
  servingMs = 0;

  constructor(options: HostServiceOptions) {
    this.#o = options;
  }

  get powerCut(): boolean {
    return this.#cut;
  }

  /** Handles one JSON request from the firmware; returns the JSON reply. */
  handle(request: string): string {
    const began = performance.now();
    try {
      return this.#handle(request);
    } finally {
      this.servingMs += performance.now() - began;
    }
  }

  #handle(request: string): string {
    if (this.#cut) return '{"powerCut":true}';
    this.crossings++;
    let op = "";
    let reply: { value?: unknown; error?: string; hold?: number; op?: string };
    try {
      const parsed = JSON.parse(request) as { op: string; args: any; t?: number; posted?: unknown };
      op = parsed.op;
      this.crossed.set(String(op), (this.crossed.get(String(op)) ?? 0) + 1);
      if (parsed.posted !== undefined) {
        // calls posted before this one travelled with it: served first, in order (a failure is the batch's)
        op = "batch";
        this.#serveBatch(parsed.posted);
        op = parsed.op;
      }
      if (op === "batch") {
        op = this.#serveBatch(parsed.args);
        reply = { value: null };
      } else if (op === "sim.next") {
        if (typeof parsed.t === "number") this.#o.follow?.(parsed.t);
        reply = { value: this.#o.next ? (this.#o.next(parsed.args?.delivered, parsed.args?.due) ?? null) : null };
      } else if (op === "io.i2c.writeRead") {
        // an I2C write carried by the read after it (shims/device.ts): served as the two calls
        const a = parsed.args ?? {};
        op = "io.i2c.write";
        this.#serve(op, { h: a.h, data: a.data, stop: a.writeStop }, parsed.t);
        op = "io.i2c.read";
        const data = this.#serve(op, { h: a.h, count: a.count, stop: a.stop }, parsed.t) ?? null;
        // `ahead`: also what the next read on the device would give now (no call: nothing happens on the bus)
        if (a.ahead === undefined) reply = { value: data };
        else {
          if (!Number.isInteger(a.ahead) || a.ahead < 1 || a.ahead > READ_AHEAD_MAX) throw new Error(`ahead must be an integer from 1 to ${READ_AHEAD_MAX}`);
          reply = { value: { data, next: this.#o.io.peekI2c(a.h, a.ahead) } };
        }
      } else reply = { value: this.#serve(op, parsed.args, parsed.t) ?? null };
    } catch (e) {
      if (e instanceof PowerCutError) {
        this.#cut = true;
        return '{"powerCut":true}';
      }
      reply = { error: (e as Error).message, op };
    }
    // Every reply, a failed call's too (a NACK on the bus), says when the host acts next: the
    // firmware's timers stop there (host-sim/shims/timer.ts); without it they would run past it.
    const hold = op === "clock.set" ? 0 : (this.#o.holdAt?.() ?? null);
    if (hold !== null) reply.hold = hold;
    return JSON.stringify(reply);
  }

  /**
   * Serves the calls a command's reply carried (posted while it ran, shims/bridge.ts), one by one
   * as if each had crossed alone. Returns an error message, or null; a power cut among them ends
   * the terminal (powerCut turns true) as it would have at that call.
   */
  servePosted(calls: unknown): string | null {
    if (this.#cut) return null;
    try {
      this.#serveBatch(calls);
      return null;
    } catch (e) {
      if (e instanceof PowerCutError) {
        this.#cut = true;
        return null;
      }
      return (e as Error).message;
    }
  }

  /** Posted calls in order; on a failure the op that failed is in the error. */
  #serveBatch(calls: unknown): string {
    if (!Array.isArray(calls) || calls.length > POSTED_MAX) throw new Error("batch: a list of at most 64 posted calls");
    for (const c of calls as Array<{ op: unknown }>) if (typeof c?.op !== "string" || !POSTED_OPS.has(c.op)) throw new Error(`batch: ${String(c?.op)} cannot be posted`);
    for (const c of calls as Array<{ op: string; args: unknown; t: unknown; expect?: unknown }>) {
      try {
        const value = this.#serve(c.op, c.args, typeof c.t === "number" ? c.t : undefined);
        // a read the firmware took ahead (shims/bridge.ts): it must have used what the read gives
        if (c.op === "io.i2c.read" && value !== c.expect) throw new Error(`read ahead: the firmware took ${asHex(c.expect)}, the read gave ${asHex(value)}`);
      } catch (e) {
        if (e instanceof PowerCutError) throw e;
        throw new Error(`${c.op}: ${(e as Error).message}`);
      }
    }
    return "batch";
  }

  #serve(op: string, args: any, t: number | undefined): unknown {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    if (typeof t === "number") this.#o.follow?.(t);
    this.#o.onCall?.(op, args, t);
    return this.#dispatch(op, args);
  }

  #dispatch(op: string, args: any): unknown {
    const flash = this.#o.flash;
    if (op.startsWith("io.")) return this.#o.io.handle(op, args);
    switch (op) {
      case "config":
        return this.#o.config;
      case "pref.get":
        return wireValue(flash.get(args.domain, args.key));
      case "pref.set":
        flash.set(args.domain, args.key, flashValue(args.value));
        return null;
      case "pref.delete":
        flash.delete(args.domain, args.key);
        return null;
      case "pref.keys":
        return flash.keys(args.domain);
      case "clock.set":
        this.#o.setClock(Number(args));
        return null;
      case "log":
        this.#o.log?.(String(args));
        return null;
    }
    throw new Error(`unknown host call ${op}`);
  }
}
