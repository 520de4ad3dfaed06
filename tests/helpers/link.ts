import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Center, type CenterOptions, exportData, startCenter } from "../../center/center";
import { linkModem, type ModemEmulator, type ModemOptions } from "../../host-sim/devices/modem";
import type { EngineName } from "../../host-sim/engines/engine";
import { manifestConfig } from "../../host-sim/project";
import { Simulator } from "../../host-sim/simulator";
import { parseTime } from "../../firmware/core/time";

export const TERMINAL = "T0001";
export const SECRET = "T0001-demo-secret";

export interface LinkRig {
  sim: Simulator;
  center: Center;
  modem: ModemEmulator;
  dataDir: string;
  /** the center's export (sites, periods, alarms, media) */
  exported(): any;
}

/**
 * A real center (aedes + SQLite in a temporary folder) on loopback, and a simulated terminal whose
 * emulated modem dials it. `link` overrides the terminal's link config (merged over the manifest's).
 */
export async function withLinkRig<T>(
  engine: EngineName,
  start: string,
  body: (rig: LinkRig) => Promise<T>,
  o: {
    link?: Record<string, unknown>;
    modem?: ModemOptions;
    secret?: string;
    register?: boolean;
    center?: Partial<CenterOptions>;
    /** the center listens on TLS 1.2 PSK too and the terminal dials it with its key (or with `psk`, hex) */
    tls?: boolean | { psk: string };
  } = {},
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-link-"));
  const center = await startCenter({ dataDir, mqttPort: 0, httpPort: 0, ...(o.tls ? { mqttTlsPort: 0 } : {}), ...(o.center ?? {}) });
  if (o.register !== false) center.addTerminal({ id: TERMINAL, secret: SECRET, site: "Tanaka house" });
  const base = manifestConfig();
  const tls = o.tls ? { port: center.mqttTlsPort as number, psk: typeof o.tls === "object" ? o.tls.psk : center.linkPsk(TERMINAL).toString("hex") } : {};
  const link = { ...(base.link as object), address: "127.0.0.1", port: center.mqttPort, secret: o.secret ?? SECRET, ...tls, ...(o.link ?? {}) };
  const sim = await Simulator.start({ engine, startMs: parseTime(start, "start") * 1000, config: { link } });
  const modem = linkModem(sim, o.modem);
  try {
    return await body({ sim, center, modem, dataDir, exported: () => exportData(center.store) });
  } finally {
    await sim.close();
    modem.close();
    await center.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
