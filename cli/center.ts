import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type CenterOptions, startCenter } from "../center/center";
import { NODE_NAME } from "../center/cluster";
import { exportData } from "../center/export";
import { TerminalKey } from "../center/secrets";
import { describeStore, openStore } from "../center/store/open-store";
import { runCenterUser } from "./center-users";
import { portNumber, storeSpec } from "./args";
import { UsageError } from "./usage";
import { lockFolder } from "./folder-lock";

function port(v: string | undefined, fallback: number, name: string): number {
  return v === undefined ? fallback : portNumber(v, `--${name}`);
}

/** The address to bind: an IP address (0.0.0.0 or :: for every interface) or localhost. */
function listenHost(v: string | undefined): string {
  if (v === undefined) return "127.0.0.1";
  if (v !== "localhost" && !isIP(v)) throw new UsageError(`--listen must be an IP address (0.0.0.0 for every interface) or localhost, got ${v}`);
  return v;
}

/**
 * `--node NAME`: this center is one node of several sharing one PostgreSQL (docs/operations.md,
 * "Several nodes"); the name says which node holds a terminal's session. SQLite has one node.
 */
function nodeName(v: string | undefined, store: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (store === undefined) throw new UsageError("--node needs --store postgres://…: nodes share one PostgreSQL (a SQLite file has one center)");
  if (!NODE_NAME.test(v)) throw new UsageError(`--node must be 1 to 32 letters, digits, dots, dashes or underscores, beginning with a letter or digit, got ${v.slice(0, 40)}`);
  return v;
}

/**
 * `timeguard center [--data DIR] [--store postgres://USER@HOST:PORT/DB [--node NAME]] [--listen HOST] [--mqtt-port N] [--http-port N] [--trusted-proxy ADDR]…
 * [--public-url URL] [--terminal ID:SECRET[:SITE]]…`, `center export` and `center user …`.
 */
export async function runCenter(argv: string[]): Promise<number> {
  if (argv[0] === "export") return runExport(argv.slice(1));
  if (argv[0] === "user") return runCenterUser(argv.slice(1));
  if (argv[0] === "terminal-psk") return runTerminalPsk(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      // not var/: that is the demo's folder (timeguard start), which a standalone center must not touch
      data: { type: "string", default: "center-data" },
      store: { type: "string" },
      node: { type: "string" },
      "move-terminal": { type: "boolean", default: false },
      "mqtt-port": { type: "string" },
      "mqtt-tls-port": { type: "string" },
      "http-port": { type: "string" },
      terminal: { type: "string", multiple: true },
      smtp: { type: "string" },
      from: { type: "string" },
      "media-wait": { type: "string" },
      listen: { type: "string" },
      "trusted-proxy": { type: "string", multiple: true },
      "public-url": { type: "string" },
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
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--smtp must be HOST:PORT (port 1 to 65535), got ${values.smtp}`);
    smtp = { host: m[1], port: Number(m[2]), from: values.from ?? "Timeguard center <center@localhost>" };
  } else if (values.from !== undefined) {
    throw new UsageError("--from is the sender of the e-mails sent through --smtp HOST:PORT; give --smtp too");
  }
  let notify: { mediaWaitMs: number } | undefined;
  if (values["media-wait"] !== undefined) {
    const v = values["media-wait"];
    if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > 3600) throw new UsageError(`--media-wait must be seconds from 1 to 3600, got ${v}`);
    notify = { mediaWaitMs: Number(v) * 1000 };
  }
  const host = listenHost(values.listen);
  const trustedProxies = (values["trusted-proxy"] ?? []).map((a) => {
    if (!isIP(a)) throw new UsageError(`--trusted-proxy must be the proxy's IP address, got ${a}`);
    return a.startsWith("::ffff:") ? a.slice(7) : a;
  });
  let publicUrl: string | undefined;
  if (values["public-url"] !== undefined) {
    let u: URL | null = null;
    try {
      u = new URL(values["public-url"]);
    } catch {
      u = null;
    }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) throw new UsageError(`--public-url must be an http or https URL, got ${values["public-url"]}`);
    publicUrl = values["public-url"].replace(/\/+$/, "");
  }
  const store = storeSpec(values.store);
  const node = nodeName(values.node, store);
  const options: CenterOptions & { host: string } = {
    dataDir: values.data,
    store,
    node,
    host,
    trustedProxies,
    publicUrl,
    // behind an HTTPS proxy on this machine the center listens on loopback, yet its cookies must be Secure
    secureCookies: publicUrl?.startsWith("https:") ? true : undefined,
    smtp,
    notify,
    mqttPort: port(values["mqtt-port"], 1883, "mqtt-port"),
    mqttTlsPort: values["mqtt-tls-port"] === undefined ? undefined : port(values["mqtt-tls-port"], 8883, "mqtt-tls-port"),
    httpPort: port(values["http-port"], 8080, "http-port"),
    log: (line) => process.stderr.write(`center: ${line}\n`),
  };
  // one center per SQLite file (nodes sharing a PostgreSQL share their --data folder on purpose)
  const unlock = store
    ? () => undefined
    : lockFolder(values.data, "timeguard center", (pid, what) =>
        what === "timeguard start"
          ? `${values.data}/ is the center of the demo that ${what} (process ${pid}) is running: stop it first, or give this center another --data folder`
          : `${values.data}/ is in use by ${what} (process ${pid}): one center per SQLite file; stop that one first, or give this one another --data folder`,
      );
  try {
    return await serve(options, terminals, values["move-terminal"]);
  } finally {
    unlock();
  }
}

/** Runs the center until SIGINT or SIGTERM, with `terminals` registered (moving one to another site only if `move`). */
async function serve(options: CenterOptions & { host: string }, terminals: Array<{ id: string; secret: string; site: string }>, move: boolean): Promise<number> {
  const center = await startCenter(options);
  const dataDir = options.dataDir;
  const host = options.host;
  try {
    for (const t of terminals) {
      // Registering a terminal that belongs to another site moves it there: only when asked.
      const existing = center.store.terminal(t.id);
      const site = existing ? center.store.sites().find((s) => s.id === existing.siteId)?.name : undefined;
      if (existing && site !== t.site && !move) {
        throw new UsageError(`terminal ${t.id} belongs to site "${site}" in ${dataDir}; registering it to "${t.site}" would move it (its manager would lose it): add --move-terminal if that is meant`);
      }
    }
  } catch (e) {
    await center.close();
    throw e;
  }
  for (const t of terminals) center.addTerminal(t);
  const shown = host.includes(":") ? `[${host}]` : host;
  process.stdout.write(`center: MQTT on ${shown}:${center.mqttPort}, web on http://${shown}:${center.httpPort}/, data in ${dataDir}, store ${describeStore({ dataDir, store: options.store })}\n`);
  if (center.mqttTlsPort !== null) process.stdout.write(`center: MQTT on TLS 1.2 with per-terminal pre-shared keys on ${shown}:${center.mqttTlsPort}\n`);
  if (center.web.accounts.users().length === 0) {
    process.stdout.write(`center: no users yet; add the first admin with: timeguard center user add --data ${dataDir} --user NAME --role admin (password on standard input)\n`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await center.close();
  return 0;
}

/** `timeguard center terminal-psk --data DIR --terminal ID`: the terminal's TLS pre-shared key (hex), for provisioning it. */
function runTerminalPsk(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { data: { type: "string" }, terminal: { type: "string" } }, strict: true });
  if (!values.data) throw new UsageError("--data DIR is required");
  if (!values.terminal || !/^[A-Za-z0-9-]{1,16}$/.test(values.terminal)) throw new UsageError("--terminal ID is required (1 to 16 letters, digits or -)");
  const keyFile = join(values.data, "terminal-key");
  if (!existsSync(keyFile)) throw new UsageError(`no center data in ${values.data} (missing terminal-key)`);
  process.stdout.write(TerminalKey.loadOrCreate(keyFile).linkPsk(values.terminal).toString("hex") + "\n");
  return 0;
}

function runExport(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { data: { type: "string" }, store: { type: "string" }, json: { type: "boolean", default: false } }, strict: true });
  const spec = storeSpec(values.store);
  if (!values.data && !spec) throw new UsageError("--data DIR (or --store postgres://…) is required");
  const dataDir = values.data ?? ".";
  if (!spec && !existsSync(join(dataDir, "center.sqlite"))) throw new UsageError(`no center data in ${values.data} (missing center.sqlite)`);
  const store = openStore({ dataDir, store: spec });
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
