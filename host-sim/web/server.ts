import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTime, parseTime } from "../../firmware/core/time";
import { KeypadMatrix, LEGEND } from "../devices/keypad-matrix";
import type { LcdPcf8574 } from "../devices/lcd-pcf8574";
import type { BuzzerListener } from "../devices/buzzer";
import { ACTIONS, MAX_RUN_MS, ScriptAction, ScriptResult } from "../script";
import { parseDuration } from "../clock";
import type { Simulator } from "../simulator";
import { PAGE } from "./page";
import { captureSession, MAX_SESSION_BYTES, parseSession, restoreSession, sessionToJson, type Session } from "../session";

/**
 * The simulator's web page and its HTTP server, on loopback only. The simulator runs in real time
 * × speed (sim.clock.follow / target, sim.runUntil on a short real-time tick); every change the
 * page makes (a key, a card, a sensor, the clock) is queued behind the running step, so the
 * firmware sees one thing at a time, exactly as in a script. The page gets the LCD, the clock
 * and an event log live through server-sent events.
 *
 *   GET  /                 the page
 *   GET  /api/state        LCD, clock, keypad, sensors, card, actions available
 *   GET  /api/events       server-sent events: `state` (on change) and `log` (one line each)
 *   POST /api/keys         {"seq": "A1234#"}          typed on the emulated keypad
 *   POST /api/clock        {"speed": 60} | {"jump": "2026-04-16T20:00"}   (jumps go forward)
 *   POST /api/action       {"do": "sensor.trip", "id": "A0001"}  any registered script action
 *                          except wait/snapshot/keys (card.*, sensor.*, pairing.*, ui.card…)
 *   POST /api/card/issue   {"counts": 472}   a demo-issuer card file, put in the slot (card.insert)
 *   POST /api/session/new  {"confirm": true}  the terminal's flash erased and a fresh boot (only
 *                          when the server was started with newSession)
 *   POST /api/session/save {}  the session as a file (host-sim/session.ts): flash, clock, devices, card
 *   POST /api/session/restore  <a saved session file>  the terminal, its clock, devices and card put
 *                          back as saved and booted (only when started with newSession)
 */

export interface WebServerOptions {
  /** 0 picks a free port */
  port?: number;
  /** real-time × this (1 = real time) */
  speed?: number;
  /** ms of real time between steps */
  tickMs?: number;
  zoneMinutes?: number;
  /** the page may start a new session (POST /api/session/new: the terminal's flash erased) */
  newSession?: boolean;
}

interface LogLine {
  seq: number;
  at: string;
  text: string;
  /** for the page's filters: the terminal's state, the fee, what the person did, the simulator */
  kind: LogKind;
}

type LogKind = "terminal" | "fee" | "action" | "simulator";

/** The fee is logged when guarding stops, or at most once an hour of virtual time (not at every count). */
const FEE_LOG_EVERY_MS = 3_600_000;
/** How often the log follows the terminal when no page is open (real ms). */
const DERIVE_UNWATCHED_MS = 1000;

const MAX_BODY = 16 * 1024;
const MAX_LOG = 200;
const BLOCKED_ACTIONS = new Set(["wait", "snapshot", "keys"]);
const LOOPBACK_HOSTS = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class SimWebServer {
  readonly sim: Simulator;
  #server: Server;
  #timer: ReturnType<typeof setInterval> | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #running = false;
  #closed = false;
  #clients = new Set<ServerResponse>();
  #log: LogLine[] = [];
  #logSeq = 0;
  #lastState = "";
  #lastFirmware: Record<string, any> | null = null;
  #lastFirmwareAt = -Infinity;
  #zone: number;
  #tickMs: number;
  #failures = 0;
  #cards: string | null = null;
  #issued = 0;
  #newSession: boolean;

  private constructor(sim: Simulator, options: WebServerOptions) {
    this.sim = sim;
    this.#zone = options.zoneMinutes ?? 540;
    this.#tickMs = options.tickMs ?? 50;
    this.#newSession = options.newSession ?? false;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e) => this.#fail(res, e));
    });
  }

  static async start(sim: Simulator, options: WebServerOptions = {}): Promise<SimWebServer> {
    const web = new SimWebServer(sim, options);
    await new Promise<void>((resolve, reject) => {
      web.#server.once("error", reject);
      web.#server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    sim.clock.follow(options.speed ?? 1);
    await web.#serial(() => sim.settle());
    web.#note("simulator started", "simulator");
    web.#timer = setInterval(() => web.#tick(), web.#tickMs);
    return web;
  }

  get url(): string {
    const a = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}/`;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
    await this.#queue.catch(() => undefined);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#cards) rmSync(this.#cards, { recursive: true, force: true });
  }

  /** Runs `f` after everything queued before it, never beside a running step. */
  #serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(f, f);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #tick(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#serial(async () => {
      const target = this.sim.clock.target();
      if (target > this.sim.clock.now) await this.sim.runUntil(target);
      await this.#publish();
    })
      .catch((e) => {
        this.#failures++;
        this.#note(`simulator step failed: ${(e as Error).message}`, "simulator");
      })
      .finally(() => {
        this.#running = false;
      });
  }

  // ------------------------------------------------------------ state and log

  async state(): Promise<Record<string, unknown>> {
    const sim = this.sim;
    const lcd = sim.hasPlugin("lcd") ? sim.plugin<LcdPcf8574>("lcd").state() : null;
    const keypad = sim.hasPlugin("keypad") ? sim.plugin<KeypadMatrix>("keypad") : null;
    let firmware: Record<string, any> | null = null;
    if (sim.powered) {
      // The firmware's own snapshot is asked at most every 250 ms of real time.
      const now = Date.now();
      if (!this.#lastFirmware || now - this.#lastFirmwareAt > 250) {
        this.#lastFirmware = await sim.snapshot();
        this.#lastFirmwareAt = now;
      }
      firmware = this.#lastFirmware;
    }
    const sensorsPlugin = sim.hasPlugin("sensors") ? (sim.plugin("sensors") as { snapshot?(): Record<string, unknown> }) : null;
    const field = sensorsPlugin && sensorsPlugin.snapshot ? sensorsPlugin.snapshot() : null;
    return {
      time: formatTime(Math.floor(sim.clock.now / 1000), this.#zone),
      speed: sim.clock.speed,
      powered: sim.powered,
      engine: sim.engineName,
      lcd,
      keypad: keypad ? { pressed: keypad.pressed, typed: keypad.typed.slice(-40) } : null,
      terminal: firmware
        ? {
            guarding: firmware.guarding,
            owedYen: firmware.owedYen,
            countsDue: firmware.countsDue,
            next: firmware.next,
            plan: firmware.plan,
            ui: firmware.ui,
            sensors: firmware.sensors ?? firmware.sensorTable ?? null,
            card: firmware.card ?? null,
          }
        : null,
      // the link to the center: TLS 1.2 PSK or in clear, and the dialer's state (never the key)
      link: firmware && firmware.uplink ? { security: firmware.uplink.security ?? null, state: firmware.uplink.state ?? null, lastError: firmware.uplink.lastError ?? null } : null,
      sensorDevices: field && Array.isArray(field.sensorDevices) ? field.sensorDevices : null,
      card: sim.hasPlugin("card") ? ((sim.plugin("card") as { snapshot?(): Record<string, unknown> }).snapshot?.() ?? {}) : null,
      buzzer: buzzerState(sim, firmware),
      actions: Object.keys(ACTIONS).filter((a) => !BLOCKED_ACTIONS.has(a)),
      failures: this.#failures,
      newSession: this.#newSession,
    };
  }

  #derivedAt = 0;

  async #publish(): Promise<void> {
    if (this.#clients.size === 0) {
      // nobody watching: the log still follows the terminal, once a second, so a page opened later
      // shows the alarm or the guarding that happened meanwhile (it showed only "simulator started")
      const now = Date.now();
      if (now - this.#derivedAt < DERIVE_UNWATCHED_MS) return;
      this.#derivedAt = now;
      this.#derive(await this.state());
      return;
    }
    const state = await this.state();
    this.#derive(state);
    const text = JSON.stringify(state);
    if (text === this.#lastState) return;
    this.#lastState = text;
    this.#send("state", text);
  }

  #prev: { screen?: string; guarding?: boolean; plan?: string; owed?: number; feeLoggedAt?: number } = {};

  /** Turns changes of the terminal's state into log lines. */
  #derive(state: Record<string, any>): void {
    const t = state.terminal;
    if (!t) return;
    const p = this.#prev;
    const screen = t.ui?.screen;
    if (screen !== undefined && screen !== p.screen) {
      if (p.screen !== undefined) this.#note(`screen ${screen}`, "terminal");
      p.screen = screen;
    }
    if (t.guarding !== p.guarding) {
      if (p.guarding !== undefined) this.#note(t.guarding ? "guarding started" : "guarding stopped", "terminal");
      if (p.guarding && !t.guarding && t.owedYen !== p.owed) {
        this.#note(`fee owed ${t.owedYen} yen (${t.countsDue} counts)`, "fee");
        p.owed = t.owedYen;
        p.feeLoggedAt = this.sim.clock.now;
      }
      p.guarding = t.guarding;
    }
    const plan = JSON.stringify(t.plan);
    if (plan !== p.plan) {
      if (p.plan !== undefined) this.#note(`plan changed: ${t.plan?.periods?.length ?? 0} period(s), ${t.plan?.contract}`, "terminal");
      p.plan = plan;
    }
    const now = this.sim.clock.now;
    if (t.owedYen !== p.owed && (p.feeLoggedAt === undefined || now - p.feeLoggedAt >= FEE_LOG_EVERY_MS)) {
      if (p.owed !== undefined) this.#note(`fee owed ${t.owedYen} yen (${t.countsDue} counts)`, "fee");
      p.owed = t.owedYen;
      p.feeLoggedAt = now;
    }
  }

  #note(text: string, kind: LogKind = "action"): void {
    const line: LogLine = { seq: ++this.#logSeq, at: formatTime(Math.floor(this.sim.clock.now / 1000), this.#zone), text, kind };
    this.#log.push(line);
    if (this.#log.length > MAX_LOG) this.#log.shift();
    this.#send("log", JSON.stringify(line));
  }

  #send(event: string, data: string): void {
    for (const c of this.#clients) c.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  // ------------------------------------------------------------ HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Loopback only, and only under a loopback name (no DNS rebinding from a web page elsewhere).
    if (!LOOPBACK_HOSTS.test(req.headers.host ?? "")) throw new HttpError(403, "the simulator answers on 127.0.0.1 only");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(PAGE);
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/state") {
      const state = await this.#serial(() => this.state());
      return this.#json(res, 200, { ...state, log: this.#log.slice(-50) });
    }
    if (req.method === "GET" && url.pathname === "/api/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(": timeguard\n\n");
      for (const line of this.#log.slice(-50)) res.write(`event: log\ndata: ${JSON.stringify(line)}\n\n`);
      this.#clients.add(res);
      this.#lastState = ""; // the new client gets the state at the next step
      req.on("close", () => this.#clients.delete(res));
      return;
    }
    if (req.method !== "POST") throw new HttpError(404, `no ${req.method} ${url.pathname}`);
    if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "send JSON");
    if (url.pathname === "/api/session/restore") {
      const text = await readBody(req, MAX_SESSION_BYTES);
      return this.#json(res, 200, await this.#serial(() => this.#restoreSession(text)));
    }
    const body = parseJson(await readBody(req, MAX_BODY));
    switch (url.pathname) {
      case "/api/keys":
        return this.#json(res, 200, await this.#serial(() => this.#keys(body)));
      case "/api/clock":
        return this.#json(res, 200, await this.#serial(() => this.#clock(body)));
      case "/api/action":
        return this.#json(res, 200, await this.#serial(() => this.#action(body)));
      case "/api/card/issue":
        return this.#json(res, 200, await this.#serial(() => this.#issueCard(body)));
      case "/api/session/new":
        return this.#json(res, 200, await this.#serial(() => this.#startNewSession(body)));
      case "/api/session/save": {
        const session = await this.#serial(() => captureSession(this.sim));
        this.#note("session saved", "simulator");
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", "content-disposition": `attachment; filename="timeguard-session.json"` });
        res.end(sessionToJson(session));
        return;
      }
    }
    throw new HttpError(404, `no POST ${url.pathname}`);
  }

  async #keys(body: any): Promise<unknown> {
    const seq = body?.seq;
    if (typeof seq !== "string" || seq.length === 0 || seq.length > 64) throw new HttpError(400, "seq must be 1-64 keys");
    for (const c of seq) if (LEGEND.indexOf(c.toUpperCase()) < 0) throw new HttpError(400, `no key ${JSON.stringify(c)} (keys: 0-9 A-D * #)`);
    if (!this.sim.hasPlugin("keypad")) throw new HttpError(409, "this simulator has no keypad");
    const doneAt = this.sim.plugin<KeypadMatrix>("keypad").type(seq);
    this.#note(`keys ${seq}`);
    return { ok: true, doneAt: formatTime(Math.floor(doneAt / 1000), this.#zone) };
  }

  async #clock(body: any): Promise<unknown> {
    const sim = this.sim;
    if (body?.jump !== undefined) {
      let target: number;
      try {
        target = parseTime(body.jump, "jump", this.#zone) * 1000;
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      if (target < sim.clock.now) throw new HttpError(400, "the clock only jumps forward (the firmware's timers would not know)");
      // a jump runs every minute up to its target: a mistyped year (2062 for 2026) held the page for hours
      if (target - sim.clock.now > MAX_RUN_MS) throw new HttpError(400, `a jump goes at most 366 days ahead (the simulator runs every minute of them), got ${body.jump}`);
      await sim.runUntil(target);
      this.#note(`clock jumped to ${formatTime(Math.floor(target / 1000), this.#zone)}`);
    }
    if (body?.speed !== undefined) {
      const speed = body.speed;
      if (typeof speed !== "number" || !(speed > 0) || speed > 100000) throw new HttpError(400, "speed must be a number in (0, 100000]");
      sim.clock.follow(speed);
      this.#note(`clock speed ×${speed}`);
    } else sim.clock.follow(sim.clock.speed); // re-anchored after a jump
    return { ok: true, time: formatTime(Math.floor(sim.clock.now / 1000), this.#zone), speed: sim.clock.speed };
  }

  async #startNewSession(body: any): Promise<unknown> {
    if (!this.#newSession) throw new HttpError(409, "this simulator keeps its session (start it with timeguard sim-web for a new one)");
    if (body?.confirm !== true) throw new HttpError(400, "confirm must be true: a new session erases the terminal's memory");
    await this.#reboot(() => this.sim.factoryReset(), "new session: the terminal's memory erased, booted as new");
    return { ok: true };
  }

  /** Boots the terminal anew through `boot` (a new or a restored session): what the page knew of the old one is dropped. */
  async #reboot(boot: () => Promise<void>, note: string): Promise<void> {
    try {
      await boot();
      await this.sim.settle();
    } finally {
      this.sim.clock.follow(this.sim.clock.speed);
    }
    this.#lastFirmware = null;
    this.#prev = {};
    this.#note(note, "simulator");
  }

  /** A new card file's path in the server's own folder. */
  #cardPath(): string {
    this.#cards ??= mkdtempSync(join(tmpdir(), "tg-web-cards-"));
    return join(this.#cards, `card-${++this.#issued}.json`);
  }

  async #restoreSession(text: string): Promise<unknown> {
    if (!this.#newSession) throw new HttpError(409, "this simulator keeps its session (start it with timeguard sim-web to restore one)");
    let session: Session;
    try {
      session = parseSession(text);
    } catch (e) {
      throw new HttpError(400, `not a session file: ${(e as Error).message}`);
    }
    await this.#reboot(() => restoreSession(this.sim, session, this.#cardPath()), `session restored at ${formatTime(Math.floor(session.clockMs / 1000), this.#zone)}`);
    return { ok: true, time: formatTime(Math.floor(this.sim.clock.now / 1000), this.#zone) };
  }

  async #action(body: any): Promise<unknown> {
    const name = body?.do;
    if (typeof name !== "string" || !ACTIONS[name] || BLOCKED_ACTIONS.has(name)) throw new HttpError(400, `no action ${JSON.stringify(name)} here`);
    const out: ScriptResult = { snapshots: [], results: [] };
    if (typeof body.for === "string") {
      let ms = NaN;
      try {
        ms = parseDuration(body.for);
      } catch {
        // the action itself says what is wrong with it
      }
      if (ms > MAX_RUN_MS) throw new HttpError(400, `${name}: for is at most 366d (the simulator runs every minute of it), got ${body.for}`);
    }
    let value: unknown;
    try {
      value = await ACTIONS[name](this.sim, body as ScriptAction, out, 0);
      if (!this.sim.powered) await this.sim.powerOn();
      await this.sim.settle();
    } catch (e) {
      this.#note(`${name} refused: ${(e as Error).message}`);
      throw new HttpError(400, (e as Error).message);
    } finally {
      this.sim.clock.follow(this.sim.clock.speed); // actions may have run the clock on
    }
    const args = Object.entries(body)
      .filter(([k]) => k !== "do")
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(" ");
    this.#note(`${name} ${args}`.trim());
    return { ok: true, value: value ?? null };
  }

  /**
   * Issues a card file with the demo issuer's keys (as `timeguard card issue` does) in the server's
   * own folder, and puts it in the slot through the card reader's `card.insert` action.
   */
  async #issueCard(body: any): Promise<unknown> {
    const counts = body?.counts;
    if (typeof counts !== "number" || !Number.isInteger(counts) || counts < 0 || counts > 100000) throw new HttpError(400, "counts must be 0..100000");
    if (!ACTIONS["card.insert"]) throw new HttpError(409, "this simulator has no card reader");
    const { DEMO_ISSUER_JSON, issueCardFile, parseKeys } = await import("../devices/card-file");
    const path = this.#cardPath();
    const uid = new Uint8Array(randomBytes(4));
    issueCardFile(path, { uid, cardId: randomInt(1, 0x7fffffff), counts, keys: parseKeys(DEMO_ISSUER_JSON, "demo issuer"), maxCounts: 100000 });
    this.#note(`card issued with ${counts} counts (${path})`);
    return this.#action({ do: "card.insert", file: path });
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  }

  #fail(res: ServerResponse, e: unknown): void {
    const status = e instanceof HttpError ? e.status : 500;
    if (res.headersSent) {
      res.end();
      return;
    }
    this.#json(res, status, { ok: false, error: (e as Error).message });
  }
}

/**
 * The buzzer for the page: the pattern the firmware's driver plays ("entry", "exit" or "off") and
 * what the GPIO did (beeps heard on the pin, sounding now), so the page can play the same pattern.
 */
/** the buzzer's patterns (firmware/ui/buzzer.ts) the page plays */
const BUZZER_MODES = new Set(["entry", "exit", "alarm", "fire"]);

function buzzerState(sim: Simulator, firmware: Record<string, any> | null): { mode: string; on: boolean; beeps: number } | null {
  const pin = sim.hasPlugin("buzzer") ? sim.plugin<BuzzerListener>("buzzer") : null;
  const driver = firmware?.buzzerDriver;
  if (!pin && !driver) return null;
  const mode = typeof driver?.mode === "string" ? driver.mode : typeof firmware?.panel?.sound === "string" ? firmware.panel.sound : "off";
  const heard = pin ? (pin.snapshot().buzzer as { on: boolean; beeps: number }) : { on: false, beeps: 0 };
  return { mode: BUZZER_MODES.has(mode) ? mode : "off", on: heard.on, beeps: heard.beeps };
}

/** The request's body as text, refused past `limit` bytes (the declared length first). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      reject(new HttpError(413, `body too large (at most ${limit} bytes)`));
      req.resume();
      return;
    }
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `body too large (at most ${limit} bytes)`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text || "{}");
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}
