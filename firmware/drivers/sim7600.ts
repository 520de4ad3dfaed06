import type Digital from "embedded:io/digital";
import type Serial from "embedded:io/serial";
import Timer from "timer";

/**
 * SIM7600-class cellular modem on a UART, TCP through its own AT commands (SIMCom TCPIP dialect),
 * or TLS 1.2 PSK through its own SSL stack (SIMCom's CCH commands) when the target says `tls`.
 *
 *   open({apn, address, port, tls?}, done)
 *                                      bring-up (AT, ATE0, AT+CPIN?, AT+CSQ, AT+CREG?/AT+CGREG?
 *                                      until registered), AT+CGDCONT, AT+NETOPEN ("dial"), then
 *                                      plain: AT+CIPOPEN=0,"TCP",… (socket 0)
 *                                      tls:   AT+CSSLCFG (context 0: TLS 1.2, no certificate check,
 *                                             PSK suite 0x00A8, identity and key), AT+CCHSET=1,0,
 *                                             AT+CCHSTART, AT+CCHSSLCFG=0,0, AT+CCHOPEN=0,…,2
 *   send(bytes)                        queued; AT+CIPSEND=0,n → `>` → bytes → +CIPSEND: 0,n,n
 *                                      (tls: AT+CCHSEND=0,n → `>` → bytes → OK, +CCHSEND: 0,0)
 *   onData(bytes)                      from +IPD<n> (tls: +CCHRECV: DATA,0,<n>) and the n bytes after it
 *   onClosed(reason)                   +IPCLOSE (tls: +CCH_PEER_CLOSED, +CCHCLOSE), a failed send,
 *                                      a modem that stopped answering
 *   close(done)                        AT+CIPCLOSE=0 (tls: AT+CCHCLOSE=0, AT+CCHSTOP), AT+NETCLOSE ("hang up")
 *
 * The pre-shared key crosses only the UART, in the one AT+CSSLCFG command; no error message,
 * counter or snapshot carries it (a timeout on that command names it "AT+CSSLCFG=\"psk\",0,…").
 *
 * A modem that does not answer AT is reset (the RESET line when wired, else AT+CRESET) and tried
 * again once; every line that is not one we know, or not text, is counted and skipped.
 * One operation at a time: open and close call back exactly once.
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
  io: typeof Serial;
  port: number;
  receive: number;
  transmit: number;
  baud: number;
  /** the RESET line (active low), if wired */
  reset?: { io: typeof Digital; pin: number };
  onData?: (bytes: Uint8Array) => void;
  onClosed?: (reason: string) => void;
  /** an SMS arrived (`+CMTI`): the center wants the terminal to dial in */
  onSms?: () => void;
  /** every answer waits at most this long (ms); network steps have their own, longer limits */
  commandTimeoutMs?: number;
  /** how long to wait for network registration (ms) */
  registrationTimeoutMs?: number;
}

export type ModemState = "off" | "opening" | "open" | "closing";

type Done = (error: string | null) => void;

interface Pending {
  /** a final answer ends the command: OK, ERROR, +CME ERROR, or a line `final` accepts */
  final?: (line: string) => boolean;
  /** waiting for the `>` prompt */
  prompt?: boolean;
  lines: string[];
  callback: (error: string | null, lines: string[]) => void;
  timer: ReturnType<typeof Timer.set> | undefined;
}

const MAX_LINE = 256;
const MAX_CHUNK = 1024;
const STATES = Object.freeze({ LINE: 0, DATA: 1 });
const DEFAULTS = Object.freeze({ command: 3000, registration: 60000, netOpen: 30000, socket: 30000, send: 15000, bootWait: 8000, pollMs: 2000, resetPulseMs: 300 });
/** TLS_PSK_WITH_AES_128_GCM_SHA256 (RFC 5487), the center's first suite */
const PSK_SUITE = "0x00A8";
/** +CCHOPEN / +CCHCLOSE result codes the driver names (SIM7600 manual, SSL error codes; see docs/protocols.md) */
const CCH_ERRORS: Readonly<Record<string, string>> = Object.freeze({ "4": "peer closed", "5": "timeout", "9": "network error", "14": "connect failed", "15": "TLS handshake failed", "17": "no network" });
const CLOSE_REASONS: Readonly<Record<string, string>> = Object.freeze({ "0": "closed", "1": "closed by the center", "2": "network dropped the link" });

export class SIM7600 {
  #serial: Serial;
  #resetPin: Digital | null = null;
  #onData: (bytes: Uint8Array) => void;
  #onClosed: (reason: string) => void;
  #onSms: () => void;
  #commandTimeout: number;
  #registrationTimeout: number;

  #state: ModemState = "off";
  #rx: number[] = [];
  #mode: number = STATES.LINE;
  #dataLeft = 0;
  #data: Uint8Array | null = null;
  #dataFill = 0;
  #pending: Pending | null = null;
  #urcWait: { prefix: string; callback: (line: string | null) => void; timer: ReturnType<typeof Timer.set> | undefined } | null = null;
  #sendQueue: Uint8Array[] = [];
  #sending = false;
  #netOpen = false;
  #socketOpen = false;
  /** the session in progress is TLS (the CCH commands), not plain TCP */
  #secure = false;
  /** AT+CCHSTART was sent and no AT+CCHSTOP since */
  #cchStarted = false;
  #signal: number | null = null;

  #stats = { garbage: 0, timeouts: 0, errors: 0, resets: 0, opens: 0, opened: 0, bytesOut: 0, bytesIn: 0, dropped: 0 };
  #lastError: string | null = null;

  constructor(options: SIM7600Options) {
    this.#onData = options.onData ?? (() => {});
    this.#onClosed = options.onClosed ?? (() => {});
    this.#onSms = options.onSms ?? (() => {});
    this.#commandTimeout = options.commandTimeoutMs ?? DEFAULTS.command;
    this.#registrationTimeout = options.registrationTimeoutMs ?? DEFAULTS.registration;
    const self = this;
    this.#serial = new options.io({
      port: options.port,
      receive: options.receive,
      transmit: options.transmit,
      baud: options.baud,
      format: "buffer",
      onReadable() {
        self.#readable();
      },
    });
    if (options.reset) {
      const Digital = options.reset.io;
      this.#resetPin = new Digital({ pin: options.reset.pin, mode: 8 /* Output */ });
      this.#resetPin.write(1);
    }
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
  get stats(): Readonly<{ garbage: number; timeouts: number; errors: number; resets: number; opens: number; opened: number; bytesOut: number; bytesIn: number; dropped: number }> {
    return this.#stats;
  }
  /** Bytes queued for the socket, not yet accepted by the modem. */
  get queued(): number {
    let n = 0;
    for (const b of this.#sendQueue) n += b.length;
    return n;
  }

  // ---------------------------------------------------------------- operations

  /** Brings the modem up, dials and opens the TCP socket. */
  open(target: SIM7600Target, done: Done): void {
    if (this.#state !== "off") return done(`modem: open while ${this.#state}`);
    this.#state = "opening";
    this.#stats.opens++;
    const fail = (why: string) => {
      this.#lastError = why;
      const hangUp = this.#netOpen;
      this.#abandon();
      if (!hangUp) {
        this.#state = "off";
        return done(why);
      }
      // a data session was opened: hang it up (the modem keeps it otherwise), then report
      this.#state = "open";
      this.close(() => done(why));
    };
    this.#probe(2, (err) => {
      if (err) return fail(err);
      this.#run(
        [
          (next) => this.#at("ATE0", next),
          (next) =>
            this.#at("AT+CPIN?", (e, lines) => {
              if (e) return next(`SIM: ${e}`);
              next(has(lines, "+CPIN: READY") ? null : `SIM not ready (${lines.join(" ") || "no answer"})`);
            }),
          (next) =>
            this.#at("AT+CSQ", (e, lines) => {
              const l = find(lines, "+CSQ: ");
              if (!e && l) {
                const rssi = parseInt(l.slice(6), 10);
                this.#signal = rssi >= 0 && rssi <= 99 ? rssi : null;
              }
              next(null); // signal quality is information, not a condition
            }),
          (next) => this.#waitRegistered(next),
          (next) => this.#at(`AT+CGDCONT=1,"IP","${target.apn}"`, next),
          (next) => this.#dial(next),
          (next) => this.#openSocket(target, next),
        ],
        (e) => {
          if (e) return fail(e);
          this.#state = "open";
          this.#stats.opened++;
          this.#lastError = null;
          done(null);
        },
      );
    });
  }

  /** Queues bytes for the socket. */
  send(bytes: Uint8Array): void {
    if (this.#state !== "open") throw new Error(`modem: send while ${this.#state}`);
    for (let o = 0; o < bytes.length; o += MAX_CHUNK) this.#sendQueue.push(bytes.slice(o, Math.min(bytes.length, o + MAX_CHUNK)));
    this.#pump();
  }

  /** Hangs up: closes the socket and the data session. Calls back once, whatever happens. */
  close(done: Done): void {
    if (this.#state === "off") return done(null);
    this.#state = "closing";
    this.#sendQueue = [];
    const finish = () => {
      this.#state = "off";
      this.#socketOpen = false;
      this.#netOpen = false;
      done(null);
    };
    const afterSocket = () => {
      if (this.#cchStarted) {
        this.#cchStarted = false;
        return this.#at("AT+CCHSTOP", (e) => {
          if (e) return afterSocket();
          this.#waitUrc("+CCHSTOP:", DEFAULTS.socket, () => afterSocket());
        });
      }
      if (!this.#netOpen) return finish();
      this.#at("AT+NETCLOSE", (e) => {
        if (e) return finish();
        this.#waitUrc("+NETCLOSE:", DEFAULTS.socket, () => finish());
      });
    };
    const closeSocket = () => {
      if (!this.#socketOpen) return afterSocket();
      this.#socketOpen = false;
      const secure = this.#secure;
      this.#at(secure ? "AT+CCHCLOSE=0" : "AT+CIPCLOSE=0", (e) => {
        if (e) return afterSocket();
        this.#waitUrc(secure ? "+CCHCLOSE:" : "+CIPCLOSE:", DEFAULTS.socket, () => afterSocket());
      });
    };
    if (this.#sending) {
      // let the CIPSEND in progress end first (its callback sees the closing state)
      const wait = () => (this.#sending ? Timer.set(wait, 50) : closeSocket());
      wait();
    } else closeSocket();
  }

  /** Releases the UART and the reset line. */
  destroy(): void {
    this.#abandon();
    this.#serial.close();
    if (this.#resetPin) this.#resetPin.close();
  }

  // ---------------------------------------------------------------- steps

  #run(steps: Array<(next: (error: string | null) => void) => void>, done: Done): void {
    let i = 0;
    const next = (error: string | null) => {
      if (error) return done(error);
      if (this.#state !== "opening") return done("modem: open abandoned");
      if (i >= steps.length) return done(null);
      steps[i++](next);
    };
    next(null);
  }

  /** AT until it answers; a silent modem is reset and given one more chance. */
  #probe(tries: number, done: Done, afterReset = false): void {
    this.#at("AT", (e) => {
      if (!e) return done(null);
      if (tries > 1) return this.#probe(tries - 1, done, afterReset);
      if (afterReset) return done("modem not answering, even after a reset");
      this.#reset(() => this.#probe(Math.ceil(DEFAULTS.bootWait / this.#commandTimeout) + 1, done, true));
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
    this.#at("AT+CRESET", () => Timer.set(then, DEFAULTS.bootWait));
  }

  #waitRegistered(done: Done): void {
    let waited = 0;
    const poll = () => {
      this.#at("AT+CREG?", (e, lines) => {
        const cs = !e && registered(find(lines, "+CREG: "));
        this.#at("AT+CGREG?", (e2, lines2) => {
          const ps = !e2 && registered(find(lines2, "+CGREG: "));
          if (cs || ps) return done(null);
          if (e && e2 && e.indexOf("timeout") >= 0) return done(e);
          waited += DEFAULTS.pollMs;
          if (waited >= this.#registrationTimeout) return done("not registered on the network");
          Timer.set(poll, DEFAULTS.pollMs);
        });
      });
    };
    poll();
  }

  #dial(done: Done): void {
    this.#at("AT+NETOPEN", (e, lines) => {
      if (e) {
        if (lines.join(" ").indexOf("already opened") >= 0) {
          this.#netOpen = true;
          return done(null);
        }
        return done(`dial: ${e}`);
      }
      this.#waitUrc("+NETOPEN:", DEFAULTS.netOpen, (line) => {
        if (line === null) return done("dial: no +NETOPEN");
        if (line.trim() !== "+NETOPEN: 0") return done(`dial failed (${line})`);
        this.#netOpen = true;
        done(null);
      });
    });
  }

  #openSocket(target: SIM7600Target, done: Done): void {
    this.#secure = !!target.tls;
    if (target.tls) return this.#openSecure(target, target.tls, done);
    this.#at(`AT+CIPOPEN=0,"TCP","${target.address}",${target.port}`, (e) => {
      if (e) return done(`socket: ${e}`);
      this.#waitUrc("+CIPOPEN:", DEFAULTS.socket, (line) => {
        if (line === null) return done("socket: no +CIPOPEN");
        const m = line.match(/^\+CIPOPEN: 0,(\d+)/);
        if (!m) return done(`socket: ${line}`);
        if (m[1] !== "0") return done(`socket open failed (error ${m[1]})`);
        this.#socketOpen = true;
        done(null);
      });
    });
  }

  /** TLS 1.2 PSK through the modem's SSL stack: SSL context 0, session 0. */
  #openSecure(target: SIM7600Target, tls: { identity: string; psk: string }, done: Done): void {
    const ssl = (what: string) => (next: (error: string | null) => void) => this.#at(`AT+CSSLCFG=${what}`, (e) => next(e ? `TLS setup: ${e}` : null));
    const steps: Array<(next: (error: string | null) => void) => void> = [
      ssl(`"sslversion",0,3`),
      ssl(`"authmode",0,0`), // no certificates: the pre-shared key authenticates both ends
      ssl(`"ciphersuites",0,${PSK_SUITE}`),
      (next) => this.#at(`AT+CSSLCFG="psk",0,"${tls.identity}","${tls.psk}"`, (e) => next(e ? `TLS setup: ${e}` : null), `AT+CSSLCFG="psk",0,…`),
      (next) => this.#at("AT+CCHSET=1,0", (e) => next(e ? `TLS setup: ${e}` : null)), // report sends; received data straight out
      (next) => {
        this.#cchStarted = true;
        this.#at("AT+CCHSTART", (e) => {
          if (e) return next(`TLS service: ${e}`);
          this.#waitUrc("+CCHSTART:", DEFAULTS.socket, (line) => {
            if (line === null) return next("TLS service: no +CCHSTART");
            next(line.trim() === "+CCHSTART: 0" ? null : `TLS service failed (${line})`);
          });
        });
      },
      (next) => this.#at("AT+CCHSSLCFG=0,0", (e) => next(e ? `TLS setup: ${e}` : null)),
      (next) =>
        this.#at(`AT+CCHOPEN=0,"${target.address}",${target.port},2`, (e) => {
          if (e) return next(`TLS socket: ${e}`);
          this.#waitUrc("+CCHOPEN:", DEFAULTS.socket, (line) => {
            if (line === null) return next("TLS socket: no +CCHOPEN");
            const m = line.match(/^\+CCHOPEN: 0,(\d+)/);
            if (!m) return next(`TLS socket: ${line}`);
            if (m[1] !== "0") return next(`TLS open failed (${CCH_ERRORS[m[1]] ?? "error"} ${m[1]})`);
            this.#socketOpen = true;
            next(null);
          });
        }),
    ];
    this.#run(steps, done);
  }

  #pump(): void {
    if (this.#sending || this.#state !== "open" || this.#sendQueue.length === 0) return;
    const chunk = this.#sendQueue[0];
    this.#sending = true;
    const secure = this.#secure;
    const ackPrefix = secure ? "+CCHSEND:" : "+CIPSEND:";
    this.#command(`${secure ? "AT+CCHSEND" : "AT+CIPSEND"}=0,${chunk.length}`, { prompt: true }, (e) => {
      if (e) return this.#sendFailed(`send: ${e}`);
      this.#serial.write(chunk);
      this.#command(null, { final: (l) => l.startsWith(ackPrefix) || l === "OK" }, (e2, lines) => {
        if (e2) return this.#sendFailed(`send: ${e2}`);
        const finish = (line: string | null) => {
          if (line === null) return this.#sendFailed(`send: no ${ackPrefix.slice(0, -1)}`);
          if (secure) {
            // +CCHSEND: 0,<err> (AT+CCHSET=1): 0 is sent
            if (line.trim() !== "+CCHSEND: 0,0") return this.#sendFailed(`send: ${line}`);
          } else {
            const m = line.match(/^\+CIPSEND: 0,(\d+),(\d+)/);
            if (!m || m[2] !== String(chunk.length)) return this.#sendFailed(`send: ${line}`);
          }
          this.#sendQueue.shift();
          this.#stats.bytesOut += chunk.length;
          this.#sending = false;
          this.#pump();
        };
        const ack = find(lines, ackPrefix);
        if (ack) finish(ack);
        else this.#waitUrc(ackPrefix, DEFAULTS.send, finish);
      }, DEFAULTS.send);
    });
  }

  #sendFailed(why: string): void {
    this.#sending = false;
    this.#sendQueue = [];
    if (this.#state === "open") this.#lost(why);
  }

  /** The link is gone: tell the owner once; it hangs up with close(). */
  #lost(why: string): void {
    this.#socketOpen = false;
    this.#stats.dropped++;
    this.#lastError = why;
    this.#sendQueue = [];
    // the state stays "open": the owner's close() still hangs up the data session
    this.#onClosed(why);
  }

  // ---------------------------------------------------------------- commands

  /** `shown`: how the command is named in errors when it carries a secret. */
  #at(text: string, callback: (error: string | null, lines: string[]) => void, shown?: string): void {
    this.#command(text, { shown }, callback);
  }

  /** Writes a command line (or nothing, to wait for more answers) and collects its answer. */
  #command(text: string | null, o: { final?: (line: string) => boolean; prompt?: boolean; shown?: string }, callback: (error: string | null, lines: string[]) => void, timeoutMs?: number): void {
    if (this.#pending) {
      const busy = this.#pending;
      // one at a time: a caller bug, not the modem's; answer it rather than lose it
      return callback(`modem busy (${busy.prompt ? "prompt" : "command"})`, []);
    }
    const p: Pending = { final: o.final, prompt: o.prompt, lines: [], callback, timer: undefined };
    p.timer = Timer.set(() => {
      if (this.#pending !== p) return;
      this.#pending = null;
      this.#stats.timeouts++;
      callback(`timeout${text ? ` on ${o.shown ?? text}` : ""}`, p.lines);
    }, timeoutMs ?? this.#commandTimeout);
    this.#pending = p;
    if (text !== null) {
      const line = new Uint8Array(text.length + 1);
      for (let i = 0; i < text.length; i++) line[i] = text.charCodeAt(i) & 0x7f;
      line[text.length] = 13;
      try {
        this.#serial.write(line);
      } catch {
        this.#finish(p, "UART output full");
      }
    }
  }

  #finish(p: Pending, error: string | null): void {
    if (this.#pending !== p) return;
    this.#pending = null;
    if (p.timer !== undefined) Timer.clear(p.timer);
    p.callback(error, p.lines);
  }

  #waitUrc(prefix: string, timeoutMs: number, callback: (line: string | null) => void): void {
    if (this.#urcWait) {
      const old = this.#urcWait;
      this.#urcWait = null;
      if (old.timer !== undefined) Timer.clear(old.timer);
      old.callback(null);
    }
    const w = {
      prefix,
      callback,
      timer: undefined as ReturnType<typeof Timer.set> | undefined,
    };
    w.timer = Timer.set(() => {
      if (this.#urcWait !== w) return;
      this.#urcWait = null;
      this.#stats.timeouts++;
      callback(null);
    }, timeoutMs);
    this.#urcWait = w;
  }

  /** Cancels whatever waits (the callbacks are dropped: the caller has given up). */
  #abandon(): void {
    if (this.#pending && this.#pending.timer !== undefined) Timer.clear(this.#pending.timer);
    this.#pending = null;
    if (this.#urcWait && this.#urcWait.timer !== undefined) Timer.clear(this.#urcWait.timer);
    this.#urcWait = null;
    this.#sendQueue = [];
    this.#sending = false;
    this.#socketOpen = false;
    this.#mode = STATES.LINE;
    this.#rx = [];
  }

  // ---------------------------------------------------------------- the line parser

  #readable(): void {
    for (;;) {
      const got = this.#serial.read();
      if (typeof got !== "object") break; // undefined: nothing left (a number only in "number" format)
      const bytes = new Uint8Array(got);
      for (let i = 0; i < bytes.length; i++) {
        if (this.#mode === STATES.DATA) {
          const data = this.#data as Uint8Array;
          const take = Math.min(this.#dataLeft, bytes.length - i);
          data.set(bytes.subarray(i, i + take), this.#dataFill);
          this.#dataFill += take;
          this.#dataLeft -= take;
          i += take - 1;
          if (this.#dataLeft === 0) {
            this.#mode = STATES.LINE;
            this.#data = null;
            this.#stats.bytesIn += data.length;
            if (this.#socketOpen) this.#onData(data);
          }
          continue;
        }
        const b = bytes[i];
        if (b === 10) {
          this.#line();
        } else if (b === 13) {
          continue;
        } else {
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
    // unsolicited results first: they can arrive in the middle of any command
    if (line.startsWith("+IPD") || line.startsWith("+CCHRECV: DATA,")) {
      const count = line.startsWith("+IPD") ? line.slice(4) : line.slice(15).startsWith("0,") ? line.slice(17) : "";
      const n = parseInt(count, 10);
      if (!(n > 0 && n <= 1500) || String(n) !== count) {
        this.#stats.garbage++;
        return;
      }
      this.#mode = STATES.DATA;
      this.#dataLeft = n;
      this.#data = new Uint8Array(n);
      this.#dataFill = 0;
      return;
    }
    if (line.startsWith("+CMTI:")) {
      // an SMS: its only meaning for us is "dial in" (the link rate-limits it); its text is not read
      this.#onSms();
      return;
    }
    if (line.startsWith("+IPCLOSE:")) {
      const reason = CLOSE_REASONS[line.slice(line.indexOf(",") + 1).trim()] ?? line;
      if (this.#socketOpen && this.#state === "open") this.#lost(reason);
      else this.#socketOpen = false;
      return;
    }
    if (line.startsWith("+CCH_PEER_CLOSED:")) {
      if (this.#socketOpen && this.#state === "open") this.#lost(CLOSE_REASONS["1"]);
      else this.#socketOpen = false;
      return;
    }
    if (line === "RDY" || line === "PB DONE" || line === "SMS DONE" || line.startsWith("*ATREADY")) {
      this.#cchStarted = false;
      if (this.#state === "open") {
        this.#netOpen = false;
        this.#lost("the modem restarted");
      }
      return;
    }
    const w = this.#urcWait;
    if (w && line.startsWith(w.prefix)) {
      this.#urcWait = null;
      if (w.timer !== undefined) Timer.clear(w.timer);
      w.callback(line);
      return;
    }
    if (line.startsWith("+CCHCLOSE:") && this.#secure) {
      // not asked for: the module closed the TLS session (+CCHCLOSE: 0,<err>)
      const err = line.slice(line.indexOf(",") + 1).trim();
      if (this.#socketOpen && this.#state === "open") this.#lost(err === "9" || err === "17" ? CLOSE_REASONS["2"] : `TLS session closed (${CCH_ERRORS[err] ?? "error"} ${err})`);
      else this.#socketOpen = false;
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

const KNOWN = /^(\+[A-Z][A-Z ]*:|OK$|ERROR$|AT)/;

function has(lines: string[], text: string): boolean {
  return lines.indexOf(text) >= 0;
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
