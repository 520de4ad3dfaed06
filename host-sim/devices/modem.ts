import { Socket, connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { IoHub } from "../io/hub";
import type { Uart, UartPeer } from "../io/uart";
import type { SimPlugin, Simulator } from "../simulator";
import { manifestConfig } from "../project";
import { ACTIONS, ScriptError } from "../script";

/**
 * The SIM7600-class cellular modem on the terminal's UART 1, emulated at the AT command level
 * (SIMCom TCPIP dialect: AT, ATE0/ATE1, AT+CPIN?, AT+CSQ, AT+CREG?, AT+CGREG?, AT+CGDCONT,
 * AT+NETOPEN, AT+CIPOPEN, AT+CIPSEND with its `>` prompt, +IPD, +IPCLOSE, AT+CIPCLOSE,
 * AT+NETCLOSE, AT+CRESET; ERROR and +CME ERROR), with REAL TCP connections (node:net) to the
 * address the firmware dials — on the host, the center on loopback.
 *
 * Its SSL stack (SIMCom's CCH commands, docs/protocols.md): AT+CSSLCFG (SSL contexts 0-9:
 * "sslversion", "authmode", "ciphersuites", "psk" — the last one's syntax is this emulation's,
 * unverified on a module —, "ignorelocaltime", "negotiatetime", "enableSNI"), AT+CCHSET,
 * AT+CCHSTART/AT+CCHSTOP, AT+CCHSSLCFG, AT+CCHOPEN (client type 2), AT+CCHSEND, +CCHRECV: DATA,
 * +CCH_PEER_CLOSED, AT+CCHCLOSE. AT+CCHOPEN opens a REAL TLS 1.2 connection (node:tls, the
 * context's pre-shared key and suites) over a real TCP socket: no pretend encryption; a wrong key
 * fails the real handshake (+CCHOPEN: 0,15). Commands out of order (AT+CCHOPEN before
 * AT+CCHSTART, AT+CCHSEND without a session, a second AT+CCHSTART) answer ERROR.
 *
 * Time. The simulator runs virtual time; the center is a real server. The modem bridges them:
 *  - what the firmware sends goes on the real socket after its modelled time on the air
 *    (latency + bytes at the uplink rate), as a host timer in virtual time;
 *  - what the real socket delivers reaches the firmware after the modelled latency and downlink
 *    rate, counted from the virtual instant at which it arrived;
 *  - while a real exchange is under way, `realWork()` (the SimPlugin hook the simulator awaits
 *    before each step) holds virtual time still: while a TCP connect is pending, while MQTT
 *    requests written to the socket (CONNECT, QoS-1 PUBLISH, SUBSCRIBE, PINGREQ) still wait
 *    for their reply packets, and for a short quiet window after the last socket activity (so a
 *    message the broker pushes right after an ack lands in the same virtual instant). A real
 *    wait never exceeds `maxRealWaitMs`; after that virtual time goes on and whatever comes later
 *    is delivered later, as a slow network would. The modem itself knows nothing of MQTT beyond
 *    counting packets (fixed header + remaining length) to know how many replies are owed.
 * So a test that advances virtual time sees the center's replies at deterministic virtual
 * instants whenever the center answers within maxRealWaitMs, however slow the machine.
 *
 * Faults (`fault({kind, …})`): no-sim, no-registration, open-fails {count}, drop-mid-send
 * {count, afterBytes}, drop (now), garbage {lines} (now and into the next replies), stall
 * {ms?} (answers nothing until reset: the reset pin, AT+CRESET cannot reach it, or a power cut),
 * slow {latencyMs}, clear.
 */
export interface ModemOptions {
  port?: number;
  /** one-way network latency, ms (virtual) */
  latencyMs?: number;
  /** uplink and downlink rates, bits per second */
  uplinkBps?: number;
  downlinkBps?: number;
  /** from power-up/reset to answering AT, ms */
  bootMs?: number;
  /** from boot to registered on the network, ms */
  registrationMs?: number;
  /** PDP context activation (AT+NETOPEN), ms */
  netOpenMs?: number;
  /** the GPIO the firmware pulls low to reset the modem (its RESET line), if wired */
  resetPin?: number | null;
  /** +CSQ rssi (0..31) */
  rssi?: number;
  /** the longest real wait for the center, per step (ms of real time) */
  maxRealWaitMs?: number;
  /** quiet window after socket activity before virtual time goes on (ms of real time) */
  quietMs?: number;
}

export type FaultKind = "no-sim" | "no-registration" | "open-fails" | "drop-mid-send" | "drop" | "garbage" | "stall" | "slow" | "clear";
export const FAULT_KINDS: readonly FaultKind[] = ["no-sim", "no-registration", "open-fails", "drop-mid-send", "drop", "garbage", "stall", "slow", "clear"];

export interface FaultSpec {
  kind: FaultKind;
  count?: number;
  afterBytes?: number;
  lines?: number;
  ms?: number;
  latencyMs?: number;
}

type Power = "off" | "booting" | "ready";

const MAX_IPD = 1460;
/** ciphersuites values (IANA numbers, 0xFFFF all) → OpenSSL names; only PSK suites can work without certificates */
const SUITES: Readonly<Record<string, string>> = Object.freeze({
  "0X00A8": "PSK-AES128-GCM-SHA256",
  "0X00A9": "PSK-AES256-GCM-SHA384",
  "0XFFFF": "PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384",
});
/** CCH result codes (SIM7600 manual's SSL error codes, as docs/protocols.md records) */
const CCH = Object.freeze({ ok: 0, peerClosed: 4, network: 9, connect: 14, handshake: 15, noNet: 17 });

/** One SSL context as AT+CSSLCFG sets it. */
interface SslContext {
  version: number; // 0 SSL 3.0, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 all
  authmode: number; // 0 none, 1 server, 2 server and client, (3 client only)
  suites: string; // "0X00A8", …, "0XFFFF"
  psk: { identity: string; key: Buffer } | null;
}

function defaultSsl(): SslContext {
  return { version: 4, authmode: 0, suites: "0XFFFF", psk: null };
}
const CR = 13;
const LF = 10;

export class ModemError extends Error {}

/** the quiet window of a session that follows an SMS wake (see sms()) */
const WOKEN_QUIET_MS = 300;

export class ModemEmulator implements UartPeer, SimPlugin {
  readonly name = "link";
  readonly port: number;
  latencyMs: number;
  uplinkBps: number;
  downlinkBps: number;
  bootMs: number;
  registrationMs: number;
  netOpenMs: number;
  rssi: number;
  maxRealWaitMs: number;
  quietMs: number;
  readonly resetPin: number | null;

  #io: IoHub;
  #uart: Uart;
  #power: Power = "booting";
  #echo = true;
  #line: number[] = [];
  #registeredAt = 0;
  #apn: string | null = null;
  #netOpen = false;
  #socket: Socket | null = null;
  #socketOpen = false;
  /** the SSL stack: contexts, AT+CCHSET, AT+CCHSTART, session 0's context, and whether the socket is TLS */
  #ssl: SslContext[] = Array.from({ length: 10 }, defaultSsl);
  #cchReportSend = false;
  #cchStarted = false;
  #cchContext: number | null = null;
  #secure = false;
  #sessionId = 0; // bumps on every socket, so late events of an old one are ignored
  /** collecting CIPSEND data: bytes still expected */
  #sendLeft = 0;
  #sendBuf: number[] = [];
  #cancelPrompt: (() => void) | null = null;
  #lastResetLevel = 1;
  #outAt = 0; // virtual ms at which the last queued output goes to the UART

  // faults
  #noSim = false;
  #noRegistration = false;
  #openFails = 0;
  #dropMidSend: Array<{ afterBytes: number }> = [];
  #garbageLines = 0;
  #stalledUntil: number | null = null; // virtual ms; Infinity = until reset
  #faultLog: Array<{ at: number; kind: string }> = [];
  #rng = 0x2545f491;

  // the real-time bridge
  #connecting = false;
  #owed = 0; // MQTT replies owed by the server
  #upParser = new PacketCounter();
  #downParser = new PacketCounter();
  #lastActivity = 0; // real ms
  #inFlightToSocket = 0; // writes scheduled in virtual time, not yet on the socket

  /** sees every byte on the real socket, both ways (benches, tests) */
  tap: ((direction: "up" | "down", bytes: Uint8Array) => void) | null = null;

  // figures
  sessions = 0;
  sessionsOk = 0;
  bytesUp = 0;
  bytesDown = 0;
  /** TCP payload of the TLS sessions (records, handshakes), both ways: what crosses the network,
   * closed sessions' and open ones' alike (a socket's figures are read live, not when it closes) */
  get wireUp(): number {
    let n = this.#wireClosed.up;
    for (const raw of this.#wireOpen) n += raw.bytesWritten;
    return n;
  }
  get wireDown(): number {
    let n = this.#wireClosed.down;
    for (const raw of this.#wireOpen) n += raw.bytesRead;
    return n;
  }
  #wireClosed = { up: 0, down: 0 };
  #wireOpen = new Set<Socket>();
  tlsSessions = 0;
  tlsHandshakesFailed = 0;
  commands = 0;
  errors = 0;
  resets = 0;
  drops = 0;
  #sessionStart = 0;
  sessionMs: number[] = [];

  #now: () => number;

  /** `now`: the simulator's virtual clock (sim.clock.now). */
  constructor(io: IoHub, now: () => number, options: ModemOptions = {}) {
    this.#io = io;
    this.#now = now;
    this.port = options.port ?? 1;
    this.latencyMs = options.latencyMs ?? 60;
    this.uplinkBps = options.uplinkBps ?? 384_000;
    this.downlinkBps = options.downlinkBps ?? 1_000_000;
    this.bootMs = options.bootMs ?? 3000;
    this.registrationMs = options.registrationMs ?? 2000;
    this.netOpenMs = options.netOpenMs ?? 800;
    this.rssi = options.rssi ?? 20;
    this.maxRealWaitMs = options.maxRealWaitMs ?? 3000;
    this.quietMs = options.quietMs ?? 15;
    this.resetPin = options.resetPin ?? null;
    this.#uart = io.uart(this.port);
    this.#uart.connect(this);
    if (this.resetPin !== null) {
      const pin = this.resetPin;
      io.gpio.onChange(() => {
        const level = io.gpio.driven(pin) ?? 1;
        if (this.#lastResetLevel === 1 && level === 0) this.#reset("pin");
        this.#lastResetLevel = level;
      });
    }
    this.#boot();
  }

  // ---------------------------------------------------------------- plugin

  snapshot(): Record<string, unknown> {
    return {
      link: {
        state: this.state,
        apn: this.#apn,
        sessions: this.sessions,
        sessionsOk: this.sessionsOk,
        bytes: { up: this.bytesUp, down: this.bytesDown, wireUp: this.wireUp, wireDown: this.wireDown },
        tls: { sessions: this.tlsSessions, handshakesFailed: this.tlsHandshakesFailed, started: this.#cchStarted },
        commands: this.commands,
        errors: this.errors,
        resets: this.resets,
        drops: this.drops,
        sms: this.smsReceived,
        faults: {
          active: this.activeFaults(),
          injected: this.#faultLog.slice(-20),
        },
      },
    };
  }

  powerLost(): void {
    // The modem shares the terminal's supply: it goes down with it and boots again.
    this.#closeSocket();
    this.#netOpen = false;
    this.#stalledUntil = null;
    this.#power = "off";
    this.#boot();
  }

  /** The simulator awaits this before each step: real socket work that virtual time must wait for. */
  realWork(): Promise<void> | null {
    if (!this.#waiting()) return null;
    const started = Date.now();
    return new Promise((resolve) => {
      const poll = () => {
        if (!this.#waiting() || Date.now() - started >= this.maxRealWaitMs) resolve();
        else setTimeout(poll, 1);
      };
      poll();
    });
  }

  /** Real socket work is under way (the firmware's timers must not run past it in one step). */
  busy(): boolean {
    return this.#waiting();
  }

  /** A socket to the center is open or opening: a step goes no further than the host's next event (Simulator #next). */
  live(): boolean {
    return this.#socket !== null;
  }

  #waiting(): boolean {
    if (this.#connecting) return true;
    if (!this.#socket || !this.#socketOpen) return false;
    if (this.#inFlightToSocket > 0) return false; // virtual time must pass first
    if (this.#owed > 0) return true;
    return Date.now() - this.#lastActivity < (this.#wokenSession ? Math.max(this.quietMs, WOKEN_QUIET_MS) : this.quietMs);
  }

  /**
   * An SMS arrives (the center's wake-up, docs/protocols.md): the modem stores it and says so with
   * `+CMTI: "SM",<index>`. Only a modem that is up and registered receives it; returns whether it did.
   */
  sms(text: string): boolean {
    if (this.#power !== "ready" || this.#stalled() || !this.#registered()) return false;
    this.smsReceived++;
    this.#smsAt = this.#now();
    this.smsTexts.push(text.slice(0, 160));
    if (this.smsTexts.length > 10) this.smsTexts.shift();
    this.#urc(`+CMTI: "SM",${((this.smsReceived - 1) % 20) + 1}`, this.latencyMs);
    return true;
  }

  smsReceived = 0;
  #smsAt: number | null = null;
  #wokenSession = false;
  smsTexts: string[] = [];

  get state(): string {
    if (this.#power !== "ready") return this.#power;
    if (this.#stalled()) return "stalled";
    if (this.#socketOpen) return "connected";
    if (this.#netOpen) return "online";
    return this.#registered() ? "registered" : "searching";
  }

  activeFaults(): string[] {
    const out: string[] = [];
    if (this.#noSim) out.push("no-sim");
    if (this.#noRegistration) out.push("no-registration");
    if (this.#openFails > 0) out.push(`open-fails×${this.#openFails}`);
    if (this.#dropMidSend.length > 0) out.push(`drop-mid-send×${this.#dropMidSend.length}`);
    if (this.#garbageLines > 0) out.push(`garbage×${this.#garbageLines}`);
    if (this.#stalled()) out.push("stall");
    return out;
  }

  /** Injects a fault (script action link.fault). */
  fault(spec: FaultSpec): void {
    if (!spec || !FAULT_KINDS.includes(spec.kind)) throw new ModemError(`link.fault: kind must be one of ${FAULT_KINDS.join(", ")}`);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new ModemError("link.fault: count must be 1..1000");
    this.#faultLog.push({ at: this.#now(), kind: spec.kind });
    switch (spec.kind) {
      case "no-sim":
        this.#noSim = true;
        return;
      case "no-registration":
        this.#noRegistration = true;
        return;
      case "open-fails":
        this.#openFails += count;
        return;
      case "drop-mid-send": {
        const afterBytes = spec.afterBytes ?? 5;
        if (!Number.isInteger(afterBytes) || afterBytes < 0) throw new ModemError("link.fault: afterBytes must be a non-negative integer");
        for (let i = 0; i < count; i++) this.#dropMidSend.push({ afterBytes });
        return;
      }
      case "drop":
        if (this.#socketOpen) this.#networkDrop();
        return;
      case "garbage": {
        const lines = spec.lines ?? 3;
        if (!Number.isInteger(lines) || lines < 1 || lines > 1000) throw new ModemError("link.fault: lines must be 1..1000");
        this.#garbageLines += lines;
        this.#emitGarbage(1);
        return;
      }
      case "stall":
        if (spec.ms !== undefined && (!Number.isInteger(spec.ms) || spec.ms <= 0)) throw new ModemError("link.fault: ms must be a positive integer");
        this.#stalledUntil = spec.ms === undefined ? Infinity : this.#now() + spec.ms;
        return;
      case "slow":
        if (!Number.isInteger(spec.latencyMs) || (spec.latencyMs as number) < 0) throw new ModemError("link.fault: slow needs latencyMs");
        this.latencyMs = spec.latencyMs as number;
        return;
      case "clear":
        this.#noSim = false;
        this.#noRegistration = false;
        this.#openFails = 0;
        this.#dropMidSend = [];
        this.#garbageLines = 0;
        this.#stalledUntil = null;
        return;
    }
  }

  close(): void {
    this.#closeSocket();
    this.#uart.connect(null);
  }

  // ---------------------------------------------------------------- the UART

  receive(bytes: Uint8Array): void {
    if (this.#power !== "ready" || this.#stalled()) return; // nobody listening
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.#sendLeft > 0) {
        this.#sendBuf.push(b);
        if (--this.#sendLeft === 0) this.#sendData();
        continue;
      }
      if (b === CR) {
        const text = String.fromCharCode(...this.#line);
        this.#line = [];
        if (this.#echo) this.#out(text + "\r");
        this.#command(text.trim());
      } else if (b === LF) {
        continue;
      } else if (this.#line.length < 512) {
        this.#line.push(b);
      }
    }
  }

  #stalled(): boolean {
    if (this.#stalledUntil === null) return false;
    if (this.#now() >= this.#stalledUntil) {
      this.#stalledUntil = null;
      return false;
    }
    return true;
  }

  #registered(): boolean {
    return !this.#noSim && !this.#noRegistration && this.#power === "ready" && this.#now() >= this.#registeredAt;
  }

  #out(text: string, delayMs = 2): void {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    this.#outBytes(bytes, delayMs);
  }

  #outBytes(bytes: Uint8Array, delayMs: number): void {
    // the modem's serial output is one FIFO: nothing overtakes what was queued before it
    const now = this.#now();
    const due = Math.max(now + delayMs, this.#outAt);
    this.#outAt = due;
    this.#io.schedule(due - now, () => {
      if (this.#power !== "ready" || this.#stalled()) return;
      this.#uart.send(bytes);
    });
  }

  #reply(lines: string[], delayMs = 5): void {
    this.#emitGarbage(delayMs);
    this.#out(lines.map((l) => `\r\n${l}\r\n`).join(""), delayMs);
  }

  #ok(delayMs = 5): void {
    this.#reply(["OK"], delayMs);
  }

  #error(cme?: number, delayMs = 5): void {
    this.errors++;
    this.#reply([cme === undefined ? "ERROR" : `+CME ERROR: ${cme}`], delayMs);
  }

  #urc(line: string, delayMs: number): void {
    this.#out(`\r\n${line}\r\n`, delayMs);
  }

  #emitGarbage(delayMs: number): void {
    if (this.#garbageLines <= 0) return;
    this.#garbageLines--;
    const n = 4 + (this.#random() % 40);
    const bytes = new Uint8Array(n + 2);
    for (let i = 0; i < n; i++) bytes[i] = this.#random() & 0xff;
    bytes[n] = CR;
    bytes[n + 1] = LF;
    this.#outBytes(bytes, delayMs);
  }

  #random(): number {
    // xorshift32: garbage is reproducible run to run
    let x = this.#rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rng = x >>> 0;
    return this.#rng;
  }

  #boot(): void {
    this.#power = "booting";
    this.#echo = true;
    this.#cchStarted = false;
    this.#cchContext = null;
    this.#cchReportSend = false;
    this.#line = [];
    this.#sendLeft = 0;
    this.#sendBuf = [];
    this.#io.schedule(this.bootMs, () => {
      if (this.#power !== "booting") return;
      this.#power = "ready";
      this.#registeredAt = this.#now() + this.registrationMs;
      this.#urc("RDY", 0);
      if (!this.#noSim) this.#urc("+CPIN: READY", 10);
      this.#urc("PB DONE", 20);
    });
  }

  #reset(why: string): void {
    this.resets++;
    this.#faultLog.push({ at: this.#now(), kind: `reset:${why}` });
    this.#closeSocket();
    this.#netOpen = false;
    this.#stalledUntil = null;
    this.#power = "off";
    this.#boot();
  }

  // ---------------------------------------------------------------- AT commands

  #command(cmd: string): void {
    if (cmd.length === 0) return;
    this.commands++;
    const upper = cmd.toUpperCase();
    if (!upper.startsWith("AT")) return this.#error();
    const body = upper.slice(2);
    let m: RegExpMatchArray | null;
    if (body === "") return this.#ok();
    if (body === "E0" || body === "E1") {
      this.#echo = body === "E1";
      return this.#ok();
    }
    if (body === "+CRESET") {
      this.#ok();
      this.#io.schedule(20, () => this.#reset("CRESET"));
      return;
    }
    if (body === "+CPIN?") {
      if (this.#noSim) return this.#error(10); // SIM not inserted
      return this.#reply(["+CPIN: READY", "OK"]);
    }
    if (body === "+CSQ") {
      const rssi = this.#noSim || this.#noRegistration ? 99 : this.rssi;
      return this.#reply([`+CSQ: ${rssi},99`, "OK"]);
    }
    if ((m = body.match(/^\+(CREG|CGREG)\?$/))) {
      const stat = this.#noSim ? 0 : this.#registered() ? 1 : 2;
      return this.#reply([`+${m[1]}: 0,${stat}`, "OK"]);
    }
    if (body.startsWith("+CGDCONT=")) {
      const args = cmd.slice(cmd.indexOf("=") + 1);
      const mm = args.match(/^1,"IP","([^"]{1,63})"$/i);
      if (!mm) return this.#error();
      this.#apn = mm[1];
      return this.#ok();
    }
    if (body === "+NETOPEN?") return this.#reply([`+NETOPEN: ${this.#netOpen ? 1 : 0}`, "OK"]);
    if (body === "+NETOPEN") {
      if (this.#netOpen) return this.#reply(["+IP ERROR: Network is already opened", "ERROR"]);
      this.#ok();
      this.#io.schedule(this.netOpenMs, () => {
        if (this.#power !== "ready") return;
        if (!this.#registered() || this.#apn === null) return this.#urc("+NETOPEN: 1", 0);
        this.#netOpen = true;
        this.#urc("+NETOPEN: 0", 0);
      });
      return;
    }
    if (body === "+NETCLOSE") {
      if (!this.#netOpen) return this.#reply(["+NETCLOSE: 2", "ERROR"]);
      this.#ok();
      this.#closeSocket();
      this.#netOpen = false;
      this.#urc("+NETCLOSE: 0", 50);
      return;
    }
    if (body.startsWith("+CIPOPEN=")) {
      const mm = cmd.slice(cmd.indexOf("=") + 1).match(/^0,"TCP","(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})",(\d{1,5})$/i);
      if (!mm || Number(mm[2]) < 1 || Number(mm[2]) > 65535) return this.#error();
      if (this.#socket) return this.#reply(["+CIPOPEN: 0,4", "ERROR"]); // link 0 in use
      this.#ok();
      return this.#open(mm[1], Number(mm[2]), null);
    }
    if ((m = body.match(/^\+CIPSEND=0,(\d{1,5})$/))) {
      const n = Number(m[1]);
      if (!this.#socketOpen || this.#secure || n < 1 || n > 1500) return this.#error();
      this.#sendLeft = n;
      this.#sendBuf = [];
      this.#out("\r\n>", 3);
      return;
    }
    if (body.startsWith("+CSSLCFG=") || body.startsWith("+CCH")) return this.#sslCommand(cmd.slice(2), body);
    if (body === "+CIPCLOSE=0") {
      if (!this.#socket || this.#secure) return this.#error();
      this.#ok();
      this.#closeSocket();
      this.#urc("+CIPCLOSE: 0,0", this.latencyMs);
      return;
    }
    return this.#error();
  }

  /**
   * AT+CSSLCFG and the CCH commands. `text` is the command after "AT" as typed (a key's case
   * kept), `body` the same in upper case.
   */
  #sslCommand(text: string, body: string): void {
    let m: RegExpMatchArray | null;
    if ((m = text.match(/^\+CSSLCFG="([A-Za-z]+)",(\d),(.*)$/))) {
      const ctx = this.#ssl[Number(m[2])];
      const name = m[1].toLowerCase();
      const arg = m[3];
      if (name === "sslversion" && /^[0-4]$/.test(arg)) ctx.version = Number(arg);
      else if (name === "authmode" && /^[0-3]$/.test(arg)) ctx.authmode = Number(arg);
      else if (name === "ciphersuites" && /^0x[0-9a-f]{4}$/i.test(arg)) ctx.suites = arg.toUpperCase();
      else if (name === "psk") {
        // "psk",<ctx>,"<identity>","<key in hex>" (this emulation's syntax; docs/protocols.md)
        const k = arg.match(/^"([A-Za-z0-9-]{1,128})","((?:[0-9A-Fa-f]{2}){1,64})"$/);
        if (!k) return this.#error();
        ctx.psk = { identity: k[1], key: Buffer.from(k[2], "hex") };
      } else if ((name === "ignorelocaltime" || name === "enablesni") && /^[01]$/.test(arg)) {
        // accepted, no effect here (no certificates, no host names)
      } else if (name === "negotiatetime" && /^\d{1,3}$/.test(arg) && Number(arg) >= 10 && Number(arg) <= 300) {
        // accepted; the real socket's own timeouts apply
      } else return this.#error();
      return this.#ok();
    }
    if ((m = body.match(/^\+CCHSET=([01]),([01])$/))) {
      // manual receive mode (+CCHEVENT, AT+CCHRECV=…) is not emulated: data always goes straight out
      if (m[2] !== "0") return this.#error();
      this.#cchReportSend = m[1] === "1";
      return this.#ok();
    }
    if (body === "+CCHSTART") {
      if (this.#cchStarted) return this.#error();
      this.#ok();
      this.#io.schedule(50, () => {
        if (this.#power !== "ready") return;
        if (!this.#registered()) return this.#urc(`+CCHSTART: ${CCH.noNet}`, 0);
        this.#cchStarted = true;
        this.#urc("+CCHSTART: 0", 0);
      });
      return;
    }
    if (body === "+CCHSTOP") {
      if (!this.#cchStarted) return this.#error();
      if (this.#secure) this.#closeSocket();
      this.#cchStarted = false;
      this.#cchContext = null;
      this.#ok();
      this.#urc("+CCHSTOP: 0", 20);
      return;
    }
    if ((m = body.match(/^\+CCHSSLCFG=0,(\d)$/))) {
      if (!this.#cchStarted || this.#socket) return this.#error();
      this.#cchContext = Number(m[1]);
      return this.#ok();
    }
    if (body.startsWith("+CCHOPEN=")) {
      const mm = text.slice(text.indexOf("=") + 1).match(/^0,"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})",(\d{1,5})(?:,(2))?$/);
      if (!mm || Number(mm[2]) < 1 || Number(mm[2]) > 65535) return this.#error();
      if (!this.#cchStarted || this.#socket) return this.#error();
      const ctx = this.#ssl[this.#cchContext ?? 0];
      this.#cchContext = null; // cleared by every AT+CCHOPEN that fails and by AT+CCHCLOSE; set it again each time
      this.#ok();
      return this.#open(mm[1], Number(mm[2]), ctx);
    }
    if ((m = body.match(/^\+CCHSEND=0,(\d{1,5})$/))) {
      const n = Number(m[1]);
      if (!this.#socketOpen || !this.#secure || n < 1 || n > 1500) return this.#error();
      this.#sendLeft = n;
      this.#sendBuf = [];
      this.#out("\r\n>", 3);
      return;
    }
    if (body === "+CCHCLOSE=0") {
      if (!this.#socket || !this.#secure) return this.#error();
      this.#ok();
      this.#closeSocket();
      this.#urc("+CCHCLOSE: 0,0", this.latencyMs);
      return;
    }
    return this.#error();
  }

  #open(address: string, port: number, ssl: SslContext | null): void {
    this.sessions++;
    this.#sessionStart = this.#now();
    // a session dialled because of an SMS: the center has a downlink queued for it, which the broker
    // pushes on its own after the CONNACK; give it a longer quiet window (real ms) to arrive
    this.#wokenSession = this.#smsAt !== null && this.#now() - this.#smsAt < 60_000;
    const secure = ssl !== null;
    this.#secure = secure;
    const opened = (err: number, delayMs: number) => this.#urc(secure ? `+CCHOPEN: 0,${err}` : `+CIPOPEN: 0,${err}`, delayMs);
    if (!this.#netOpen && !secure) return opened(1, 5);
    if (secure && !this.#registered()) return opened(CCH.noNet, 5);
    if (this.#openFails > 0) {
      this.#openFails--;
      this.errors++;
      return opened(secure ? CCH.connect : 2, this.latencyMs * 2 + 1000);
    }
    if (ssl && (!ssl.psk || ssl.version < 3 || !SUITES[ssl.suites] || ssl.authmode !== 0)) {
      // nothing this context can offer a PSK-only server: no suite in common, as the handshake would end
      this.tlsHandshakesFailed++;
      return opened(CCH.handshake, this.latencyMs * 4);
    }
    const id = ++this.#sessionId;
    const raw = netConnect({ host: address, port });
    let socket: Socket = raw;
    if (ssl && ssl.psk) {
      const psk = ssl.psk;
      socket = tlsConnect({
        socket: raw,
        minVersion: "TLSv1.2",
        maxVersion: "TLSv1.2",
        ciphers: SUITES[ssl.suites],
        // no certificate: the pre-shared key authenticates both ends
        checkServerIdentity: () => undefined,
        pskCallback: () => ({ psk: psk.key, identity: psk.identity }),
      });
      // the wire figures: TLS records and handshakes, counted on the TCP socket
      this.#wireOpen.add(raw);
      raw.once("close", () => {
        this.#wireOpen.delete(raw);
        this.#wireClosed.up += raw.bytesWritten;
        this.#wireClosed.down += raw.bytesRead;
      });
    }
    this.#socket = socket;
    this.#connecting = true;
    this.#upParser = new PacketCounter();
    this.#downParser = new PacketCounter();
    this.#owed = 0;
    raw.setNoDelay(true);
    let tcpUp = false;
    raw.on("connect", () => void (tcpUp = true));
    socket.on(secure ? "secureConnect" : "connect", () => {
      if (id !== this.#sessionId) return;
      this.#connecting = false;
      this.#socketOpen = true;
      this.#lastActivity = Date.now();
      this.sessionsOk++;
      if (secure) this.tlsSessions++;
      // a TLS 1.2 handshake is two more round trips than TCP's
      opened(0, this.latencyMs * (secure ? 6 : 2));
    });
    socket.on("data", (data: Buffer) => {
      if (id !== this.#sessionId) return;
      this.#lastActivity = Date.now();
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      this.#owed = Math.max(0, this.#owed - this.#downParser.feed(bytes, (type) => isReply(type)));
      this.bytesDown += bytes.length;
      this.tap?.("down", bytes);
      const transfer = Math.ceil((bytes.length * 8 * 1000) / this.downlinkBps);
      for (let o = 0; o < bytes.length; o += MAX_IPD) {
        const chunk = bytes.subarray(o, Math.min(bytes.length, o + MAX_IPD));
        const head = secure ? `\r\n+CCHRECV: DATA,0,${chunk.length}\r\n` : `\r\n+IPD${chunk.length}\r\n`;
        const out = new Uint8Array(head.length + chunk.length);
        for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
        out.set(chunk, head.length);
        this.#outBytes(out, this.latencyMs + transfer);
      }
    });
    const ended = (failed: boolean) => {
      if (id !== this.#sessionId) return;
      const wasOpen = this.#socketOpen;
      this.#connecting = false;
      this.#socket = null;
      this.#socketOpen = false;
      this.#owed = 0;
      this.#sessionId++;
        if (secure) {
        if (wasOpen) this.#urc(failed ? `+CCHCLOSE: 0,${CCH.network}` : "+CCH_PEER_CLOSED: 0", this.latencyMs);
        else {
          // the TCP connection came up and TLS did not: the handshake failed (a wrong key, no common suite)
          if (tcpUp) this.tlsHandshakesFailed++;
          opened(tcpUp ? CCH.handshake : CCH.connect, this.latencyMs * 2);
        }
        return;
      }
      if (wasOpen) this.#urc(`+IPCLOSE: 0,${failed ? 2 : 1}`, this.latencyMs);
      else this.#urc("+CIPOPEN: 0,2", this.latencyMs * 2);
    };
    socket.on("error", () => ended(true));
    socket.on("close", () => ended(false));
    if (secure) raw.on("error", () => ended(true));
  }

  /** CIPSEND's bytes are all in: on the air, then on the socket. */
  #sendData(): void {
    const data = Uint8Array.from(this.#sendBuf);
    this.#sendBuf = [];
    const n = data.length;
    if (!this.#socketOpen) return this.#error(); // the link went while the bytes came in
    const drop = this.#dropMidSend.shift();
    if (drop) {
      // part of it gets out, then the network drops the link
      const part = data.subarray(0, Math.min(drop.afterBytes, n));
      this.#toSocket(part, () => this.#networkDrop());
      this.#reply(["OK"], 5);
      return;
    }
    this.#reply(["OK"], 5);
    if (!this.#secure) this.#urc(`+CIPSEND: 0,${n},${n}`, 10);
    else if (this.#cchReportSend) this.#urc("+CCHSEND: 0,0", 10);
    this.#toSocket(data);
  }

  /** The bytes go on the socket after their time on the air; then `after` (e.g. a drop). */
  #toSocket(data: Uint8Array, after?: () => void): void {
    const socket = this.#socket;
    const id = this.#sessionId;
    if (!socket) return;
    const transfer = Math.ceil((data.length * 8 * 1000) / this.uplinkBps);
    this.#inFlightToSocket++;
    this.#io.schedule(this.latencyMs + transfer, () => {
      if (id !== this.#sessionId) return; // that socket is gone (its count was reset with it)
      this.#inFlightToSocket--;
      if (!this.#socketOpen) return;
      this.bytesUp += data.length;
      this.#owed += this.#upParser.feed(data, (type) => expectsReply(type));
      this.#lastActivity = Date.now();
      if (data.length > 0) socket.write(data);
      if (data.length > 0) this.tap?.("up", data);
      if (after) after();
    });
  }

  #networkDrop(): void {
    this.drops++;
    const wasOpen = this.#socketOpen;
    const secure = this.#secure;
    this.#closeSocket(true);
    if (wasOpen) this.#urc(secure ? `+CCHCLOSE: 0,${CCH.network}` : "+IPCLOSE: 0,2", 1);
  }


  /** `flush`: what was already written still reaches the peer before the connection goes. */
  #closeSocket(flush = false): void {
    const socket = this.#socket;
    this.#sessionId++;
    this.#socket = null;
    this.#socketOpen = false;
    this.#connecting = false;
    this.#owed = 0;
    this.#inFlightToSocket = 0;
    if (this.#sessionStart > 0) {
      this.sessionMs.push(this.#now() - this.#sessionStart);
      this.#sessionStart = 0;
    }
    if (!socket) return;
    if (flush) socket.end(() => socket.destroy());
    else socket.destroy();
  }
}

/** MQTT control packet types the server answers (CONNECT, PUBLISH QoS 1, SUBSCRIBE, UNSUBSCRIBE, PINGREQ). */
function expectsReply(first: number): boolean {
  const type = first >> 4;
  if (type === 3) return ((first >> 1) & 3) === 1;
  return type === 1 || type === 8 || type === 10 || type === 12;
}

/** The replies: CONNACK, PUBACK, SUBACK, UNSUBACK, PINGRESP. */
function isReply(first: number): boolean {
  const type = first >> 4;
  return type === 2 || type === 4 || type === 9 || type === 11 || type === 13;
}

/**
 * Walks MQTT packet boundaries in a byte stream (fixed header byte, remaining length), counting
 * the packets `match` accepts. Garbage just miscounts; the bridge's real-time cap bounds it.
 */
class PacketCounter {
  #state: "first" | "len" | "body" = "first";
  #first = 0;
  #len = 0;
  #mult = 1;
  #lenBytes = 0;

  feed(bytes: Uint8Array, match: (first: number) => boolean): number {
    let n = 0;
    for (let i = 0; i < bytes.length; ) {
      if (this.#state === "first") {
        this.#first = bytes[i++];
        this.#len = 0;
        this.#mult = 1;
        this.#lenBytes = 0;
        this.#state = "len";
      } else if (this.#state === "len") {
        const b = bytes[i++];
        this.#len += (b & 0x7f) * this.#mult;
        this.#mult *= 128;
        this.#lenBytes++;
        if ((b & 0x80) === 0 || this.#lenBytes === 4) {
          if (match(this.#first)) n++;
          this.#state = this.#len === 0 ? "first" : "body";
        }
      } else {
        const take = Math.min(this.#len, bytes.length - i);
        this.#len -= take;
        i += take;
        if (this.#len === 0) this.#state = "first";
      }
    }
    return n;
  }
}

/** The simulator's modem, attached on first use (the `link` plugin). */
export function linkModem(sim: Simulator, options: ModemOptions = {}): ModemEmulator {
  if (!sim.hasPlugin("link")) {
    const modem = config(sim) ?? {};
    sim.use(new ModemEmulator(sim.io, () => sim.clock.now, { port: modem.port, resetPin: modem.reset ?? null, ...options }));
  }
  return sim.plugin<ModemEmulator>("link");
}

function config(_sim: Simulator): { port?: number; reset?: number } | null {
  const modem = manifestConfig().modem as { port?: number; reset?: number } | undefined;
  return modem ?? null;
}

/**
 *   link.fault {"kind": "no-sim" | "no-registration" | "open-fails" | "drop-mid-send" | "drop" |
 *               "garbage" | "stall" | "slow" | "clear", "count"?, "afterBytes"?, "lines"?, "ms"?, "latencyMs"?}
 *   link.dial  {}   the terminal dials now
 *   link.attach {"latencyMs"?, "uplinkBps"?, "downlinkBps"?, "rssi"?}   the modem with these figures
 * (the modem is attached by the first of these; until then UART 1 has nothing on it)
 */
ACTIONS["link.fault"] = async (sim, a) => {
  const { do: _do, at: _at, ...spec } = a;
  try {
    linkModem(sim).fault(spec as unknown as FaultSpec);
  } catch (e) {
    throw new ScriptError((e as Error).message);
  }
};
ACTIONS["link.attach"] = async (sim, a) => {
  const options: ModemOptions = {};
  for (const k of ["latencyMs", "uplinkBps", "downlinkBps", "rssi"] as const) {
    const v = a[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new ScriptError(`link.attach: ${k} must be a non-negative integer`);
    options[k] = v;
  }
  if (sim.hasPlugin("link")) throw new ScriptError("link.attach: the modem is already attached");
  linkModem(sim, options);
};
/** `link.sms {"text"?}`: an SMS reaches the terminal's modem (the center's wake-up). */
ACTIONS["link.sms"] = async (sim, a) => {
  return { received: linkModem(sim).sms(typeof a.text === "string" ? a.text : "TG WAKE") };
};
ACTIONS["link.dial"] = async (sim) => {
  linkModem(sim);
  return sim.command("link.dial");
};
