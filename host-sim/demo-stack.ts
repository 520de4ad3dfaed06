import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Center, startCenter } from "../center/center";
import { DEMO, seedDemo } from "../center/demo";
import { type MailSink, startMailSink } from "../center/mail-sink";
import type { EngineName } from "./engines/engine";
import { linkModem } from "./devices/modem";
import { DemoClockFile, readDemoClock } from "./demo-clock";
import { DemoSensorFile, readSensorMemory } from "./demo-sensors";
import { cardSlot } from "./devices/card-slot";
import { sensorField } from "./devices/sensors";
import { centerLinkConfig, equipTerminal, issueDemoCard } from "./kit";
import { Simulator } from "./simulator";

export interface DemoStackOptions {
  engine: EngineName;
  /** everything lives under here: center/, mail/, terminal.flash, cards */
  dataDir: string;
  startMs: number;
  mqttPort?: number;
  /** the center's TLS 1.2 PSK port (default: any free one) */
  mqttTlsPort?: number;
  /** "tls" (default): the terminal is provisioned with its pre-shared key and dials the TLS port; "plain": port mqttPort in clear */
  link?: "tls" | "plain";
  httpPort?: number;
  /** keep the terminal's flash in memory (scenarios) instead of dataDir/terminal.flash */
  memoryFlash?: boolean;
  log?: (line: string) => void;
}

export interface DemoStack {
  center: Center;
  mail: MailSink;
  sim: Simulator;
  close(): Promise<void>;
}

/**
 * The center (embedded broker, SQLite), its demo inbox (a loopback SMTP sink), the demo seed
 * (site, users, terminal T0001, e-mail destinations for the site's manager and the operators),
 * and a simulated terminal fully equipped (LCD, keypad, card slot, sensor radio, modem) that dials
 * this center. What `timeguard start` and `timeguard scenario` run.
 */
export async function startDemoStack(o: DemoStackOptions): Promise<DemoStack> {
  mkdirSync(o.dataDir, { recursive: true });
  const mail = await startMailSink(join(o.dataDir, "mail"));
  let center: Center | null = null;
  let sim: Simulator | null = null;
  try {
    center = await startCenter({
      dataDir: join(o.dataDir, "center"),
      mqttPort: o.mqttPort ?? 0,
      ...(o.link === "plain" ? {} : { mqttTlsPort: o.mqttTlsPort ?? 0 }),
      httpPort: o.httpPort ?? 0,
      smtp: { host: "127.0.0.1", port: mail.port, ignoreTLS: true, from: "Timeguard center <center@timeguard.invalid>" },
      log: o.log,
      demoLogins: (["admin", "operator", "manager"] as const).map((role) => ({ role, ...DEMO.users[role] })),
      // the SMS gateway: the demo terminal's emulated modem receives the wake-up
      wake: (terminal) => {
        if (sim && terminal === DEMO.terminal) linkModem(sim).sms("TG WAKE");
      },
    });
    seedDemo(center, {
      destinations: [
        { audience: "site", kind: "email", address: "manager@demo-home.invalid" },
        { audience: "operators", kind: "email", address: "operators@monitoring.invalid" },
      ],
    });
    sim = await Simulator.start({
      engine: o.engine,
      startMs: o.startMs,
      flashPath: o.memoryFlash ? null : join(o.dataDir, "terminal.flash"),
      // provisioning, as `timeguard center terminal-psk` prints it for a board: the terminal's link key
      config:
        o.link === "plain"
          ? centerLinkConfig({ port: center.mqttPort, secret: DEMO.terminalSecret, terminalId: DEMO.terminal })
          : centerLinkConfig({ port: center.mqttTlsPort as number, secret: DEMO.terminalSecret, terminalId: DEMO.terminal, psk: center.linkPsk(DEMO.terminal).toString("hex") }),
      log: o.log,
    });
    equipTerminal(sim);
  } catch (e) {
    await sim?.close();
    await center?.close();
    await mail.close();
    throw e;
  }
  const c = center;
  const s = sim;
  return {
    center: c,
    mail,
    sim: s,
    async close() {
      await s.close();
      await c.close();
      await mail.close();
    },
  };
}

/** A demo card of `counts` in dataDir (created once; kept across runs so its balance carries on). */
export function demoCard(dataDir: string, counts: number, fresh = false): string {
  const path = join(dataDir, `card-${counts}.json`);
  if (fresh || !existsSync(path)) issueDemoCard(path, counts, 1000 + counts, true);
  return path;
}

export class DemoDataError extends Error {}

export interface DemoOptions {
  engine: EngineName;
  dataDir: string;
  /** forget the demo in dataDir (terminal, clock, card, center, mail) and start over */
  fresh?: boolean;
  mqttPort?: number;
  mqttTlsPort?: number;
  link?: "tls" | "plain";
  httpPort?: number;
  /** how far ahead of the running clock the clock file is written, in virtual ms (default 60 s) */
  clockMarginMs?: number;
  /** where a fresh demo's clock starts (default: now, to the minute) */
  startMs?: number;
  log?: (line: string) => void;
}

export interface Demo {
  stack: DemoStack;
  /** true when the terminal and its clock came back from dataDir */
  resumed: boolean;
  clock: DemoClockFile;
  /** A graceful stop: the terminal records the time guarded, the clock file the exact instant. */
  stop(): Promise<void>;
}

/** The files of a demo in its data folder (what --fresh removes; nothing else is touched). */
const DEMO_FILES = ["terminal.flash", "demo.json", "demo.json.tmp", "sensors.json", "sensors.json.tmp", "center", "mail"];

/**
 * `timeguard start`'s demo: the stack on dataDir with the kit as it comes out of the box (two PIR
 * sensors, two cameras, a 6,000-count card). The terminal's flash and the virtual clock persist
 * together in dataDir: a second start resumes at the instant the first one stopped (or, after a
 * crash, a little later: never earlier), so time never runs backwards for the terminal.
 */
export async function openDemo(o: DemoOptions): Promise<Demo> {
  const clockPath = join(o.dataDir, "demo.json");
  const flashPath = join(o.dataDir, "terminal.flash");
  if (o.fresh && existsSync(o.dataDir)) {
    for (const f of DEMO_FILES) rmSync(join(o.dataDir, f), { recursive: true, force: true });
    for (const f of readdirSync(o.dataDir)) if (/^card-\d+\.json$/.test(f)) rmSync(join(o.dataDir, f), { force: true });
  }
  const saved = readDemoClock(clockPath);
  if (saved === null && existsSync(flashPath)) {
    throw new DemoDataError(`${o.dataDir} holds a terminal without its clock (${clockPath} is missing): start over with --fresh`);
  }
  const startMs = saved ?? o.startMs ?? Math.floor(Date.now() / 60000) * 60000;
  mkdirSync(o.dataDir, { recursive: true });
  const clock = new DemoClockFile(clockPath, startMs, o.clockMarginMs ?? 60_000);
  const stack = await startDemoStack({ engine: o.engine, dataDir: o.dataDir, startMs, httpPort: o.httpPort, mqttPort: o.mqttPort, mqttTlsPort: o.mqttTlsPort, link: o.link, log: o.log });
  // the sensors' and cameras' own flash (their counters) resumes with the terminal's
  let memory: ReturnType<typeof readSensorMemory>;
  try {
    memory = readSensorMemory(join(o.dataDir, "sensors.json"));
  } catch (e) {
    await stack.close();
    throw e;
  }
  const field = sensorField(stack.sim);
  for (const id of ["A0001", "A0002", "B0001", "B0002"]) field.add(id, { memory: memory[id] });
  const devices = new DemoSensorFile(join(o.dataDir, "sensors.json"), field);
  stack.sim.onRunTo = (t) => {
    clock.promise(t);
    devices.keep();
  };
  cardSlot(stack.sim).insert(demoCard(o.dataDir, 6000));
  let stopped = false;
  return {
    stack,
    resumed: saved !== null,
    clock,
    async stop() {
      if (stopped) return;
      stopped = true;
      stack.sim.onRunTo = null;
      if (stack.sim.powered) {
        await stack.sim.settle();
        await stack.sim.command("checkpoint");
        clock.stop(stack.sim.clock.now);
        devices.stop();
      }
      await stack.close();
    },
  };
}
