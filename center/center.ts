import { Encoder } from "cbor-x";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { EXAMPLE_TARIFF_JSON, parseTariff, tariffToJson } from "../firmware/core/tariff";
import { decode } from "cbor-x";
import { type MessageName, messageFromCbor, messageToCbor } from "../firmware/uplink/messages";
import { type Broker, startBroker } from "./broker";
import { ClusterNode } from "./cluster";
import type { BrokerLimitOptions } from "./broker-limits";
import { exportData } from "./export";
import { type IngestEvents, Ingestor } from "./ingest";
import { MediaFiles } from "./media-files";
import { TerminalKey } from "./secrets";
import { Tariffs } from "./tariffs";
import type { CenterStore } from "./store/center-store";
import { openStore } from "./store/open-store";
import { isOpening, liveForOperators } from "./alarm-policy";
import { Dispatcher } from "./dispatch";
import { Downlinks } from "./downlinks";
import { MediaLinks } from "./notify/links";
import { Notifier, type NotifierOptions, type SmtpOptions } from "./notify/notifier";
import { WebStores } from "./store/web-store";
import { Supervisor, type SupervisorOptions } from "./supervision";
import { WebApp } from "./web/app";
import { EventHub } from "./web/events";
import { LoginLimiter, type LoginLimitOptions } from "./web/login-limiter";

/** A listen address reachable from this machine only (the demo's); anything else gets Secure cookies. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Plain CBOR for the terminal's codec: maps stay maps, no record extension, no tag on byte strings. */
const DOWNLINK_CBOR = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

export interface CenterOptions {
  /** where the SQLite file (unless `store` names PostgreSQL), the media and the terminal key live */
  dataDir: string;
  /** "sqlite" (default: dataDir/center.sqlite) or a postgres:// URL (center/store/open-store.ts) */
  store?: string;
  /**
   * This center's name as one node of several sharing the PostgreSQL `store` (center/cluster.ts):
   * presence, downlinks handed across nodes, one node at a time for the periodic jobs.
   */
  node?: string;
  /** a cluster node's timings (center/cluster.ts) */
  cluster?: { heartbeatMs?: number; pollMs?: number };
  /** 0: any free port */
  mqttPort?: number;
  /** also MQTT on TLS 1.2 with per-terminal pre-shared keys on this port (0: any free port) */
  mqttTlsPort?: number;
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
  loginLimit?: LoginLimitOptions;
  /** reverse proxies whose X-Forwarded-For names the client (for the login limit) */
  trustedProxies?: string[];
  /** pre-login limits of the MQTT port (center/broker-limits.ts) */
  brokerLimits?: BrokerLimitOptions;
  /** mark cookies Secure (default: unless the center listens on loopback only) */
  secureCookies?: boolean;
  /**
   * Wakes an offline terminal for an urgent downlink (a dispatch, a plan change): an SMS to its
   * modem through the operator's SMS gateway (in the simulator, the emulated modem). Optional.
   */
  wake?: (terminal: string) => void;
  /**
   * The demo's known logins, shown on the login page. Only `timeguard start` (the demo stack) sets
   * this; a real center never does, so its login page names no user.
   */
  demoLogins?: ReadonlyArray<{ role: string; username: string; password: string }>;
}

export interface Center {
  readonly store: CenterStore;
  readonly ingestor: Ingestor;
  readonly broker: Broker;
  readonly mqttPort: number;
  /** the TLS-PSK MQTT port, when asked for */
  readonly mqttTlsPort: number | null;
  /** A terminal's pre-shared key for the TLS link (derived from the center's terminal key). */
  linkPsk(terminal: string): Buffer;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly web: WebStores;
  readonly webApp: WebApp;
  readonly hub: EventHub;
  readonly notifier: Notifier;
  readonly dispatcher: Dispatcher;
  readonly supervisor: Supervisor;
  /** this node of a cluster (`node` given), or null */
  readonly cluster: ClusterNode | null;
  addTerminal(t: { id: string; secret: string; site: string; contact?: string; tariff?: unknown }): void;
  /** A new tariff version for a terminal (the admin form's path): stored, sent down; returns the version. */
  setTariff(terminal: string, tariff: unknown): number;
  readonly tariffs: Tariffs;
  /** What the store keeps for a terminal's secret (HMAC with this center's terminal key). */
  terminalSecretHash(id: string, secret: string): string;
  /** Sends a downlink message to a terminal (queued while it is offline). */
  readonly downlinks: Downlinks;
  /** Queues a downlink message for a terminal in the database until it acknowledges it; its id. */
  sendDown(terminal: string, name: MessageName, body: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

/**
 * The center, embedded: an in-process MQTT broker and a SQLite file under `dataDir`, and an HTTP
 * port (the web pages). Every store and broker is behind an interface (CenterStore, Broker) so a
 * PostgreSQL store or an external broker cluster can take over.
 */
export async function startCenter(o: CenterOptions): Promise<Center> {
  mkdirSync(o.dataDir, { recursive: true });
  const store = openStore(o);
  const web = new WebStores(store.db);
  const terminalKey = TerminalKey.loadOrCreate(join(o.dataDir, "terminal-key"));
  const now = o.now ?? Date.now;
  const hub = new EventHub();
  const siteOf = (terminal: string) => store.siteOf(terminal);
  // Late-bound: the web pieces below need the broker, the broker needs the ingestor.
  let late: { notifier: Notifier; supervisor: Supervisor } | null = null;
  const events: IngestEvents = {
    stored(m) {
      o.events?.stored?.(m);
      if (!late) return;
      const siteId = siteOf(m.terminal);
      if (m.name === "test") late.supervisor.testCallArrived(m.terminal); // (heard: written by the ingest batch)
      // The terminal is in session: a tariff version it has not confirmed goes down now.
      tariffs.offer(m.terminal, m.name === "registration");
      if (m.name === "registration") {
        // DESIGN §3: the center answers the initial-setting request; the site's record exists.
        const site = siteId === null ? undefined : store.site(siteId)?.name;
        sendDown(m.terminal, "registrationResult", { ok: true, ...(site ? { site: site.slice(0, 64) } : {}) }).catch((e) => o.log?.(`registration answer to ${m.terminal}: ${(e as Error).message}`));
      }
      if (m.name === "alarm" && isOpening((m.body as { contactId: number }).contactId)) {
        // an opening by the user (Contact ID 401) is a record, not an alarm: nothing to handle
        const b = m.body as { alarmId: number };
        web.alarms.setAlarmStatus(m.terminal, b.alarmId, "closed");
        hub.publish("data", { terminal: m.terminal, kind: "opening" }, { siteId, operators: false });
      } else if (m.name === "card" && ["stopped", "emergency", "friendly"].includes(String((m.body as { event: unknown }).event))) {
        // credit ran out while guarding: the site's manager is told (DESIGN §3; issue #14)
        const b = m.body as { event: string; note?: string };
        late.notifier.creditEnded(m.terminal, b.event, b.note ?? null);
        hub.publish("data", { terminal: m.terminal, kind: m.name }, { siteId, operators: false });
      } else if (m.name === "alarm") {
        const b = m.body as { alarmId: number; pattern: number; contactId: number };
        late.notifier.alarmStored(m.terminal, b.alarmId);
        hub.publish("alarm", { terminal: m.terminal, alarmId: b.alarmId, pattern: b.pattern }, { siteId, operators: liveForOperators(b) });
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
  const tariffs = new Tariffs({
    store,
    now,
    send: (terminal, version, tariff) => {
      sendDown(terminal, "tariff", { version, tariff }).catch((e) => o.log?.(`tariff ${version} to ${terminal}: ${(e as Error).message}`));
    },
  });
  const ingestor = new Ingestor(store, media, events, { now, tariffs });
  const downlinks = new Downlinks(store.db);
  // One node of several on one PostgreSQL (center/cluster.ts): started before the broker, so that
  // its tables and its notices are there before the first terminal.
  let cluster: ClusterNode | null = null;
  if (o.node !== undefined) {
    if (store.db.dialect !== "postgres" || o.store === undefined) throw new Error("a center node (--node) needs a PostgreSQL store (--store postgres://…)");
    cluster = new ClusterNode({
      db: store.db,
      url: o.store,
      node: o.node,
      dataDir: o.dataDir,
      log: o.log,
      ...o.cluster,
      onDownlink: (terminal) => handDown(terminal),
      onTerminalChanged: (terminal) => {
        store.forgetTerminal(terminal);
        for (const t of terminal === null ? store.terminals().map((x) => x.id) : [terminal]) ingestor.tariffChanged(t);
      },
      // the notifier polls on every node and sends only on the leader (`sends` below)
      onLeader: (leading) => {
        if (late) leading ? late.supervisor.start() : late.supervisor.stop();
      },
      onPoll: () => {
        for (const t of downlinks.pendingTerminals()) handDown(t);
      },
    });
    await cluster.start();
    // a terminal registered here, or moved: the other nodes forget what they cached of it
    store.onTerminalChanged = (terminal) => cluster?.notify("terminal", terminal);
  }
  // Hands the broker what is queued for a terminal, once it is there to take it.
  const handDown = (terminal: string): void => {
    if (!broker.subscribed(terminal)) return;
    for (const d of downlinks.toHand(terminal)) {
      downlinks.markHanded(d.id);
      broker.sendDown(terminal, d.payload).catch((e) => o.log?.(`downlink ${d.id} to ${terminal}: ${(e as Error).message}`));
    }
  };
  const broker: Broker = await startBroker({
    store,
    ingestor,
    terminalKey,
    port: o.mqttPort ?? 1883,
    host: o.host,
    log: o.log,
    limits: o.brokerLimits,
    tls: o.mqttTlsPort === undefined ? undefined : { port: o.mqttTlsPort, psk: (id) => terminalKey.linkPsk(id) },
    onPresence(terminal, online) {
      if (!cluster) return;
      cluster.present(terminal, online);
      // it may have been served by another node since: its folded account and tariff come from the store again
      if (online) ingestor.tariffChanged(terminal);
    },
    onSubscribed(terminal, clean) {
      if (clean) downlinks.forgetHanded(terminal); // a clean session dropped whatever aedes held
      handDown(terminal);
    },
    onAcked(terminal, payload) {
      let seq: number;
      try {
        seq = messageFromCbor(decode(payload)).seq;
      } catch {
        return; // not one of ours
      }
      const id = downlinks.delivered(terminal, seq, now());
      if (id !== null) hub.publish("downlink", { terminal, id, delivered: true }, { siteId: siteOf(terminal), operators: true });
    },
  }).catch(async (e: unknown) => {
    await cluster?.close(); // its listening connection would keep the process alive
    throw e;
  });
  // terminals connected here, and (in a cluster) to the other live nodes
  const online = (): string[] => (cluster ? [...new Set([...broker.connected(), ...cluster.elsewhere()])].sort() : broker.connected());
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
  const sendDown = async (terminal: string, name: MessageName, body: Record<string, unknown>): Promise<number> => {
    let id: number | null = null;
    for (let tries = 1; id === null; tries++) {
      // After a restart, past the newest seq already queued (the clock may have gone back).
      const last = downlinks.lastSeq(terminal);
      downSeq = Math.max(downSeq + 1, Date.now(), last === null ? 0 : last + 1);
      const payload = DOWNLINK_CBOR.encode(messageToCbor({ name, terminal, seq: downSeq, time: Math.floor(now() / 1000), body }));
      // null: another node took that seq for this terminal at the same moment: the next one
      id = downlinks.tryAdd({ terminal, seq: downSeq, name, payload, createdAt: now() });
      if (id === null && tries >= 5) throw new Error(`no free downlink seq for ${terminal} after ${tries} tries`);
    }
    handDown(terminal);
    // its session may be on another node: that node hands it down
    if (cluster && !broker.subscribed(terminal)) cluster.notify("downlink", terminal);
    // queued for an offline terminal: an urgent one wakes it by SMS rather than wait for its next dial
    if (o.wake && (name === "dispatch" || name === "planChange") && !broker.isConnected(terminal) && !cluster?.nodeOf(terminal)) {
      try {
        o.wake(terminal);
      } catch (e) {
        o.log?.(`wake ${terminal}: ${(e as Error).message}`);
      }
    }
    return id;
  };
  const setTariff = (terminal: string, tariff: unknown): number => {
    const version = tariffs.set(terminal, tariff);
    ingestor.tariffChanged(terminal);
    cluster?.notify("terminal", terminal);
    return version;
  };
  const publicUrl = o.publicUrl ?? `http://${o.host ?? "127.0.0.1"}:${httpPort}`;
  const links = new MediaLinks(web.settings);
  const notifier = new Notifier({
    store,
    notify: web.notify,
    alarms: web.alarms,
    faults: web.faults,
    sites: web.sites,
    media,
    links,
    publicUrl: () => publicUrl,
    smtp: o.smtp,
    now,
    ...o.notify,
    sends: () => !cluster || cluster.leader,
    onChange: (n) => hub.publish("notification", { id: n.id, status: n.status }, { siteId: n.audience === "site" ? n.siteId : null, operators: n.audience === "operators" }),
  });
  const supervisor = new Supervisor({
    store,
    faults: web.faults,
    supervision: web.supervision,
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
    alarms: web.alarms,
    actions: web.actions,
    sendDown,
    linkDownlink: (actionId, downlinkId) => downlinks.linkAction(actionId, downlinkId),
    now,
    onChange: (terminal, alarmId, action) => {
      const a = web.alarms.alarmRow(terminal, alarmId);
      if (action.action === "request-guards") notifier.guardsRequested(terminal, alarmId, action.username ?? "the manager", action.note);
      hub.publish("alarm-action", { terminal, alarmId, action: action.action }, { siteId: siteOf(terminal), operators: !a || liveForOperators(a, action) });
    },
  });
  webApp = new WebApp({
    store,
    web,
    media,
    links,
    dispatcher,
    events: hub,
    connected: () => online(),
    health: () => ({ terminalsOnline: online(), ingest: ingestor.counts, refused: broker.counts, ...(cluster ? { node: cluster.node, leader: cluster.leader } : {}) }),
    setTariff,
    tariffs,
    terminalSecretHash: (id, secret) => terminalKey.hash(id, secret),
    now,
    limiter: new LoginLimiter(store.db, now, o.loginLimit),
    trustedProxies: o.trustedProxies,
    secureCookies: o.secureCookies ?? !isLoopback(o.host ?? "127.0.0.1"),
    demoLogins: o.demoLogins,
  });
  late = { notifier, supervisor };
  notifier.start();
  // in a cluster, the periodic jobs run on one node at a time (the leader: center/cluster.ts)
  if (!cluster || cluster.leader) supervisor.start();

  return {
    store,
    ingestor,
    broker,
    mqttPort: broker.port,
    mqttTlsPort: broker.tlsPort,
    linkPsk: (terminal: string) => terminalKey.linkPsk(terminal),
    httpPort,
    dataDir: o.dataDir,
    web,
    webApp,
    hub,
    notifier,
    dispatcher,
    supervisor,
    cluster,
    tariffs,
    setTariff,
    downlinks,
    addTerminal(t) {
      const tariff = t.tariff ?? EXAMPLE_TARIFF_JSON;
      parseTariff(tariff); // refuse a bad tariff here, not at the first period report
      const siteId = store.addSite(t.site, t.contact ?? "");
      const existed = store.terminal(t.id) !== undefined;
      store.addTerminal({ id: t.id, siteId, secretHash: terminalKey.hash(t.id, t.secret), tariff });
      ingestor.tariffChanged(t.id);
      tariffs.ensure(t.id);
      if (existed) {
        // a terminal registered again with another tariff: that one is the next version
        const same = (x: unknown) => JSON.stringify({ ...tariffToJson(parseTariff(x)), version: 0 });
        if (same(tariff) !== same(tariffToJson(tariffs.current(t.id)))) setTariff(t.id, tariff);
      }
    },
    terminalSecretHash: (id, secret) => terminalKey.hash(id, secret),
    sendDown,
    async close() {
      supervisor.stop();
      await notifier.stop();
      hub.close();
      await broker.close();
      await cluster?.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      store.close();
    },
  };
}

export { exportData };
