import type Digital from "embedded:io/digital";
import Timer from "timer";
import { AtChannel, type AtSerialOptions } from "./at-channel";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** +CIPOPEN's result */
const CIPOPEN = /^\+CIPOPEN: 0,(\d+)/;
/** +CCHOPEN's result */
const CCHOPEN = /^\+CCHOPEN: 0,(\d+)/;
/** +CIPSEND's report */
const CIPSEND = /^\+CIPSEND: 0,(\d+),(\d+)/;

/**
 * SIM7600-class cellular modem on a UART: an AT-command channel (at-channel.ts) and, over it, one
 * TCP session through the modem's own TCPIP commands, or TLS 1.2 PSK through its SSL stack
 * (SIMCom's CCH commands) when the target says `tls`. Moddable style: the serial options spread
 * over the defaults, private fields, close(), and the session's events as an ECMA-419 socket's:
 *
 *   const modem = new SIM7600({ serial: { ...device.Serial.default, io: device.io.Serial, port: 1, … },
 *     reset: { io: device.io.Digital, pin: 4 }, onWritable, onReadable, onError, onClose, onSms });
 *   modem.open({apn, address, port, tls?})   → onWritable() once the session is open,
 *                                              or onError(reason) (already hung up)
 *   modem.write(bytes)                       queued; AT+CIPSEND=0,n → `>` → bytes → +CIPSEND: 0,n,n
 *                                              (tls: AT+CCHSEND=0,n → `>` → bytes → OK, +CCHSEND: 0,0)
 *   onReadable(bytes)                        from +IPD<n> (tls: +CCHRECV: DATA,0,<n>) and the n bytes after
 *   onError(reason)                          while open: +IPCLOSE (tls: +CCH_PEER_CLOSED, +CCHCLOSE),
 *                                              a failed send, a modem that restarted; the owner hangs up
 *   modem.close()                            AT+CIPCLOSE=0 (tls: AT+CCHCLOSE=0, AT+CCHSTOP), AT+NETCLOSE
 *                                              → onClose() once hung up, whatever the modem answers
 *
 * Each stage is a script: a frozen list of steps (command, how its error reads, the unsolicited
 * result it waits for and how that is judged), run by one runner, not nested callbacks:
 * bring-up (AT until it answers, ATE0, AT+CPIN?, AT+CSQ, AT+CREG?/AT+CGREG? until registered),
 * AT+CGDCONT, AT+NETOPEN ("dial"), then plain: AT+CIPOPEN=0,"TCP",… or tls: AT+CSSLCFG (context 0:
 * TLS 1.2, no certificate check, PSK suite 0x00A8, identity and key), AT+CCHSET=1,0, AT+CCHSTART,
 * AT+CCHSSLCFG=0,0, AT+CCHOPEN=0,…,2.
 *
 * The pre-shared key crosses only the UART, in the one AT+CSSLCFG command; no error message,
 * counter or snapshot carries it (a timeout on that command names it "AT+CSSLCFG=\"psk\",0,…").
 *
 * A modem that does not answer AT is reset (the RESET line when wired, else AT+CRESET) and tried
 * again once; every line that is not one we know, or not text, is counted and skipped.
 * One operation at a time: open ends in exactly one onWritable or onError, close in one onClose.
 */

export interface SIM7600Target {
  apn: string;
  /** numeric IPv4 (the modem resolves nothing) */
  address: string;
  port: number;
  /** TLS 1.2 with a pre-shared key (the key in hex); absent or null: plain TCP */
  tls?: { identity: string; psk: string } | null;
}

export interface SIM7600Options {
  /** the UART: `{...device.Serial.default, io: device.io.Serial, port, receive, transmit, baud}` */
  serial: AtSerialOptions;
  /** the RESET line (active low), if wired */
  reset?: { io: typeof Digital; pin: number };
  /** the session is open: write() may be called */
  onWritable?: () => void;
  /** bytes from the session */
  onReadable?: (bytes: Uint8Array) => void;
  /** open failed, or the open session was lost: why, in words */
  onError?: (reason: string) => void;
  /** close() has hung up */
  onClose?: () => void;
  /** an SMS arrived (`+CMTI`): the center wants the terminal to dial in */
  onSms?: () => void;
  /** every answer waits at most this long (ms); network steps have their own, longer limits */
  commandTimeoutMs?: number;
  /** how long to wait for network registration (ms) */
  registrationTimeoutMs?: number;
}

export type ModemState = "off" | "opening" | "open" | "closing";

export interface ModemStats {
  garbage: number;
  timeouts: number;
  errors: number;
  resets: number;
  opens: number;
  opened: number;
  bytesOut: number;
  bytesIn: number;
  dropped: number;
}

type Done = (error: string | null) => void;

/**
 * One step of a script. The command's ERROR answer becomes `error(answer, lines)`: a reason
 * (the script stops), or null (the step is done, nothing awaited). After OK, `check(lines)` may
 * refuse the answer; then the unsolicited result `urc` is awaited for `urcMs` and judged by
 * `urcCheck`. `when` skips the step; `before` and `after` mark the driver's state.
 */
interface Step {
  /** the command line, or how to make it from the target */
  at: string | ((m: SIM7600, t: SIM7600Target) => string);
  /** how the command is named in errors (it carries a secret) */
  shown?: string;
  when?: (m: SIM7600) => boolean;
  before?: (m: SIM7600) => void;
  /** the reason an ERROR answer gives: this prefix and the answer (without either: the answer) */
  errorPrefix?: string;
  error?: (answer: string, lines: string[]) => string | null;
  check?: (lines: string[], m: SIM7600) => string | null;
  urc?: string;
  urcMs?: number;
  /** the reason when the awaited result does not come */
  urcMissing?: string;
  urcCheck?: (line: string) => string | null;
  after?: (m: SIM7600) => void;
}

const MAX_CHUNK = 1024;
const DEFAULTS = Object.freeze({ command: 3000, registration: 60000, netOpen: 30000, socket: 30000, send: 15000, bootWait: 8000, pollMs: 2000, resetPulseMs: 300 });
/** TLS_PSK_WITH_AES_128_GCM_SHA256 (RFC 5487), the center's first suite */
const PSK_SUITE = "0x00A8";
/** +CCHOPEN / +CCHCLOSE result codes the driver names (SIM7600 manual, SSL error codes; see docs/protocols.md) */
const CCH_ERRORS: Readonly<Record<string, string>> = Object.freeze({ "4": "peer closed", "5": "timeout", "9": "network error", "14": "connect failed", "15": "TLS handshake failed", "17": "no network" });
const CLOSE_REASONS: Readonly<Record<string, string>> = Object.freeze({ "0": "closed", "1": "closed by the center", "2": "network dropped the link" });

/** Step tables are frozen constants with no closures over variables (xsl preloads them into flash). */
const TLS_SETUP = "TLS setup: ";

/** After the modem answers AT: the SIM, the signal, then registration (not a script: it polls). */
const BRING_UP: readonly Step[] = Object.freeze([
  Object.freeze({ at: "ATE0" }),
  Object.freeze({
    at: "AT+CPIN?",
    errorPrefix: "SIM: ",
    check: (lines: string[]) => (lines.indexOf("+CPIN: READY") >= 0 ? null : `SIM not ready (${lines.join(" ") || "no answer"})`),
  }),
  Object.freeze({
    at: "AT+CSQ",
    error: () => null, // signal quality is information, not a condition
    check: (lines: string[], m: SIM7600) => {
      m.signalFrom(find(lines, "+CSQ: "));
      return null;
    },
  }),
]);

/** Registered: the APN, the data session ("dial"). */
const DIAL: readonly Step[] = Object.freeze([
  Object.freeze({ at: (_m: SIM7600, t: SIM7600Target) => `AT+CGDCONT=1,"IP","${t.apn}"` }),
  Object.freeze({
    at: "AT+NETOPEN",
    // "already opened": a session left from before; it is ours to use (and to hang up)
    error: (answer: string, lines: string[]) => (lines.join(" ").indexOf("already opened") >= 0 ? null : `dial: ${answer}`),
    urc: "+NETOPEN:",
    urcMs: DEFAULTS.netOpen,
    urcMissing: "dial: no +NETOPEN",
    urcCheck: (line: string) => (line.trim() === "+NETOPEN: 0" ? null : `dial failed (${line})`),
    after: (m: SIM7600) => m.mark("net", true),
  }),
]);

/** Plain TCP, socket 0. */
const OPEN_TCP: readonly Step[] = Object.freeze([
  Object.freeze({
    at: (_m: SIM7600, t: SIM7600Target) => `AT+CIPOPEN=0,"TCP","${t.address}",${t.port}`,
    errorPrefix: "socket: ",
    urc: "+CIPOPEN:",
    urcMs: DEFAULTS.socket,
    urcMissing: "socket: no +CIPOPEN",
    urcCheck: (line: string) => {
      const m = line.match(CIPOPEN);
      if (!m) return `socket: ${line}`;
      return m[1] === "0" ? null : `socket open failed (error ${m[1]})`;
    },
    after: (m: SIM7600) => m.mark("socket", true),
  }),
]);

/** TLS 1.2 PSK through the modem's SSL stack: SSL context 0, session 0. */
const OPEN_TLS: readonly Step[] = Object.freeze([
  Object.freeze({ at: `AT+CSSLCFG="sslversion",0,3`, errorPrefix: TLS_SETUP }),
  Object.freeze({ at: `AT+CSSLCFG="authmode",0,0`, errorPrefix: TLS_SETUP }), // no certificates: the pre-shared key authenticates both ends
  Object.freeze({ at: `AT+CSSLCFG="ciphersuites",0,${PSK_SUITE}`, errorPrefix: TLS_SETUP }),
  Object.freeze({
    at: (_m: SIM7600, t: SIM7600Target) => `AT+CSSLCFG="psk",0,"${t.tls?.identity ?? ""}","${t.tls?.psk ?? ""}"`,
    shown: `AT+CSSLCFG="psk",0,…`,
    errorPrefix: TLS_SETUP,
  }),
  Object.freeze({ at: "AT+CCHSET=1,0", errorPrefix: TLS_SETUP }), // report sends; received data straight out
  Object.freeze({
    at: "AT+CCHSTART",
    before: (m: SIM7600) => m.mark("cch", true),
    errorPrefix: "TLS service: ",
    urc: "+CCHSTART:",
    urcMs: DEFAULTS.socket,
    urcMissing: "TLS service: no +CCHSTART",
    urcCheck: (line: string) => (line.trim() === "+CCHSTART: 0" ? null : `TLS service failed (${line})`),
  }),
  Object.freeze({ at: "AT+CCHSSLCFG=0,0", errorPrefix: TLS_SETUP }),
  Object.freeze({
    at: (_m: SIM7600, t: SIM7600Target) => `AT+CCHOPEN=0,"${t.address}",${t.port},2`,
    errorPrefix: "TLS socket: ",
    urc: "+CCHOPEN:",
    urcMs: DEFAULTS.socket,
    urcMissing: "TLS socket: no +CCHOPEN",
    urcCheck: (line: string) => {
      const m = line.match(CCHOPEN);
      if (!m) return `TLS socket: ${line}`;
      return m[1] === "0" ? null : `TLS open failed (${CCH_ERRORS[m[1]] ?? "error"} ${m[1]})`;
    },
    after: (m: SIM7600) => m.mark("socket", true),
  }),
]);

/** Hanging up: each step only when its part is open, and whatever the modem answers. */
const HANG_UP: readonly Step[] = Object.freeze([
  Object.freeze({
    when: (m: SIM7600) => m.isOpen("socket") && m.isOpen("secure"),
    before: (m: SIM7600) => m.mark("socket", false),
    at: "AT+CCHCLOSE=0",
    urc: "+CCHCLOSE:",
    urcMs: DEFAULTS.socket,
  }),
  Object.freeze({
    when: (m: SIM7600) => m.isOpen("socket"),
    before: (m: SIM7600) => m.mark("socket", false),
    at: "AT+CIPCLOSE=0",
    urc: "+CIPCLOSE:",
    urcMs: DEFAULTS.socket,
  }),
  Object.freeze({
    when: (m: SIM7600) => m.isOpen("cch"),
    before: (m: SIM7600) => m.mark("cch", false),
    at: "AT+CCHSTOP",
    urc: "+CCHSTOP:",
    urcMs: DEFAULTS.socket,
  }),
  Object.freeze({
    when: (m: SIM7600) => m.isOpen("net"),
    at: "AT+NETCLOSE",
    urc: "+NETCLOSE:",
    urcMs: DEFAULTS.socket,
  }),
]);

export class SIM7600 {
  #at: AtChannel;
  #resetPin: Digital | null = null;
  #onWritable: () => void;
  #onReadable: (bytes: Uint8Array) => void;
  #onError: (reason: string) => void;
  #onClose: () => void;
  #onSms: () => void;
  #commandTimeout: number;
  #registrationTimeout: number;

  #state: ModemState = "off";
  #target: SIM7600Target | null = null;
  #sendQueue: Uint8Array[] = [];
  #sending = false;
  #netOpen = false;
  #socketOpen = false;
  /** the session in progress is TLS (the CCH commands), not plain TCP */
  #secure = false;
  /** AT+CCHSTART was sent and no AT+CCHSTOP since */
  #cchStarted = false;
  #signal: number | null = null;

  #stats = { resets: 0, opens: 0, opened: 0, bytesOut: 0, bytesIn: 0, dropped: 0 };
  #lastError: string | null = null;

  constructor(options: SIM7600Options) {
    this.#onWritable = options.onWritable ?? (() => {});
    this.#onReadable = options.onReadable ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#onClose = options.onClose ?? (() => {});
    this.#onSms = options.onSms ?? (() => {});
    this.#commandTimeout = options.commandTimeoutMs ?? DEFAULTS.command;
    this.#registrationTimeout = options.registrationTimeoutMs ?? DEFAULTS.registration;
    this.#at = new AtChannel({
      serial: options.serial,
      commandTimeoutMs: this.#commandTimeout,
      onLine: (line) => this.#unsolicited(line),
      onData: (bytes) => {
        this.#stats.bytesIn += bytes.length;
        if (this.#socketOpen) this.#onReadable(bytes);
      },
    });
    if (options.reset) {
      const Digital = options.reset.io;
      this.#resetPin = new Digital({ mode: Digital.Output, ...options.reset });
      this.#resetPin.write(1);
    }
  }

  /** What may change after construction: how long registration may take. */
  configure(options: { registrationTimeoutMs?: number }): void {
    if (options.registrationTimeoutMs !== undefined) this.#registrationTimeout = options.registrationTimeoutMs;
  }

  get state(): ModemState {
    return this.#state;
  }
  /** The last +CSQ rssi (0..31, 99 unknown), or null before the first bring-up. */
  get signal(): number | null {
    return this.#signal;
  }
  get lastError(): string | null {
    return this.#lastError;
  }
  get stats(): Readonly<ModemStats> {
    const at = this.#at.stats;
    return { garbage: at.garbage, timeouts: at.timeouts, errors: at.errors, ...this.#stats };
  }
  /** Bytes queued for the session, not yet accepted by the modem. */
  get queued(): number {
    let n = 0;
    for (const b of this.#sendQueue) n += b.length;
    return n;
  }

  // ---------------------------------------------------------------- the session

  /** Brings the modem up, dials and opens the session: onWritable, or onError once hung up. */
  open(target: SIM7600Target): void {
    if (this.#state !== "off") return this.#onError(`modem: open while ${this.#state}`);
    this.#state = "opening";
    this.#target = target;
    this.#secure = !!target.tls;
    this.#stats.opens++;
    this.#probe(2, false, (error) => (error ? this.#openFailed(error) : this.#awaitRegistration()));
  }

  /** Queues bytes for the session. */
  write(bytes: Uint8Array): void {
    if (this.#state !== "open") throw new Error(`modem: send while ${this.#state}`);
    for (let o = 0; o < bytes.length; o += MAX_CHUNK) this.#sendQueue.push(bytes.slice(o, Math.min(bytes.length, o + MAX_CHUNK)));
    this.#pump();
  }

  /** Hangs up: closes the session and the data session, then onClose(), whatever happens. */
  close(): void {
    this.#hangUp(() => this.#onClose());
  }

  /** Releases the UART and the reset line. */
  destroy(): void {
    this.#abandon();
    this.#at.close();
    if (this.#resetPin) this.#resetPin.close();
  }

  // ---------------------------------------------------------------- for the scripts

  /** Marks a part of the session open or closed. */
  mark(part: "net" | "socket" | "cch", open: boolean): void {
    if (part === "net") this.#netOpen = open;
    else if (part === "socket") this.#socketOpen = open;
    else this.#cchStarted = open;
  }

  isOpen(part: "net" | "socket" | "cch" | "secure"): boolean {
    if (part === "net") return this.#netOpen;
    if (part === "socket") return this.#socketOpen;
    if (part === "cch") return this.#cchStarted;
    return this.#secure;
  }

  /** The +CSQ answer's rssi, kept for the link's reports. */
  signalFrom(line: string | undefined): void {
    if (!line) return;
    const rssi = parseInt(line.slice(6), 10);
    this.#signal = rssi >= 0 && rssi <= 99 ? rssi : null;
  }

  // ---------------------------------------------------------------- the stages of open

  #awaitRegistration(): void {
    this.#script(BRING_UP, true, (error) => {
      if (error) return this.#openFailed(error);
      this.#waitRegistered(0, (e) => (e ? this.#openFailed(e) : this.#connect()));
    });
  }

  #connect(): void {
    const target = this.#target as SIM7600Target;
    this.#script(DIAL.concat(target.tls ? OPEN_TLS : OPEN_TCP), true, (error) => {
      if (error) return this.#openFailed(error);
      this.#state = "open";
      this.#stats.opened++;
      this.#lastError = null;
      this.#onWritable();
    });
  }

  #openFailed(why: string): void {
    this.#lastError = why;
    const hangUp = this.#netOpen;
    this.#abandon();
    if (!hangUp) {
      this.#state = "off";
      return this.#onError(why);
    }
    // a data session was opened: hang it up (the modem keeps it otherwise), then report
    this.#state = "open";
    this.#hangUp(() => this.#onError(why));
  }

  /**
   * Runs the steps in order; the first refusal ends it. `opening`: the open may be abandoned
   * between steps (a close() came); otherwise (hanging up) every step runs whatever the answers.
   */
  #script(steps: readonly Step[], opening: boolean, done: Done): void {
    let i = 0;
    const next = (error: string | null): void => {
      if (error && opening) return done(error);
      if (opening && this.#state !== "opening") return done("modem: open abandoned");
      while (i < steps.length && steps[i].when && !(steps[i].when as (m: SIM7600) => boolean)(this)) i++;
      if (i >= steps.length) return done(null);
      this.#step(steps[i++], next);
    };
    next(null);
  }

  #step(step: Step, next: Done): void {
    const target = this.#target as SIM7600Target;
    if (step.before) step.before(this);
    this.#at.command(typeof step.at === "string" ? step.at : step.at(this, target), { shown: step.shown }, (answer, lines) => {
      if (answer) {
        const why = step.error ? step.error(answer, lines) : `${step.errorPrefix ?? ""}${answer}`;
        if (why === null && step.after) step.after(this);
        return next(why);
      }
      const refused = step.check ? step.check(lines, this) : null;
      if (refused || !step.urc) {
        if (!refused && step.after) step.after(this);
        return next(refused);
      }
      this.#at.expect(step.urc, step.urcMs ?? DEFAULTS.socket, (line) => {
        if (line === null) return next(step.urcMissing ?? null);
        const bad = step.urcCheck ? step.urcCheck(line) : null;
        if (!bad && step.after) step.after(this);
        next(bad);
      });
    });
  }

  /** AT until it answers; a silent modem is reset and given one more chance. */
  #probe(tries: number, afterReset: boolean, done: Done): void {
    this.#at.command("AT", {}, (e) => {
      if (!e) return done(null);
      if (tries > 1) return this.#probe(tries - 1, afterReset, done);
      if (afterReset) return done("modem not answering, even after a reset");
      this.#reset(() => this.#probe(Math.ceil(DEFAULTS.bootWait / this.#commandTimeout) + 1, true, done));
    });
  }

  #reset(then: () => void): void {
    this.#stats.resets++;
    this.#netOpen = false;
    this.#cchStarted = false;
    this.#socketOpen = false;
    const pin = this.#resetPin;
    if (pin) {
      pin.write(0);
      Timer.set(() => {
        pin.write(1);
        Timer.set(then, DEFAULTS.bootWait);
      }, DEFAULTS.resetPulseMs);
      return;
    }
    // no RESET line: ask the modem itself (a stalled one will not hear it)
    this.#at.command("AT+CRESET", {}, () => Timer.set(then, DEFAULTS.bootWait));
  }

  /** AT+CREG? then AT+CGREG? every pollMs until either says registered (home or roaming). */
  #waitRegistered(waited: number, done: Done): void {
    this.#at.command("AT+CREG?", {}, (e, lines) => {
      const cs = !e && registered(find(lines, "+CREG: "));
      this.#at.command("AT+CGREG?", {}, (e2, lines2) => {
        const ps = !e2 && registered(find(lines2, "+CGREG: "));
        if (cs || ps) return done(null);
        if (e && e2 && e.indexOf("timeout") >= 0) return done(e);
        if (waited + DEFAULTS.pollMs >= this.#registrationTimeout) return done("not registered on the network");
        Timer.set(() => this.#waitRegistered(waited + DEFAULTS.pollMs, done), DEFAULTS.pollMs);
      });
    });
  }

  // ---------------------------------------------------------------- hanging up

  #hangUp(done: () => void): void {
    if (this.#state === "off") return done();
    this.#state = "closing";
    this.#sendQueue = [];
    const run = () =>
      this.#script(HANG_UP, false, () => {
        this.#state = "off";
        this.#socketOpen = false;
        this.#netOpen = false;
        done();
      });
    // let the send in progress end first (its callback sees the closing state)
    const wait = () => (this.#sending ? Timer.set(wait, 50) : run());
    wait();
  }

  // ---------------------------------------------------------------- sending

  #pump(): void {
    if (this.#sending || this.#state !== "open" || this.#sendQueue.length === 0) return;
    this.#sending = true;
    const chunk = this.#sendQueue[0];
    this.#at.command(`${this.#secure ? "AT+CCHSEND" : "AT+CIPSEND"}=0,${chunk.length}`, { prompt: true }, (e) => (e ? this.#sendFailed(`send: ${e}`) : this.#sendBytes(chunk)));
  }

  /** At the `>` prompt: the bytes, then the modem's OK and its send report. */
  #sendBytes(chunk: Uint8Array): void {
    const ackPrefix = this.#secure ? "+CCHSEND:" : "+CIPSEND:";
    this.#at.write(chunk);
    this.#at.command(null, { final: (l) => l.startsWith(ackPrefix) || l === "OK", timeoutMs: DEFAULTS.send }, (e, lines) => {
      if (e) return this.#sendFailed(`send: ${e}`);
      const ack = find(lines, ackPrefix);
      if (ack) this.#sent(chunk, ack);
      else this.#at.expect(ackPrefix, DEFAULTS.send, (line) => this.#sent(chunk, line));
    });
  }

  /** The send report: +CIPSEND: 0,<asked>,<sent> (tls, with AT+CCHSET=1: +CCHSEND: 0,0). */
  #sent(chunk: Uint8Array, line: string | null): void {
    const ackPrefix = this.#secure ? "+CCHSEND:" : "+CIPSEND:";
    if (line === null) return this.#sendFailed(`send: no ${ackPrefix.slice(0, -1)}`);
    if (this.#secure) {
      if (line.trim() !== "+CCHSEND: 0,0") return this.#sendFailed(`send: ${line}`);
    } else {
      const m = line.match(CIPSEND);
      if (!m || m[2] !== String(chunk.length)) return this.#sendFailed(`send: ${line}`);
    }
    this.#sendQueue.shift();
    this.#stats.bytesOut += chunk.length;
    this.#sending = false;
    this.#pump();
  }

  #sendFailed(why: string): void {
    this.#sending = false;
    this.#sendQueue = [];
    if (this.#state === "open") this.#lost(why);
  }

  /** The session is gone: tell the owner once; it hangs up with close(). */
  #lost(why: string): void {
    this.#socketOpen = false;
    this.#stats.dropped++;
    this.#lastError = why;
    this.#sendQueue = [];
    // the state stays "open": the owner's close() still hangs up the data session
    this.#onError(why);
  }

  /** Cancels whatever waits (the callbacks are dropped: the caller has given up). */
  #abandon(): void {
    this.#at.abandon();
    this.#sendQueue = [];
    this.#sending = false;
    this.#socketOpen = false;
  }

  // ---------------------------------------------------------------- unsolicited results

  /** The lines that can arrive in the middle of any command; true when taken. */
  #unsolicited(line: string): boolean {
    if (line.startsWith("+CMTI:")) {
      // an SMS: its only meaning for us is "dial in" (the link rate-limits it); its text is not read
      this.#onSms();
      return true;
    }
    if (line.startsWith("+IPCLOSE:")) {
      this.#peerClosed(CLOSE_REASONS[line.slice(line.indexOf(",") + 1).trim()] ?? line);
      return true;
    }
    if (line.startsWith("+CCH_PEER_CLOSED:")) {
      this.#peerClosed(CLOSE_REASONS["1"]);
      return true;
    }
    if (line === "RDY" || line === "PB DONE" || line === "SMS DONE" || line.startsWith("*ATREADY")) {
      this.#cchStarted = false;
      if (this.#state === "open") {
        this.#netOpen = false;
        this.#lost("the modem restarted");
      }
      return true;
    }
    if (line.startsWith("+CCHCLOSE:") && this.#secure && !this.#at.awaits(line)) {
      // not asked for: the module closed the TLS session (+CCHCLOSE: 0,<err>)
      const err = line.slice(line.indexOf(",") + 1).trim();
      this.#peerClosed(err === "9" || err === "17" ? CLOSE_REASONS["2"] : `TLS session closed (${CCH_ERRORS[err] ?? "error"} ${err})`);
      return true;
    }
    return false;
  }

  #peerClosed(reason: string): void {
    if (this.#socketOpen && this.#state === "open") this.#lost(reason);
    else this.#socketOpen = false;
  }
}

function find(lines: string[], prefix: string): string | undefined {
  for (const l of lines) if (l.startsWith(prefix)) return l;
  return undefined;
}

/** +CREG: <n>,<stat>: 1 home, 5 roaming. */
function registered(line: string | undefined): boolean {
  if (!line) return false;
  const stat = line.slice(line.indexOf(",") + 1).trim();
  return stat === "1" || stat === "5";
}
