import { bytesOfHex, hexOf } from "./io/hex";
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
  /** hears every host call (op, its arguments, the firmware's time at the call) */
  onCall?(op: string, args: unknown, t: number | undefined): void;
  log?(line: string): void;
}



/** Calls the firmware may post (shims/bridge.ts): they answer nothing and fail only by a power cut. */
const POSTED_OPS = new Set(["pref.set", "pref.delete", "io.serial.write"]);
const POSTED_MAX = 64;

function wireValue(value: FlashValue | undefined): unknown {
  if (value === undefined) return null;
  return value.t === "a" ? { t: "a", v: hexOf(value.v) } : value;
}

/** canonical padded base64 (Buffer would skip anything else silently) */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function flashValue(input: any): FlashValue {
  switch (input?.t) {
    case "a":
      return { t: "a", v: bytesOfHex(input.v) };
    case "l": // bytes as a latin1 string, one character a byte (shims/preference.ts: cheaper than hex under XS)
      if (typeof input.v !== "string" || input.v.length > 4000 || /[^\u0000-\u00ff]/.test(input.v)) throw new Error("bad preference value: latin1 bytes expected");
      return { t: "a", v: new Uint8Array(Buffer.from(input.v, "latin1")) };
    case "b64": // bytes in base64 (shims/preference.ts: xsnap's native Base64)
      if (typeof input.v !== "string" || input.v.length > 5336 || !BASE64.test(input.v)) throw new Error("bad preference value: base64 bytes expected");
      return { t: "a", v: new Uint8Array(Buffer.from(input.v, "base64")) };
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

  constructor(options: HostServiceOptions) {
    this.#o = options;
  }

  get powerCut(): boolean {
    return this.#cut;
  }

  /** Handles one JSON request from the firmware; returns the JSON reply. */
  handle(request: string): string {
    if (this.#cut) return '{"powerCut":true}';
    this.crossings++;
    let op = "";
    let reply: { value?: unknown; error?: string; hold?: number; op?: string };
    try {
      const parsed = JSON.parse(request) as { op: string; args: any; t?: number };
      op = parsed.op;
      if (op === "batch") {
        op = this.#serveBatch(parsed.args);
        reply = { value: null };
      } else if (op === "io.i2c.writeRead") {
        // an I2C write carried by the read after it (shims/device.ts): served as the two calls
        const a = parsed.args ?? {};
        op = "io.i2c.write";
        this.#serve(op, { h: a.h, data: a.data, stop: a.writeStop }, parsed.t);
        op = "io.i2c.read";
        reply = { value: this.#serve(op, { h: a.h, count: a.count, stop: a.stop }, parsed.t) ?? null };
      } else reply = { value: this.#serve(op, parsed.args, parsed.t) ?? null };
    } catch (e) {
      if (e instanceof PowerCutError) {
        this.#cut = true;
        return '{"powerCut":true}';
      }
      reply = { error: (e as Error).message };
      if (op !== "batch") reply.op = op;
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
    for (const c of calls as Array<{ op: string; args: unknown; t: unknown }>) {
      try {
        this.#serve(c.op, c.args, typeof c.t === "number" ? c.t : undefined);
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
