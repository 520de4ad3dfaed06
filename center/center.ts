import { Encoder } from "cbor-x";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { EXAMPLE_TARIFF_JSON, parseTariff } from "../firmware/core/tariff";
import { type MessageName, messageToCbor } from "../firmware/uplink/messages";
import { type Broker, startBroker } from "./broker";
import type { BrokerLimitOptions } from "./broker-limits";
import { exportData } from "./export";
import { type IngestEvents, Ingestor } from "./ingest";
import { MediaFiles } from "./media-files";
import { hashSecret } from "./secrets";
import type { CenterStore } from "./store/center-store";
import { SqliteStore } from "./store/sqlite-store";
import { Dispatcher } from "./dispatch";
import { MediaLinks } from "./notify/links";
import { Notifier, type NotifierOptions, type SmtpOptions } from "./notify/notifier";
import { SqliteWebStore, type WebStore } from "./store/web-store";
import { Supervisor, type SupervisorOptions } from "./supervision";
import { WebApp } from "./web/app";
import { EventHub } from "./web/events";

/** Plain CBOR for the terminal's codec: maps stay maps, no record extension, no tag on byte strings. */
const DOWNLINK_CBOR = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

export interface CenterOptions {
  /** where the SQLite file and the media live */
  dataDir: string;
  /** 0: any free port */
  mqttPort?: number;
  httpPort?: number;
  host?: string;
  log?: (line: string) => void;
  events?: IngestEvents;
  /** the web, notifications, supervision (issue #7) */
  smtp?: SmtpOptions;
  notify?: Pick<NotifierOptions, "retryBaseMs" | "maxAttempts" | "mediaWaitMs" | "timeoutMs" | "linkSeconds" | "pollMs">;
  supervision?: Pick<SupervisorOptions, "periodSeconds" | "graceSeconds" | "intervalMs">;
  /** base of links in notifications (default http://<host>:<httpPort>) */
  publicUrl?: string;
  /** ms since 1970 for sessions, notifications and supervision (injectable for tests) */
  now?: () => number;
  loginLimit?: { perUser?: number; perAddress?: number; windowMs?: number };
  /** pre-login limits of the MQTT port (center/broker-limits.ts) */
  brokerLimits?: BrokerLimitOptions;
  /** mark cookies Secure (when served behind HTTPS) */
  secureCookies?: boolean;
}

export interface Center {
  readonly store: CenterStore;
  readonly ingestor: Ingestor;
  readonly broker: Broker;
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly web: WebStore;
  readonly webApp: WebApp;
  readonly hub: EventHub;
  readonly notifier: Notifier;
  readonly dispatcher: Dispatcher;
  readonly supervisor: Supervisor;
  addTerminal(t: { id: string; secret: string; site: string; contact?: string; tariff?: unknown }): void;
  /** Sends a downlink message to a terminal (queued while it is offline). */
  sendDown(terminal: string, name: MessageName, body: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/**
 * The center, embedded: an in-process MQTT broker and a SQLite file under `dataDir`, and an HTTP
 * port (the web pages). Every store and broker is behind an interface (CenterStore, Broker) so a
 * PostgreSQL store or an external broker cluster can take over.
 */
export async function startCenter(o: CenterOptions): Promise<Center> {
  mkdirSync(o.dataDir, { recursive: true });
  const store = new SqliteStore(join(o.dataDir, "center.sqlite"));
  const web = new SqliteWebStore(store.db);
  const now = o.now ?? Date.now;
  const hub = new EventHub();
  const siteOf = (terminal: string) => store.terminal(terminal)?.siteId ?? null;
  // Late-bound: the web pieces below need the broker, the broker needs the ingestor.
  let late: { notifier: Notifier; supervisor: Supervisor } | null = null;
  const events: IngestEvents = {
    stored(m) {
      o.events?.stored?.(m);
      if (!late) return;
      const siteId = siteOf(m.terminal);
      late.supervisor.heard(m.terminal, m.name === "test");
      if (m.name === "registration") {
        // DESIGN §3: the center answers the initial-setting request; the site's record exists.
        const site = store.sites().find((x) => x.id === siteId)?.name;
        sendDown(m.terminal, "registrationResult", { ok: true, ...(site ? { site: site.slice(0, 64) } : {}) }).catch((e) => o.log?.(`registration answer to ${m.terminal}: ${(e as Error).message}`));
      }
      if (m.name === "alarm") {
        const b = m.body as { alarmId: number; pattern: number };
        late.notifier.alarmStored(m.terminal, b.alarmId);
        hub.publish("alarm", { terminal: m.terminal, alarmId: b.alarmId, pattern: b.pattern }, { siteId, operators: b.pattern >= 3 });
      } else {
        hub.publish("data", { terminal: m.terminal, kind: m.name }, { siteId, operators: m.name === "test" });
      }
    },
    mediaComplete(terminal, mediaId, item, path) {
      o.events?.mediaComplete?.(terminal, mediaId, item, path);
      if (!late) return;
      late.notifier.mediaComplete(terminal, mediaId);
      hub.publish("media", { terminal, mediaId, item }, { siteId: siteOf(terminal), operators: true });
    },
  };
  const media = new MediaFiles(join(o.dataDir, "media"));
  const ingestor = new Ingestor(store, media, events);
  const broker = await startBroker({ store, ingestor, port: o.mqttPort ?? 1883, host: o.host, log: o.log, limits: o.brokerLimits });
  let webApp: WebApp | null = null;
  const http: Server = createServer((req, res) => {
    if (webApp) return webApp.handle(req, res);
    res.writeHead(503, { "content-type": "text/plain" });
    res.end("starting\n");
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(o.httpPort ?? 8080, o.host ?? "127.0.0.1", () => resolve());
  });
  const addr = http.address();
  const httpPort = typeof addr === "object" && addr ? addr.port : (o.httpPort ?? 8080);
  let downSeq = Date.now();
  const sendDown = async (terminal: string, name: MessageName, body: Record<string, unknown>): Promise<void> => {
    downSeq = Math.max(downSeq + 1, Date.now());
    const payload = DOWNLINK_CBOR.encode(messageToCbor({ name, terminal, seq: downSeq, time: Math.floor(now() / 1000), body }));
    await broker.sendDown(terminal, payload);
  };
  const publicUrl = o.publicUrl ?? `http://${o.host ?? "127.0.0.1"}:${httpPort}`;
  const links = new MediaLinks(web);
  const notifier = new Notifier({
    store,
    web,
    media,
    links,
    publicUrl: () => publicUrl,
    smtp: o.smtp,
    now,
    ...o.notify,
    onChange: (n) => hub.publish("notification", { id: n.id, status: n.status }, { siteId: n.audience === "site" ? n.siteId : null, operators: n.audience === "operators" }),
  });
  const supervisor = new Supervisor({
    store,
    web,
    now,
    ...o.supervision,
    onFault: (f) => {
      o.log?.(`fault: ${f.kind} on ${f.terminal}: ${f.detail}`);
      notifier.faultRaised(f.id);
      hub.publish("fault", { id: f.id, terminal: f.terminal, kind: f.kind }, { siteId: siteOf(f.terminal), operators: true });
    },
    onCleared: (f) => hub.publish("fault", { id: f.id, terminal: f.terminal, cleared: true }, { siteId: siteOf(f.terminal), operators: true }),
  });
  const dispatcher = new Dispatcher({
    store,
    web,
    sendDown,
    now,
    onChange: (terminal, alarmId, action) => {
      const a = web.alarm(terminal, alarmId);
      hub.publish("alarm-action", { terminal, alarmId, action: action.action }, { siteId: siteOf(terminal), operators: (a?.pattern ?? 3) >= 3 || action.action === "request-guards" || action.role !== "manager" });
    },
  });
  webApp = new WebApp({
    store,
    web,
    media,
    links,
    dispatcher,
    events: hub,
    connected: () => broker.connected(),
    health: () => ({ terminalsOnline: broker.connected(), ingest: ingestor.counts, refused: broker.counts }),
    tariffChanged: (t) => ingestor.tariffChanged(t),
    now,
    loginLimit: o.loginLimit,
    secureCookies: o.secureCookies,
  });
  late = { notifier, supervisor };
  notifier.start();
  supervisor.start();

  return {
    store,
    ingestor,
    broker,
    mqttPort: broker.port,
    httpPort,
    dataDir: o.dataDir,
    web,
    webApp,
    hub,
    notifier,
    dispatcher,
    supervisor,
    addTerminal(t) {
      const tariff = t.tariff ?? EXAMPLE_TARIFF_JSON;
      parseTariff(tariff); // refuse a bad tariff here, not at the first period report
      const siteId = store.addSite(t.site, t.contact ?? "");
      store.addTerminal({ id: t.id, siteId, secretHash: hashSecret(t.secret), tariff });
      ingestor.tariffChanged(t.id);
    },
    sendDown,
    async close() {
      supervisor.stop();
      await notifier.stop();
      hub.close();
      await broker.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      store.close();
    },
  };
}

export { exportData };
