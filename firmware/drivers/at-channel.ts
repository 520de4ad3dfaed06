import type Serial from "embedded:io/serial";
import Timer from "timer";

/**
 * An AT-command channel on a UART, Moddable style: the serial options spread over its defaults,
 * private fields, close(). It owns the line parser and the one command in progress; the modem
 * driver on top (sim7600.ts) says what to send and what the answers mean.
 *
 *   const at = new AtChannel({ serial: { ...device.Serial.default, io: device.io.Serial, port: 1, … },
 *                              onLine(line) { … }, onData(bytes) { … } });
 *   at.command("AT+CSQ", {}, (error, lines) => …);      // OK / ERROR / +CME ERROR ends it
 *   at.command("AT+CIPSEND=0,5", { prompt: true }, …);  // ends at the `>` prompt
 *   at.expect("+NETOPEN:", 30000, (line) => …);          // an unsolicited result awaited
 *
 * Lines are checked before anything reads them: longer than MAX_LINE, or not printable ASCII, is
 * garbage (counted, skipped). `+IPD<n>` and `+CCHRECV: DATA,0,<n>` switch to data mode for the n
 * bytes after them (1..1500; any other count is garbage). Unsolicited lines go to `onLine` first,
 * which returns true when it took the line; then to the awaited result; then to the command.
 */

export interface AtSerialOptions {
  io: typeof Serial;
  port: number;
  receive: number;
  transmit: number;
  baud: number;
}

export interface AtChannelOptions {
  serial: AtSerialOptions;
  /** an unsolicited line; true when the owner took it (it goes no further) */
  onLine: (line: string) => boolean;
  /** the bytes announced by +IPD / +CCHRECV */
  onData: (bytes: Uint8Array) => void;
  /** every answer waits at most this long unless the command says otherwise (ms) */
  commandTimeoutMs: number;
}

export interface AtCommandOptions {
  /** a line that ends the command besides OK and the errors */
  final?: (line: string) => boolean;
  /** the command ends at the `>` prompt */
  prompt?: boolean;
  /** how the command is named in errors when it carries a secret */
  shown?: string;
  timeoutMs?: number;
}

export type AtCallback = (error: string | null, lines: string[]) => void;

interface Pending {
  final?: (line: string) => boolean;
  prompt?: boolean;
  lines: string[];
  callback: AtCallback;
  timer: ReturnType<typeof Timer.set> | undefined;
}

interface Awaited {
  prefix: string;
  callback: (line: string | null) => void;
  timer: ReturnType<typeof Timer.set> | undefined;
}

const MAX_LINE = 256;
const MAX_DATA = 1500;
const KNOWN = /^(\+[A-Z][A-Z ]*:|OK$|ERROR$|AT)/;

export class AtChannel {
  #serial: Serial;
  #onLine: (line: string) => boolean;
  #onData: (bytes: Uint8Array) => void;
  #commandTimeout: number;
  #rx: number[] = [];
  /** bytes of data still to come after +IPD; 0 in line mode */
  #dataLeft = 0;
  #data: Uint8Array | null = null;
  #dataFill = 0;
  #pending: Pending | null = null;
  #awaited: Awaited | null = null;
  #stats = { garbage: 0, timeouts: 0, errors: 0 };

  constructor(options: AtChannelOptions) {
    this.#onLine = options.onLine;
    this.#onData = options.onData;
    this.#commandTimeout = options.commandTimeoutMs;
    const self = this;
    this.#serial = new options.serial.io({
      format: "buffer",
      ...options.serial,
      onReadable() {
        self.#readable();
      },
    });
  }

  /** Lines skipped as garbage, commands and awaited results that timed out, ERROR answers. */
  get stats(): Readonly<{ garbage: number; timeouts: number; errors: number }> {
    return this.#stats;
  }

  /** The line is the unsolicited result being awaited (expect()). */
  awaits(line: string): boolean {
    return this.#awaited !== null && line.startsWith(this.#awaited.prefix);
  }

  /**
   * Writes a command line (or nothing, `text` null, to wait for more answers) and collects its
   * answer. One at a time: a second command while one is in progress is answered "modem busy".
   */
  command(text: string | null, o: AtCommandOptions, callback: AtCallback): void {
    if (this.#pending) return callback(`modem busy (${this.#pending.prompt ? "prompt" : "command"})`, []);
    const p: Pending = { final: o.final, prompt: o.prompt, lines: [], callback, timer: undefined };
    p.timer = Timer.set(() => {
      if (this.#pending !== p) return;
      this.#pending = null;
      this.#stats.timeouts++;
      callback(`timeout${text ? ` on ${o.shown ?? text}` : ""}`, p.lines);
    }, o.timeoutMs ?? this.#commandTimeout);
    this.#pending = p;
    if (text === null) return;
    const line = new Uint8Array(text.length + 1);
    for (let i = 0; i < text.length; i++) line[i] = text.charCodeAt(i) & 0x7f;
    line[text.length] = 13;
    try {
      this.#serial.write(line);
    } catch {
      this.#finish(p, "UART output full");
    }
  }

  /** Bytes straight to the UART (after a `>` prompt). */
  write(bytes: Uint8Array): void {
    this.#serial.write(bytes);
  }

  /** Waits for an unsolicited result starting with `prefix`; null on timeout or when replaced. */
  expect(prefix: string, timeoutMs: number, callback: (line: string | null) => void): void {
    const old = this.#awaited;
    if (old) {
      this.#awaited = null;
      if (old.timer !== undefined) Timer.clear(old.timer);
      old.callback(null);
    }
    const w: Awaited = { prefix, callback, timer: undefined };
    w.timer = Timer.set(() => {
      if (this.#awaited !== w) return;
      this.#awaited = null;
      this.#stats.timeouts++;
      callback(null);
    }, timeoutMs);
    this.#awaited = w;
  }

  /** Cancels whatever waits (the callbacks are dropped: the caller has given up) and the partial line. */
  abandon(): void {
    if (this.#pending && this.#pending.timer !== undefined) Timer.clear(this.#pending.timer);
    this.#pending = null;
    if (this.#awaited && this.#awaited.timer !== undefined) Timer.clear(this.#awaited.timer);
    this.#awaited = null;
    this.#dataLeft = 0;
    this.#data = null;
    this.#rx = [];
  }

  close(): void {
    this.abandon();
    this.#serial.close();
  }

  #finish(p: Pending, error: string | null): void {
    if (this.#pending !== p) return;
    this.#pending = null;
    if (p.timer !== undefined) Timer.clear(p.timer);
    p.callback(error, p.lines);
  }

  #readable(): void {
    for (;;) {
      const got = this.#serial.read();
      if (typeof got !== "object") break; // undefined: nothing left (a number only in "number" format)
      const bytes = new Uint8Array(got);
      for (let i = 0; i < bytes.length; i++) {
        if (this.#dataLeft > 0) {
          const data = this.#data as Uint8Array;
          const take = Math.min(this.#dataLeft, bytes.length - i);
          data.set(bytes.subarray(i, i + take), this.#dataFill);
          this.#dataFill += take;
          this.#dataLeft -= take;
          i += take - 1;
          if (this.#dataLeft === 0) {
            this.#data = null;
            this.#onData(data);
          }
          continue;
        }
        const b = bytes[i];
        if (b === 10) this.#line();
        else if (b !== 13) {
          this.#rx.push(b);
          if (this.#rx.length === 1 && b === 0x3e /* > */ && this.#pending && this.#pending.prompt) {
            this.#rx = [];
            this.#finish(this.#pending, null);
            continue;
          }
          if (this.#rx.length > MAX_LINE) {
            this.#stats.garbage++;
            this.#rx = [];
          }
        }
      }
    }
  }

  #line(): void {
    const raw = this.#rx;
    this.#rx = [];
    if (raw.length === 0) return;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] < 0x20 || raw[i] > 0x7e) {
        this.#stats.garbage++;
        return;
      }
    }
    const line = String.fromCharCode.apply(null, raw);
    // data announced: the bytes after this line are the socket's, not lines
    if (line.startsWith("+IPD") || line.startsWith("+CCHRECV: DATA,")) {
      const count = line.startsWith("+IPD") ? line.slice(4) : line.slice(15).startsWith("0,") ? line.slice(17) : "";
      const n = parseInt(count, 10);
      if (!(n > 0 && n <= MAX_DATA) || String(n) !== count) {
        this.#stats.garbage++;
        return;
      }
      this.#dataLeft = n;
      this.#data = new Uint8Array(n);
      this.#dataFill = 0;
      return;
    }
    // unsolicited results first: they can arrive in the middle of any command
    if (this.#onLine(line)) return;
    const w = this.#awaited;
    if (w && line.startsWith(w.prefix)) {
      this.#awaited = null;
      if (w.timer !== undefined) Timer.clear(w.timer);
      w.callback(line);
      return;
    }
    const p = this.#pending;
    if (!p) {
      // +CPIN: READY at boot, a late answer, or noise: nothing waits for it
      if (!KNOWN.test(line)) this.#stats.garbage++;
      return;
    }
    if (line === "OK") return this.#finish(p, null);
    if (line === "ERROR" || line.startsWith("+CME ERROR:") || line.startsWith("+CMS ERROR:")) {
      this.#stats.errors++;
      return this.#finish(p, line);
    }
    if (p.final && p.final(line)) {
      p.lines.push(line);
      return this.#finish(p, null);
    }
    if (line.startsWith("AT")) return; // echo, before ATE0
    if (!KNOWN.test(line)) {
      this.#stats.garbage++;
      return;
    }
    p.lines.push(line);
  }
}
