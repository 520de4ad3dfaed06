import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCenter } from "../center/center";
import { exportData } from "../center/export";
import { TerminalKey } from "../center/secrets";
import { SqliteStore } from "../center/store/sqlite-store";
import { runCenterUser } from "./center-users";
import { UsageError } from "./usage";

function port(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--${name} must be a port number, got ${v}`);
  return Number(v);
}

/** The address to bind: an IP address (0.0.0.0 or :: for every interface) or localhost. */
function listenHost(v: string | undefined): string {
  if (v === undefined) return "127.0.0.1";
  if (v !== "localhost" && !isIP(v)) throw new UsageError(`--listen must be an IP address (0.0.0.0 for every interface) or localhost, got ${v}`);
  return v;
}

/**
 * `timeguard center [--data DIR] [--listen HOST] [--mqtt-port N] [--http-port N] [--trusted-proxy ADDR]…
 * [--public-url URL] [--terminal ID:SECRET[:SITE]]…`, `center export` and `center user …`.
 */
export async function runCenter(argv: string[]): Promise<number> {
  if (argv[0] === "export") return runExport(argv.slice(1));
  if (argv[0] === "user") return runCenterUser(argv.slice(1));
  if (argv[0] === "terminal-psk") return runTerminalPsk(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: "string", default: "var/center" },
      "mqtt-port": { type: "string" },
      "mqtt-tls-port": { type: "string" },
      "http-port": { type: "string" },
      terminal: { type: "string", multiple: true },
      smtp: { type: "string" },
      from: { type: "string", default: "Timeguard center <center@localhost>" },
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
    if (!m) throw new UsageError(`--smtp must be HOST:PORT, got ${values.smtp}`);
    smtp = { host: m[1], port: Number(m[2]), from: values.from };
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
  const center = await startCenter({
    dataDir: values.data,
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
  });
  for (const t of terminals) center.addTerminal(t);
  const shown = host.includes(":") ? `[${host}]` : host;
  process.stdout.write(`center: MQTT on ${shown}:${center.mqttPort}, web on http://${shown}:${center.httpPort}/, data in ${values.data}\n`);
  if (center.mqttTlsPort !== null) process.stdout.write(`center: MQTT on TLS 1.2 with per-terminal pre-shared keys on ${shown}:${center.mqttTlsPort}\n`);
  if (center.web.users().length === 0) {
    process.stdout.write(`center: no users yet; add the first admin with: timeguard center user add --data ${values.data} --user NAME --role admin (password on standard input)\n`);
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
  const { values } = parseArgs({ args: argv, options: { data: { type: "string" }, json: { type: "boolean", default: false } }, strict: true });
  if (!values.data) throw new UsageError("--data DIR is required");
  const file = join(values.data, "center.sqlite");
  if (!existsSync(file)) throw new UsageError(`no center data in ${values.data} (missing center.sqlite)`);
  const store = new SqliteStore(file);
  try {
    const data = exportData(store);
    process.stdout.write(values.json ? JSON.stringify(data) + "\n" : JSON.stringify(data, null, 2) + "\n");
  } finally {
    store.close();
  }
  return 0;
}
