import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Center, startCenter } from "../center/center";
import { DEMO, seedDemo } from "../center/demo";
import { type MailSink, startMailSink } from "../center/mail-sink";
import type { EngineName } from "./engines/engine";
import { linkModem } from "./devices/modem";
import { centerLinkConfig, equipTerminal, issueDemoCard } from "./kit";
import { Simulator } from "./simulator";

export interface DemoStackOptions {
  engine: EngineName;
  /** everything lives under here: center/, mail/, terminal.flash, cards */
  dataDir: string;
  startMs: number;
  mqttPort?: number;
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
      httpPort: o.httpPort ?? 0,
      smtp: { host: "127.0.0.1", port: mail.port, ignoreTLS: true, from: "Timeguard center <center@timeguard.invalid>" },
      log: o.log,
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
      config: centerLinkConfig({ port: center.mqttPort, secret: DEMO.terminalSecret, terminalId: DEMO.terminal }),
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
