import { Aedes, type AuthErrorCode, type AuthenticateError, type Client } from "aedes";
import { createServer, type Server } from "node:net";
import { downTopic, upTopic } from "../firmware/uplink/messages";
import type { Ingestor } from "./ingest";
import type { CenterStore } from "./store/center-store";
import { type TerminalKey, isLegacyTerminalHash, verifySecretAsync } from "./secrets";

export interface BrokerOptions {
  store: CenterStore;
  ingestor: Ingestor;
  /** the key of terminal-secret hashes (center/secrets.ts) */
  terminalKey: TerminalKey;
  port: number;
  host?: string;
  log?: (line: string) => void;
}

export interface Broker {
  readonly port: number;
  /** Publishes to a terminal's downlink (QoS 1; queued while it is offline, persistent session). */
  sendDown(terminal: string, payload: Uint8Array): Promise<void>;
  connected(): string[];
  readonly counts: { refusedLogins: number; refusedPublish: number; refusedSubscribe: number };
  close(): Promise<void>;
}

/** CONNACK return code 4 (aedes declares its codes as a const enum, unusable across modules). */
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
  const counts = { refusedLogins: 0, refusedPublish: 0, refusedSubscribe: 0 };
  const log = o.log ?? (() => undefined);
  const broker = await Aedes.createBroker({
    authenticate(client: Client, username, password, done) {
      const refuse = () => {
        counts.refusedLogins++;
        log(`login refused for ${client.id}`);
        done(authError("bad credentials", BAD_USERNAME_OR_PASSWORD), false);
      };
      checkTerminalLogin(o.store, o.terminalKey, client.id, username, password).then((ok) => (ok ? done(null, true) : refuse()), refuse);
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null); // the center's own downlink
      if (packet.topic !== upTopic(client.id)) {
        counts.refusedPublish++;
        log(`${client.id} may not publish to ${packet.topic}`);
        return callback(new Error("not your topic"));
      }
      // Group commit: the callback (and with it aedes's PUBACK) comes once the batch is stored.
      o.ingestor.submit(client.id, packet.topic, packet.payload as Buffer, (r) => callback(r instanceof Error ? r : null));
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
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  const clients = new Set<string>();
  broker.on("clientReady", (c: Client) => clients.add(c.id));
  broker.on("clientDisconnect", (c: Client) => clients.delete(c.id));
  return {
    port,
    counts,
    sendDown(terminal, payload) {
      return new Promise((resolve, reject) =>
        broker.publish(
          { cmd: "publish", topic: downTopic(terminal), payload: Buffer.from(payload), qos: 1, retain: false, dup: false } as any,
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    connected: () => [...clients],
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
