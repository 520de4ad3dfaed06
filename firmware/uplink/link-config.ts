import { intField, sectionOf } from "../app/config";
import { FieldError } from "../core/errors";
import { type LinkTls, readLinkTls } from "./link-tls";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a.b.c.d[:port] */
const NODE_ADDRESS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d{1,5}))?$/;

/** One of the center's nodes: a numeric IPv4 and its MQTT port. */
export interface LinkServer {
  readonly address: string;
  readonly port: number;
}

export interface LinkConfig {
  terminalId: string;
  secret: string;
  apn: string;
  /**
   * The center's nodes in order of preference (`link.address`: one numeric IPv4, or a list of 1 to
   * 4, each `a.b.c.d` or `a.b.c.d:port`; `link.port` where none is given). The link dials the one
   * it last had a session with and moves to the next when a session with it fails.
   */
  servers: readonly LinkServer[];
  /** TLS 1.2 PSK through the modem's SSL stack (docs/protocols.md); null: plain TCP (a private APN) */
  tls: LinkTls | null;
  batchSeconds: number;
  testIntervalSeconds: number;
  keepAliveSeconds: number;
  sessionSeconds: number;
  lingerMs: number;
  maxInflight: number;
  /** while an alarm is open on the terminal the session is kept up (or, failing that, the center
   * is polled every minute) for at most this long after the newest alarm */
  alarmHoldSeconds: number;
  firmware: string;
  zoneMinutes: number;
}

/** at most this many of the center's nodes in `link.address` */
const MAX_SERVERS = 4;

/** `a.b.c.d` or `a.b.c.d:port` (numeric: the modem is given no name to resolve). */
function readServer(v: unknown, port: number, field: string): LinkServer {
  const m = typeof v === "string" ? NODE_ADDRESS.exec(v) : null;
  if (!m || [m[1], m[2], m[3], m[4]].some((o) => Number(o) > 255)) throw new FieldError(field, "must be a numeric IPv4 address (a.b.c.d, or a.b.c.d:port)");
  const p = m[5] === undefined ? port : Number(m[5]);
  if (p < 1 || p > 65535) throw new FieldError(field, "its port must be from 1 to 65535");
  return Object.freeze({ address: `${m[1]}.${m[2]}.${m[3]}.${m[4]}`, port: p });
}

export function readLinkConfig(config: Readonly<Record<string, unknown>>): LinkConfig {
  const t = sectionOf(config, "terminal");
  const l = sectionOf(config, "link");
  const str = (v: unknown, what: string, fallback?: string): string => {
    if (typeof v === "string" && v.length > 0) return v;
    if (v === undefined && fallback !== undefined) return fallback;
    throw new FieldError(`config.${what}`, v === undefined ? "is required" : "must be a non-empty string");
  };
  const int = (v: unknown, fallback: number, what: string, min: number, max: number): number => intField(v, fallback, `config.${what}`, min, max);
  const port = int(l.port, 1883, "link.port", 1, 65535);
  const list = Array.isArray(l.address) ? l.address : [str(l.address, "link.address")];
  if (list.length < 1 || list.length > MAX_SERVERS) throw new FieldError("config.link.address", `must be an address or a list of 1 to ${MAX_SERVERS}`);
  const servers = Object.freeze(list.map((v, i) => readServer(v, port, Array.isArray(l.address) ? `config.link.address[${i}]` : "config.link.address")));
  return {
    terminalId: str(t.id, "terminal.id"),
    secret: str(l.secret, "link.secret"),
    apn: str(l.apn, "link.apn"),
    servers,
    tls: readLinkTls(l, t.id),
    batchSeconds: int(l.batchMinutes, 10, "link.batchMinutes", 0, 1440) * 60,
    testIntervalSeconds: int(l.testHours, 24, "link.testHours", 1, 168) * 3600,
    keepAliveSeconds: int(l.keepAliveSeconds, 60, "link.keepAliveSeconds", 10, 3600),
    sessionSeconds: int(l.sessionSeconds, 300, "link.sessionSeconds", 30, 3600),
    lingerMs: int(l.lingerMs, 2000, "link.lingerMs", 0, 60000),
    maxInflight: int(l.maxInflight, 4, "link.maxInflight", 1, 16),
    alarmHoldSeconds: int(l.alarmHoldMinutes, 60, "link.alarmHoldMinutes", 0, 1440) * 60,
    firmware: str(l.firmware, "link.firmware", "timeguard-0.1"),
    zoneMinutes: int(t.zoneMinutes, 540, "terminal.zoneMinutes", -720, 840),
  };
}

/** The uplink component's settings: the link's and the modem's UART and RESET line. */
export interface UplinkParts {
  link: LinkConfig;
  modem: { port: number; receive: number; transmit: number; baud: number; reset: number | null };
}

/** The uplink component's one validator: `config.link`, `config.modem` (and the terminal's id). */
export function readUplinkParts(config: Readonly<Record<string, unknown>>): UplinkParts {
  const m = sectionOf(config, "modem");
  return {
    link: readLinkConfig(config),
    modem: {
      port: intField(m.port, 1, "config.modem.port", 1, 2), // UART 0 is the console
      receive: intField(m.receive, 16, "config.modem.receive", 0, 39),
      transmit: intField(m.transmit, 17, "config.modem.transmit", 0, 39),
      baud: intField(m.baud, 115200, "config.modem.baud", 1200, 921600),
      reset: m.reset === undefined ? null : intField(m.reset, 0, "config.modem.reset", 0, 39),
    },
  };
}

