import { Encoder } from "cbor-x";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { EXAMPLE_TARIFF_JSON, parseTariff } from "../firmware/core/tariff";
import { type MessageName, messageToCbor } from "../firmware/uplink/messages";
import { type Broker, startBroker } from "./broker";
import { exportData } from "./export";
import { type IngestEvents, Ingestor } from "./ingest";
import { MediaFiles } from "./media-files";
import { hashSecret } from "./secrets";
import type { CenterStore } from "./store/center-store";
import { SqliteStore } from "./store/sqlite-store";

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
}

export interface Center {
  readonly store: CenterStore;
  readonly ingestor: Ingestor;
  readonly broker: Broker;
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
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
  const ingestor = new Ingestor(store, new MediaFiles(join(o.dataDir, "media")), o.events);
  const broker = await startBroker({ store, ingestor, port: o.mqttPort ?? 1883, host: o.host, log: o.log });
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/api/health") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, terminalsOnline: broker.connected(), ingest: ingestor.counts, refused: broker.counts }));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(o.httpPort ?? 8080, o.host ?? "127.0.0.1", () => resolve());
  });
  const addr = http.address();
  const httpPort = typeof addr === "object" && addr ? addr.port : (o.httpPort ?? 8080);
  let downSeq = Date.now();

  return {
    store,
    ingestor,
    broker,
    mqttPort: broker.port,
    httpPort,
    dataDir: o.dataDir,
    addTerminal(t) {
      const tariff = t.tariff ?? EXAMPLE_TARIFF_JSON;
      parseTariff(tariff); // refuse a bad tariff here, not at the first period report
      const siteId = store.addSite(t.site, t.contact ?? "");
      store.addTerminal({ id: t.id, siteId, secretHash: hashSecret(t.secret), tariff });
      ingestor.tariffChanged(t.id);
    },
    async sendDown(terminal, name, body) {
      downSeq = Math.max(downSeq + 1, Date.now());
      const payload = DOWNLINK_CBOR.encode(messageToCbor({ name, terminal, seq: downSeq, time: Math.floor(Date.now() / 1000), body }));
      await broker.sendDown(terminal, payload);
    },
    async close() {
      await broker.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      store.close();
    },
  };
}

export { exportData };
