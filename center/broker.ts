import { Aedes, type AuthErrorCode, type AuthenticateError, type Client } from "aedes";
import { createServer, type Server, type Socket } from "node:net";
import { type TLSSocket, createServer as createTlsServer } from "node:tls";
import { downTopic, upTopic } from "../firmware/uplink/messages";
import type { Ingestor } from "./ingest";
import type { CenterStore } from "./store/center-store";
import { type TerminalKey, isLegacyTerminalHash, verifySecretAsync } from "./secrets";
import { type BrokerLimitOptions, ConnectionGate, FrameGuard, TerminalLogins, guardSocket } from "./broker-limits";

export interface BrokerOptions {
  store: CenterStore;
  ingestor: Ingestor;
  /** the key of terminal-secret hashes (center/secrets.ts) */
  terminalKey: TerminalKey;
  port: number;
  host?: string;
  log?: (line: string) => void;
  /** pre-login limits (broker-limits.ts); defaults suit a fleet behind carrier NAT */
  limits?: BrokerLimitOptions;
  /** ms a new connection has to send its CONNECT (default 10 s) */
  connectTimeoutMs?: number;
  /** a terminal is connected and subscribed to its downlink (after a SUBSCRIBE or a restored session) */
  onSubscribed?(terminal: string, cleanSession: boolean): void;
  /** a terminal's session opened (true) or closed (false) on this broker (center/cluster.ts) */
  onPresence?(terminal: string, online: boolean): void;
  /** a terminal acknowledged (PUBACK) a downlink */
  onAcked?(terminal: string, payload: Uint8Array): void;
  /**
   * A second listener for the same broker on TLS 1.2 with per-terminal pre-shared keys (no
   * certificates): `psk(identity)` gives the key for a PSK identity (the terminal ID). A login on
   * it must name the terminal its PSK identity named.
   */
  tls?: { port: number; psk(identity: string): Buffer };
}

/** The TLS listener's suites: PSK with AES-GCM, nothing else (docs/protocols.md). */
export const LINK_PSK_CIPHERS = "PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384";

export interface Broker {
  readonly port: number;
  /** the TLS-PSK listener's port, when there is one */
  readonly tlsPort: number | null;
  /** Publishes to a terminal's downlink (QoS 1; aedes holds it in the session if the line drops). */
  sendDown(terminal: string, payload: Uint8Array): Promise<void>;
  connected(): string[];
  /** whether the terminal is connected now (without listing the fleet) */
  isConnected(terminal: string): boolean;
  /** whether the terminal is connected now with its downlink subscription */
  subscribed(terminal: string): boolean;
  readonly counts: { refusedLogins: number; refusedPublish: number; refusedSubscribe: number; refusedConnections: number; oversized: number; rateLimitedLogins: number; tlsHandshakesFailed: number };
  close(): Promise<void>;
}

/** CONNACK return codes 3 and 4 (aedes declares its codes as a const enum, unusable across modules). */
const SERVER_UNAVAILABLE = 3 as AuthErrorCode;
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;

function authError(message: string, code: AuthErrorCode): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code });
}

/**
 * A terminal's login: client id = username = a registered terminal, and its secret. An HMAC hash is
 * checked at once (microseconds, constant time); a terminal still holding a scrypt hash from before
 * is checked off the event loop and, when right, moved to the HMAC scheme.
 */
export async function checkTerminalLogin(store: CenterStore, key: TerminalKey, clientId: string, username: string | undefined, password: Buffer | undefined): Promise<boolean> {
  const terminal = username ? store.terminal(username) : undefined;
  const secret = password ? password.toString("utf8") : "";
  if (!terminal || clientId !== username || !password) {
    key.verify(clientId, secret, ""); // the same work either way
    return false;
  }
  if (!isLegacyTerminalHash(terminal.secretHash)) return key.verify(terminal.id, secret, terminal.secretHash);
  if (!(await verifySecretAsync(secret, terminal.secretHash))) return false;
  store.setSecretHash(terminal.id, key.hash(terminal.id, secret));
  return true;
}

/**
 * The MQTT endpoint (aedes, in process). A terminal logs in with client id = username = its id and
 * its secret as password; it may publish only to tg/<id>/up and subscribe only to tg/<id>/down.
 * Each uplink is ingested (stored once, in a group commit) before aedes acknowledges it, so a PUBACK
 * means stored.
 */
export async function startBroker(o: BrokerOptions): Promise<Broker> {
  const counts = { refusedLogins: 0, refusedPublish: 0, refusedSubscribe: 0, refusedConnections: 0, oversized: 0, rateLimitedLogins: 0, tlsHandshakesFailed: 0 };
  const log = o.log ?? (() => undefined);
  const logins = new TerminalLogins(o.limits);
  const connections = new ConnectionGate(logins, o.limits);
  const guards = new WeakMap<object, FrameGuard>();
  /** TLS connections: the PSK identity their handshake used */
  const pskIdentities = new WeakMap<object, string>();
  // A batch's PUBACKs to one terminal leave in one socket write: its socket is corked from the
  // first answer of the batch until the event-loop turn has run aedes's writes.
  const corked = new Set<Socket>();
  const uncorkAll = (): void => {
    for (const s of corked) if (!s.destroyed) s.uncork();
    corked.clear();
  };
  const corkUntilTurnEnds = (s: Socket): void => {
    if (corked.has(s) || s.destroyed) return;
    if (corked.size === 0) setImmediate(uncorkAll);
    s.cork();
    corked.add(s);
  };
  const broker = await Aedes.createBroker({
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    authenticate(client: Client, username, password, done) {
      const socket = (client as unknown as { conn: Socket }).conn;
      const address = socket.remoteAddress ?? "?";
      const id = (username ?? "").slice(0, 64);
      const pskIdentity = pskIdentities.get(socket);
      if (pskIdentity !== undefined && pskIdentity !== username) {
        counts.refusedLogins++;
        log(`login refused for ${client.id} from ${address}: its TLS key is ${pskIdentity}'s`);
        return done(authError("bad credentials", BAD_USERNAME_OR_PASSWORD), false);
      }
      const known = id ? o.store.terminal(id) : undefined;
      const slow = known !== undefined && isLegacyTerminalHash(known.secretHash);
      logins.check(address, id, () => checkTerminalLogin(o.store, o.terminalKey, client.id, username, password), slow).then(
        (verdict) => {
          if (verdict === "ok") {
            const guard = guards.get(socket);
            if (guard) guard.loggedIn = true;
            return done(null, true);
          }
          counts.refusedLogins++;
          if (verdict === "rate" || verdict === "busy") counts.rateLimitedLogins++;
          log(`login refused for ${client.id} from ${address}: ${verdict === "bad" ? "bad credentials" : verdict === "rate" ? "too many attempts" : "too many logins at once"}`);
          done(verdict === "bad" ? authError("bad credentials", BAD_USERNAME_OR_PASSWORD) : authError("try later", SERVER_UNAVAILABLE), false);
        },
        (e) => done(authError(`login check failed: ${(e as Error).message}`, SERVER_UNAVAILABLE), false),
      );
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null); // the center's own downlink
      if (packet.topic !== upTopic(client.id)) {
        counts.refusedPublish++;
        log(`${client.id} may not publish to ${packet.topic}`);
        return callback(new Error("not your topic"));
      }
      // Group commit: the callback (and with it aedes's PUBACK) comes once the batch is stored.
      const conn = (client as unknown as { conn: Socket }).conn;
      o.ingestor.submit(client.id, packet.topic, packet.payload as Buffer, (r) => {
        corkUntilTurnEnds(conn);
        callback(r instanceof Error ? r : null);
      });
    },
    authorizeSubscribe(client, subscription, callback) {
      if (subscription.topic !== downTopic(client.id)) {
        counts.refusedSubscribe++;
        log(`${client.id} may not subscribe to ${subscription.topic}`);
        return callback(null, null); // SUBACK with the failure code
      }
      callback(null, { ...subscription, qos: 1 });
    },
    authorizeForward(client, packet) {
      // Uplinks go nowhere but the center; a downlink reaches only its own terminal.
      return packet.topic === downTopic(client.id) ? packet : null;
    },
  });
  const server: Server = createServer((socket) => {
    socket.on("error", () => undefined);
    if (!connections.admit(socket.remoteAddress ?? "?")) {
      counts.refusedConnections++;
      return void socket.destroy();
    }
    accept(socket);
  });
  const accept = (socket: Socket): void => {
    const guard = new FrameGuard(o.limits?.maxConnectPacket, o.limits?.maxPacketAfterLogin);
    guards.set(socket, guard);
    guardSocket(socket, guard, (why) => {
      counts.oversized++;
      log(`connection from ${socket.remoteAddress} closed: ${why}`);
    });
    broker.handle(socket);
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host ?? "127.0.0.1", () => resolve());
  });
  let tlsServer: ReturnType<typeof createTlsServer> | null = null;
  if (o.tls) {
    const psk = o.tls.psk;
    tlsServer = createTlsServer(
      {
        minVersion: "TLSv1.2",
        maxVersion: "TLSv1.2",
        ciphers: LINK_PSK_CIPHERS,
        handshakeTimeout: o.connectTimeoutMs ?? 10_000,
        pskCallback: (socket: TLSSocket, identity: string) => {
          pskIdentities.set(socket, identity);
          return psk(identity);
        },
      },
      (socket) => accept(socket),
    );
    // the connection limit before the handshake costs anything; failed handshakes are counted
    tlsServer.on("connection", (raw: Socket) => {
      raw.on("error", () => undefined);
      if (!connections.admit(raw.remoteAddress ?? "?")) {
        counts.refusedConnections++;
        raw.destroy();
      }
    });
    tlsServer.on("tlsClientError", () => void counts.tlsHandshakesFailed++);
    const t = tlsServer;
    await new Promise<void>((resolve, reject) => {
      t.once("error", reject);
      t.listen(o.tls?.port, o.host ?? "127.0.0.1", () => resolve());
    });
  }
  type LiveClient = Client & { connected?: boolean; closed: boolean; conn: Socket; clean: boolean; subscriptions: Record<string, unknown> };
  const clients = () => (broker as unknown as { clients: Record<string, LiveClient | undefined> }).clients;
  const isLive = (c: LiveClient | undefined): c is LiveClient => !!c && !!c.connected && !c.closed && !c.conn.destroyed;
  const live = () => Object.values(clients()).filter(isLive);
  // one terminal's client by its id (aedes keys its table by client id): no scan of the fleet per login
  const subscribed = (terminal: string) => {
    const c = clients()[terminal];
    return isLive(c) && !!c.subscriptions[downTopic(terminal)];
  };
  broker.on("clientReady", (c: Client) => {
    o.onPresence?.(c.id, true);
    if (subscribed(c.id)) o.onSubscribed?.(c.id, (c as LiveClient).clean);
  });
  broker.on("clientDisconnect", (c: Client) => {
    // a session taken over by a new connection of the same terminal is still here
    if (c && !isLive(clients()[c.id])) o.onPresence?.(c.id, false);
  });
  broker.on("subscribe", (subs: Array<{ topic: string }>, c: Client) => {
    if (c && subs.some((x) => x.topic === downTopic(c.id)) && subscribed(c.id)) o.onSubscribed?.(c.id, (c as LiveClient).clean);
  });
  (broker as unknown as { on(e: "ack", f: (packet: { topic?: string; payload?: Buffer } | undefined, c: Client) => void): void }).on("ack", (packet, c) => {
    if (c && packet?.payload && packet.topic === downTopic(c.id)) o.onAcked?.(c.id, new Uint8Array(packet.payload));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  const tlsAddress = tlsServer?.address();
  return {
    port,
    tlsPort: typeof tlsAddress === "object" && tlsAddress ? tlsAddress.port : null,
    counts,
    sendDown(terminal, payload) {
      return new Promise((resolve, reject) =>
        broker.publish(
          { cmd: "publish", topic: downTopic(terminal), payload: Buffer.from(payload), qos: 1, retain: false, dup: false } as any,
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    // Presence is the broker's own table of live clients, each still connected on an open socket.
    connected: () => live().map((c) => c.id),
    isConnected: (terminal) => isLive(clients()[terminal]),
    subscribed,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (tlsServer) await new Promise<void>((resolve) => tlsServer?.close(() => resolve()));
    },
  };
}
