import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCenter } from "../center/center";
import { exportData } from "../center/export";
import { SqliteStore } from "../center/store/sqlite-store";
import { portNumber } from "./args";
import { UsageError } from "./usage";

function port(v: string | undefined, fallback: number, name: string): number {
  return v === undefined ? fallback : portNumber(v, `--${name}`);
}

/** `timeguard center [--data DIR] [--mqtt-port N] [--http-port N] [--terminal ID:SECRET[:SITE]]…` and `center export`. */
export async function runCenter(argv: string[]): Promise<number> {
  if (argv[0] === "export") return runExport(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      // not var/: that is the demo's folder (timeguard start), which a standalone center must not touch
      data: { type: "string", default: "center-data" },
      "move-terminal": { type: "boolean", default: false },
      "mqtt-port": { type: "string" },
      "http-port": { type: "string" },
      terminal: { type: "string", multiple: true },
      smtp: { type: "string" },
      from: { type: "string", default: "Timeguard center <center@localhost>" },
      "media-wait": { type: "string" },
    },
    strict: true,
  });
  const terminals = (values.terminal ?? []).map((spec) => {
    const [id, secret, site] = spec.split(":");
    if (!id || !secret) throw new UsageError(`--terminal must be ID:SECRET[:SITE], got ${spec}`);
    return { id, secret, site: site ?? `site of ${id}` };
  });
  let smtp: { host: string; port: number; from: string } | undefined;
  if (values.smtp !== undefined) {
    const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(values.smtp);
    if (!m) throw new UsageError(`--smtp must be HOST:PORT, got ${values.smtp}`);
    smtp = { host: m[1], port: Number(m[2]), from: values.from };
  }
  let notify: { mediaWaitMs: number } | undefined;
  if (values["media-wait"] !== undefined) {
    const v = values["media-wait"];
    if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > 3600) throw new UsageError(`--media-wait must be seconds from 1 to 3600, got ${v}`);
    notify = { mediaWaitMs: Number(v) * 1000 };
  }
  const center = await startCenter({
    dataDir: values.data,
    smtp,
    notify,
    mqttPort: port(values["mqtt-port"], 1883, "mqtt-port"),
    httpPort: port(values["http-port"], 8080, "http-port"),
    log: (line) => process.stderr.write(`center: ${line}\n`),
  });
  try {
    for (const t of terminals) {
      // Registering a terminal that belongs to another site moves it there: only when asked.
      const existing = center.store.terminal(t.id);
      const site = existing ? center.store.sites().find((s) => s.id === existing.siteId)?.name : undefined;
      if (existing && site !== t.site && !values["move-terminal"]) {
        throw new UsageError(`terminal ${t.id} belongs to site "${site}" in ${values.data}; registering it to "${t.site}" would move it (its manager would lose it): add --move-terminal if that is meant`);
      }
    }
  } catch (e) {
    await center.close();
    throw e;
  }
  for (const t of terminals) center.addTerminal(t);
  process.stdout.write(`center: MQTT on 127.0.0.1:${center.mqttPort}, web on http://127.0.0.1:${center.httpPort}/, data in ${values.data}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await center.close();
  return 0;
}

function runExport(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { data: { type: "string" }, json: { type: "boolean", default: false } }, strict: true });
  if (!values.data) throw new UsageError("--data DIR is required");
  const file = join(values.data, "center.sqlite");
  if (!existsSync(file)) throw new UsageError(`no center data in ${values.data} (missing center.sqlite)`);
  const store = new SqliteStore(file);
  try {
    const data = exportData(store);
    process.stdout.write(values.json ? JSON.stringify(data) + "\n" : exportTables(data as unknown as ExportData) + "\n");
  } finally {
    store.close();
  }
  return 0;
}

interface ExportData {
  sites: Array<{ id: number; name: string; terminals: string[] }>;
  periods: Array<Record<string, unknown>>;
  totals: Array<{ terminal: string; periods: number; totalYen: number; countsTaken: number; mismatches: number }>;
  alarms: Array<Record<string, unknown>>;
  media: Array<{ complete: boolean }>;
  rejects: number;
}

/** Left-aligned text columns, numbers right-aligned. */
function table(head: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[], raw: unknown[] | null) =>
    "  " + r.map((c, i) => (raw && typeof raw[i] === "number" ? c.padStart(width[i]) : c.padEnd(width[i]))).join("  ").trimEnd();
  return [line(head, null), ...cells.map((r, k) => line(r, rows[k]))].join("\n");
}

/** `center export` for a person: the same data as --json, as tables. */
export function exportTables(d: ExportData): string {
  const out: string[] = [];
  out.push(`Sites (${d.sites.length})`, table(["id", "name", "terminals"], d.sites.map((s) => [s.id, s.name, s.terminals.join(" ")])));
  out.push("", `Periods (${d.periods.length}; start and end on the terminal's clock, +09:00)`);
  out.push(
    table(
      ["terminal", "start", "end", "pattern", "sensors", "cameras", "yen/h", "hours", "base", "yen", "center yen", "counts"],
      d.periods.map((p) => [p.terminal, p.start, p.end, p.pattern, p.sensors, p.cameras, p.yenPerHour, p.hours, p.baseYen, p.yen, p.centerYen, p.countsTaken]),
    ),
  );
  out.push("", "Totals per terminal", table(["terminal", "periods", "yen", "counts taken", "fee mismatches"], d.totals.map((t) => [t.terminal, t.periods, t.totalYen, t.countsTaken, t.mismatches])));
  out.push("", `Alarms (${d.alarms.length}; time on the terminal's clock, +09:00)`);
  out.push(table(["terminal", "alarm", "time", "sensor", "event", "pattern", "images", "status"], d.alarms.map((a) => [a.terminal, a.alarmId, a.time, a.sensor, a.event, a.pattern, a.images, a.status])));
  out.push("", `Media items: ${d.media.length} (${d.media.filter((m) => m.complete).length} complete); rejected messages: ${d.rejects}`);
  return out.join("\n");
}
