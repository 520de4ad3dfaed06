import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A synchronous line to an `@agoric/xsnap` worker process (the XS engine the package builds), in
 * the worker's own protocol: netstrings on its fd 3 (to it) and fd 4 (from it). To the worker:
 * `e<code>` evaluates a script, `?<bytes>` delivers a command to its `handleCommand`, `w<path>`
 * writes a snapshot of the machine to a file, `q` quits; an `issueCommand` inside the worker
 * arrives as `?<bytes>` and is answered `/<bytes>`. From the worker: `.` (meter JSON, byte 1, reply)
 * or `!` (an uncaught exception).
 *
 * Why not the package's own JavaScript API: every round trip there crosses Node's event loop and
 * several promise hops (~100 µs here), and the simulator makes tens of thousands of them per
 * virtual week, all synchronous by nature (a host call is served at once). Here both pipes are
 * FIFOs the parent reads and writes with blocking system calls (~30 µs a round trip), and no SES
 * lockdown of the host process is needed.
 */

export interface XsnapUsage {
  compute: number | null;
  allocate: number | null;
  currentHeapCount: number | null;
}

export interface XsnapResult {
  reply: Uint8Array;
  meterUsage: XsnapUsage;
}

export interface XsnapPipeOptions {
  name: string;
  /** compute units per delivery before the worker stops (0: no limit) */
  meteringLimit?: number;
  /** serves the worker's issueCommand, synchronously */
  handleCommand: (message: Uint8Array) => Uint8Array;
}

/** What an xsnap worker's exit status means (the package's api.js ExitCode). */
const EXIT_MEANING: Readonly<Record<number, string>> = Object.freeze({
  1: "unknown error",
  2: "bad argument usage",
  5: "I/O error",
  11: "not enough memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "property (key) name space exhausted",
  17: "too much computation",
});

const OK = 0x2e; // "."
const ERROR = 0x21; // "!"
const QUERY = 0x3f; // "?"
const METER_END = 1;
/** a reply larger than this is a protocol fault, not something to allocate */
const MAX_MESSAGE = 256 * 1024 * 1024;

function workerBinary(): string {
  const platform = ({ Linux: "lin", Darwin: "mac" } as Record<string, string>)[os.type()];
  if (!platform) throw new Error(`the XS engine (xsnap) does not run on ${os.type()}`);
  const pkg = createRequire(import.meta.url).resolve("@agoric/xsnap/package.json");
  return path.join(path.dirname(pkg), "xsnap-native", "xsnap", "build", "bin", platform, "release", "xsnap-worker");
}

/** Sleeps the thread for `ms` (waiting for a FIFO's other end; never on the hot path). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export class XsnapPipe {
  readonly #name: string;
  readonly #child: ChildProcess;
  readonly #toWorker: number;
  readonly #fromWorker: number;
  readonly #handle: (message: Uint8Array) => Uint8Array;
  #buf = Buffer.alloc(64 * 1024);
  #len = 0;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #closed = false;

  constructor(options: XsnapPipeOptions) {
    this.#name = options.name;
    this.#handle = options.handleCommand;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tg-xsnap-"));
    const to = path.join(dir, "to");
    const from = path.join(dir, "from");
    let child: ChildProcess | null = null;
    try {
      for (const f of [to, from]) {
        const made = spawnSyncMkfifo(f);
        if (made) throw new Error(`cannot make a FIFO for the XS engine: ${made}`);
      }
      const args = [options.name];
      if (options.meteringLimit) args.push("-l", String(options.meteringLimit));
      // The shell opens the FIFOs as the worker's fd 3 (read) and fd 4 (write), then becomes it.
      // detached: a group of its own, so Ctrl-C on a terminal (SIGINT to the whole foreground group)
      // reaches only the host, which then asks the firmware to record its state before it quits the
      // worker; without this the worker died first and `timeguard start` could not save the demo.
      // The worker still ends with the host: its FIFO's writer closes when the host goes.
      child = spawn("/bin/sh", ["-c", 'exec "$0" "$@" 3<"$TG_XS_TO" 4>"$TG_XS_FROM"', workerBinary(), ...args], {
        detached: true,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, TG_XS_TO: to, TG_XS_FROM: from },
      });
      this.#child = child;
      child.on("exit", (code, signal) => {
        this.#exit = { code, signal };
      });
      child.on("error", () => undefined); // reported by the open below timing out
      this.#toWorker = openWriterWhenRead(to, 10_000);
      // Blocks until the worker's shell opens its end (it does right after the FIFO above).
      this.#fromWorker = fs.openSync(from, fs.constants.O_RDONLY);
    } catch (e) {
      child?.kill("SIGKILL");
      throw e;
    } finally {
      // both ends are open (or failed): the names are not needed any more, nothing is left behind
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Evaluates a script in the worker. */
  evaluate(code: string): XsnapResult {
    return this.#run(Buffer.from(`e${code}`, "utf8"));
  }

  /** Delivers `message` to the worker's handleCommand and returns its answer. */
  issueCommand(message: Uint8Array): XsnapResult {
    const out = Buffer.allocUnsafe(message.length + 1);
    out[0] = QUERY;
    out.set(message, 1);
    return this.#run(out);
  }

  /** Writes a snapshot of the machine to `file`. */
  snapshot(file: string): void {
    this.#run(Buffer.from(`w${file}`, "utf8"));
  }

  /** Asks the worker to quit and waits for it; the FIFOs are removed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const gone = this.#exit ? Promise.resolve() : new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    try {
      this.#send(Buffer.from("q"));
    } catch {
      this.#child.kill();
    }
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
    this.#release();
  }

  /** Kills the worker at once. */
  terminate(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#child.kill("SIGKILL");
    this.#release();
  }

  #release(): void {
    for (const fd of [this.#toWorker, this.#fromWorker]) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  #run(first: Buffer): XsnapResult {
    if (this.#closed) throw new Error(`${this.#name}: the XS engine is closed`);
    this.#send(first);
    for (;;) {
      const m = this.#receive();
      if (m.length === 0) throw this.#fault("an empty message");
      if (m[0] === QUERY) {
        const answer = this.#handle(m.subarray(1));
        const out = Buffer.allocUnsafe(answer.length + 1);
        out[0] = 0x2f; // "/"
        out.set(answer, 1);
        this.#send(out);
        continue;
      }
      if (m[0] === OK) {
        const sep = m.indexOf(METER_END, 1);
        let meterUsage: XsnapUsage = { compute: null, allocate: null, currentHeapCount: null };
        if (sep >= 0) {
          const meter = JSON.parse(m.toString("utf8", 1, sep)) as Partial<XsnapUsage>;
          meterUsage = { compute: meter.compute ?? null, allocate: meter.allocate ?? null, currentHeapCount: meter.currentHeapCount ?? null };
        }
        return { reply: m.subarray(sep < 0 ? 1 : sep + 1), meterUsage };
      }
      if (m[0] === ERROR) throw new Error(`Uncaught exception in ${this.#name}: ${m.toString("utf8", 1)}`);
      this.terminate();
      throw this.#fault(`an unknown message <<${m.toString("latin1", 0, 40)}>>`);
    }
  }

  #send(body: Buffer): void {
    const head = Buffer.from(`${body.length}:`, "latin1");
    const frame = Buffer.concat([head, body, Buffer.from(",", "latin1")]);
    let at = 0;
    while (at < frame.length) {
      try {
        at += fs.writeSync(this.#toWorker, frame, at, frame.length - at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") {
          pause(1); // the worker is still reading a large script
          continue;
        }
        if (code === "EPIPE") throw this.#gone();
        throw e;
      }
    }
  }

  /** One netstring from the worker. */
  #receive(): Buffer {
    for (;;) {
      const colon = this.#buf.indexOf(0x3a, 0);
      if (colon > 0 && colon < this.#len) {
        const digits = this.#buf.toString("latin1", 0, colon);
        if (!/^\d{1,10}$/.test(digits)) throw this.#fault("a bad netstring length");
        const n = Number(digits);
        if (n > MAX_MESSAGE) throw this.#fault(`a message of ${n} bytes`);
        const end = colon + 1 + n;
        if (end + 1 > this.#buf.length) this.#grow(end + 1);
        if (this.#len >= end + 1) {
          if (this.#buf[end] !== 0x2c) throw this.#fault("a netstring without its comma");
          const message = Buffer.from(this.#buf.subarray(colon + 1, end));
          this.#buf.copy(this.#buf, 0, end + 1, this.#len);
          this.#len -= end + 1;
          return message;
        }
      } else if (colon < 0 && this.#len > 12) throw this.#fault("a bad netstring length");
      if (this.#len === this.#buf.length) this.#grow(this.#buf.length * 2);
      const got = fs.readSync(this.#fromWorker, this.#buf, this.#len, this.#buf.length - this.#len, null);
      if (got === 0) throw this.#gone();
      this.#len += got;
    }
  }

  #grow(size: number): void {
    const bigger = Buffer.alloc(Math.max(size, this.#buf.length * 2));
    this.#buf.copy(bigger, 0, 0, this.#len);
    this.#buf = bigger;
  }

  #fault(what: string): Error {
    this.terminate();
    return new Error(`${this.#name}: xsnap protocol error: ${what}`);
  }

  /** The worker closed its end: it exited (its status may not be reaped yet). */
  #gone(): Error {
    const exit = this.#exit;
    const why = exit?.code != null ? EXIT_MEANING[exit.code] ?? `exit status ${exit.code}` : exit?.signal ?? "it stopped";
    this.terminate();
    return new Error(`${this.#name} exited: ${why}`);
  }
}

/** mkfifo(1) for one path; returns an error text, or "" when made. */
function spawnSyncMkfifo(file: string): string {
  const r = spawnSync("mkfifo", ["-m", "600", file], { encoding: "utf8" });
  if (r.error) return r.error.message;
  return r.status === 0 ? "" : r.stderr.trim() || `mkfifo exited with ${r.status}`;
}

/**
 * Opens the FIFO for writing once its reader has it open (a non-blocking open fails with ENXIO
 * until then; the worker's shell opens it right after it starts).
 */
function openWriterWhenRead(file: string, timeoutMs: number): number {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENXIO" || Date.now() > until) {
        throw new Error(`the XS engine did not start: ${(e as Error).message}`);
      }
      pause(1);
    }
  }
}
