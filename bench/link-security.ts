/**
 * What confidentiality costs on the cellular link, in bytes a month (issue #12, item 10): the
 * routine sessions of a terminal — dial, MQTT CONNECT with its secret, SUBSCRIBE to its downlink
 * topic, the daily test call (and a period report), DISCONNECT — carried to a real center
 * (aedes + SQLite) over a real socket on loopback, counted on the client's TCP socket (TCP
 * payload both ways; IP and TCP headers come on top):
 *
 *   plain      MQTT over TCP, as today (port 1883)
 *   tls13      TLS 1.3, the center's ECDSA P-256 certificate pinned on the terminal, full handshake
 *   tls13-res  TLS 1.3 resuming the previous session (a session ticket: no certificate sent)
 *   tls12-psk  TLS 1.2 with a per-terminal pre-shared key (PSK-AES128-GCM-SHA256): no certificate;
 *              the center's own listener (--mqtt-tls-port)
 *   app-aead   an application-layer scheme in the manner of SIA DC-09: each payload AES-128-GCM
 *              under a per-terminal key with a 4-byte counter and timestamp, 12-byte nonce and
 *              16-byte tag; the CONNECT password replaced by a MAC over (terminal, time, counter).
 *              Computed from the encoded packets (the center does not speak it), not sent.
 *
 * The TLS 1.3 server is Node's (OpenSSL) in front of the center's MQTT port, as a TLS-terminating
 * listener would be; the terminal's side would be the SIM7600's own SSL stack (AT+CCH…), whose
 * handshake bytes depend on its TLS implementation: these figures are OpenSSL's on both ends.
 *
 * Then the real path (issue #12 item 10 built): the firmware under XS dials the emulated SIM7600,
 * plain (AT+CIPOPEN) and TLS 1.2 PSK (AT+CCHOPEN: the modem emulation's node:tls client with the
 * terminal's provisioned key) to the same center; the bytes of the routine hourly test-call
 * session (testHours 1, after the first boot's registration), counted on the modem's TCP socket.
 *
 * Run: npm run build && node dist/bench/link-security.js
 */
import { spawnSync } from "node:child_process";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect, createServer as createTlsServer } from "node:tls";
import mqttPacket from "mqtt-packet";
import { LINK_PSK_CIPHERS } from "../center/broker";
import { linkModem } from "../host-sim/devices/modem";
import { manifestConfig } from "../host-sim/project";
import { Simulator } from "../host-sim/simulator";
import { startCenter } from "../center/center";
import { parseTime } from "../firmware/core/time";
import { type Message, downTopic, encodeMessage, upTopic } from "../firmware/uplink/messages";

const TERMINAL = "T0001";
const SECRET = "0123456789abcdef0123456789abcdef"; // a 128-bit secret as the center issues them
const t0 = parseTime("2026-04-16T23:00", "t");
const TEST: Message = { name: "test", terminal: TERMINAL, seq: 1, time: t0, body: { boots: 3, outbox: 0, signal: 18, uptime: 86400, tariffVersion: 0 } };
const PERIOD: Message = {
  name: "period",
  terminal: TERMINAL,
  seq: 2,
  time: t0,
  body: {
    start: t0 - 10800, end: t0, pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120, guardedSeconds: 10800, baseYen: 360, yen: 288, images: 0,
    intervals: [[t0 - 10800, t0, 2, 1, 0, 0, 0, 800]], rateSeconds: 1296000, permille: 800, countsTaken: 28, cardId: "C-1", contract: "continuous",
  },
};

type Variant = "plain" | "tls13" | "tls13-res" | "tls12-psk";

interface Figures {
  up: number;
  down: number;
}

/** One routine session over `sock` (already connected, TLS established if any); resolves at the broker's last answer. */
function session(sock: Socket | TLSSocket, messages: Message[], password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const waiting: string[] = ["connack", "suback", ...messages.map(() => "puback")];
    const send = (p: object) => sock.write(mqttPacket.generate(p as mqttPacket.Packet));
    parser.on("packet", (p: mqttPacket.Packet) => {
      if (p.cmd !== waiting[0]) return reject(new Error(`expected ${waiting[0]}, got ${p.cmd}`));
      waiting.shift();
      if (p.cmd === "connack") {
        if ((p as mqttPacket.IConnackPacket).returnCode !== 0) return reject(new Error(`refused ${(p as mqttPacket.IConnackPacket).returnCode}`));
        send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: downTopic(TERMINAL), qos: 1 }] });
      } else if (p.cmd === "suback") {
        messages.forEach((m, i) => send({ cmd: "publish", topic: upTopic(TERMINAL), payload: Buffer.from(encodeMessage(m)), qos: 1, messageId: 2 + i, retain: false, dup: false }));
      }
      if (waiting.length === 0) {
        send({ cmd: "disconnect" });
        sock.end();
        resolve();
      }
    });
    sock.on("data", (d) => parser.parse(d));
    sock.on("error", reject);
    send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: TERMINAL, clean: false, keepalive: 60, username: TERMINAL, password: Buffer.from(password) });
  });
}

function certificate(dir: string): { key: Buffer; cert: Buffer } {
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "30", "-subj", "/CN=center.timeguard.test"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
}

/** The size of the packets a terminal would send under app-aead, against plain (computed, not sent). */
function appAeadOverhead(messages: Message[]): number {
  const key = randomBytes(16);
  const plainPub = (m: Message) => mqttPacket.generate({ cmd: "publish", topic: upTopic(TERMINAL), payload: Buffer.from(encodeMessage(m)), qos: 1, messageId: 2, retain: false, dup: false } as mqttPacket.Packet).length;
  const sealedPub = (m: Message) => {
    const nonce = randomBytes(12);
    const c = createCipheriv("aes-128-gcm", key, nonce);
    const counterAndTime = Buffer.alloc(8);
    const body = Buffer.concat([c.update(Buffer.concat([counterAndTime, Buffer.from(encodeMessage(m))])), c.final(), c.getAuthTag()]);
    return mqttPacket.generate({ cmd: "publish", topic: upTopic(TERMINAL), payload: Buffer.concat([nonce, body]), qos: 1, messageId: 2, retain: false, dup: false } as mqttPacket.Packet).length;
  };
  const connect = (password: Buffer) => mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: TERMINAL, clean: false, keepalive: 60, username: TERMINAL, password } as mqttPacket.Packet).length;
  // the password: time (4) + counter (4) + HMAC-SHA256 truncated to 16 bytes, instead of the secret
  const token = Buffer.concat([Buffer.alloc(8), createHmac("sha256", key).update("t").digest().subarray(0, 16)]);
  return connect(token) - connect(Buffer.from(SECRET)) + messages.reduce((n, m) => n + sealedPub(m) - plainPub(m), 0);
}

/** The firmware's own routine session over the emulated modem (plain or TLS PSK): TCP payload up/down. */
async function firmwareSession(tls: boolean): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-linksec-fw-"));
  const center = await startCenter({ dataDir: join(dir, "center"), mqttPort: 0, mqttTlsPort: 0, httpPort: 0 });
  center.addTerminal({ id: TERMINAL, secret: SECRET, site: "Bench home" });
  const link = {
    ...(manifestConfig().link as object),
    address: "127.0.0.1",
    secret: SECRET,
    testHours: 1,
    ...(tls ? { port: center.mqttTlsPort, psk: center.linkPsk(TERMINAL).toString("hex") } : { port: center.mqttPort }),
  };
  const sim = await Simulator.start({ engine: "xs", startMs: t0 * 1000, config: { link } });
  const modem = linkModem(sim);
  const bytes = () => (tls ? { up: modem.wireUp, down: modem.wireDown } : { up: modem.bytesUp, down: modem.bytesDown });
  try {
    const idleAfter = async (sessions: number) => {
      for (let i = 0; i < 2000; i++) {
        const s = await sim.snapshot();
        if (s.uplink.sessions >= sessions && s.uplink.state === "idle" && s.outbox.items === 0) return;
        await sim.advance(10_000);
      }
      throw new Error("the session did not end");
    };
    await idleAfter(1); // first boot: registration + test call
    await sim.advance(5_000);
    const before = bytes();
    await idleAfter(2); // the next test call, an hour later
    await sim.advance(5_000);
    const after = bytes();
    return { up: after.up - before.up, down: after.down - before.down };
  } finally {
    await sim.close();
    modem.close();
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await models();
  console.log("\nthe real path: firmware under XS, emulated SIM7600, the routine test-call session (CONNECT, SUBSCRIBE, PUBLISH + PUBACK, DISCONNECT)");
  for (const tls of [false, true]) {
    const f = await firmwareSession(tls);
    const total = f.up + f.down;
    console.log(`  ${(tls ? "tls12-psk (AT+CCH…)" : "plain (AT+CIP…)").padEnd(20)} ${String(f.up).padStart(5)} up ${String(f.down).padStart(5)} down = ${String(total).padStart(5)} B/session; 30 a month: ${((total * 30) / 1024).toFixed(1).padStart(5)} KiB`);
  }
}

async function models(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-linksec-"));
  const center = await startCenter({ dataDir: join(dir, "center"), mqttPort: 0, mqttTlsPort: 0, httpPort: 0, brokerLimits: { loginBurst: 1000 } });
  const { key, cert } = certificate(dir);
  const front = (tlsOptions: object) => {
    const server = createTlsServer(tlsOptions, (s) => {
      const up = tcpConnect(center.mqttPort, "127.0.0.1");
      s.pipe(up).pipe(s);
      s.on("error", () => up.destroy());
      up.on("error", () => s.destroy());
    });
    return new Promise<{ port: number; close: () => void }>((r) => server.listen(0, "127.0.0.1", () => r({ port: (server.address() as { port: number }).port, close: () => server.close() })));
  };
  try {
    center.addTerminal({ id: TERMINAL, secret: SECRET, site: "Bench home" });
    const certFront = await front({ key, cert, minVersion: "TLSv1.3" });
    const psk = center.linkPsk(TERMINAL); // the center's own TLS-PSK listener (--mqtt-tls-port)
    let ticket: Buffer | undefined;
    const run = async (variant: Variant, messages: Message[]): Promise<Figures> => {
      const raw = await new Promise<Socket>((resolve, reject) => {
        const s = tcpConnect(variant === "plain" ? center.mqttPort : variant === "tls12-psk" ? (center.mqttTlsPort as number) : certFront.port, "127.0.0.1", () => resolve(s));
        s.on("error", reject);
      });
      let sock: Socket | TLSSocket = raw;
      if (variant !== "plain") {
        sock = await new Promise<TLSSocket>((resolve, reject) => {
          const opts =
            variant === "tls12-psk"
              ? { socket: raw, ciphers: LINK_PSK_CIPHERS, maxVersion: "TLSv1.2" as const, checkServerIdentity: () => undefined, pskCallback: () => ({ psk, identity: TERMINAL }) }
              : { socket: raw, ca: cert, servername: "center.timeguard.test", minVersion: "TLSv1.3" as const, session: variant === "tls13-res" ? ticket : undefined };
          const s = tlsConnect(opts, () => resolve(s));
          s.on("session", (t: Buffer) => (ticket = t));
          s.on("error", reject);
        });
        if (variant === "tls13-res" && !(sock as TLSSocket).isSessionReused()) throw new Error("the session was not resumed");
      }
      await session(sock, messages, SECRET);
      await new Promise((r) => raw.once("close", r));
      return { up: raw.bytesWritten, down: raw.bytesRead };
    };
    const sessions: Array<[string, Message[]]> = [
      ["test call", [TEST]],
      ["test call + period report", [{ ...TEST, seq: 10 }, { ...PERIOD, seq: 11 }]],
    ];
    console.log("bytes per session (TCP payload, up/down), and a month of 30 such sessions");
    let seq = 100;
    const renumber = (ms: Message[]) => ms.map((m) => ({ ...m, seq: seq++ }));
    for (const [label, messages] of sessions) {
      const rows: Array<[string, Figures]> = [];
      for (const v of ["plain", "tls13", "tls13-res", "tls12-psk"] as const) {
        if (v === "tls13-res") await run("tls13", renumber(messages)); // a fresh ticket
        rows.push([v, await run(v, renumber(messages))]);
      }
      const plain = rows[0][1];
      const extra = appAeadOverhead(messages);
      rows.push(["app-aead", { up: plain.up + extra, down: plain.down }]);
      console.log(`\n${label}:`);
      for (const [v, f] of rows) {
        const total = f.up + f.down;
        console.log(`  ${v.padEnd(10)} ${String(f.up).padStart(5)} up ${String(f.down).padStart(5)} down = ${String(total).padStart(5)} B/session; 30 a month: ${(total * 30 / 1024).toFixed(1).padStart(5)} KiB (+${(((total - plain.up - plain.down) * 30) / 1024).toFixed(1)} KiB over plain)`);
      }
    }
    certFront.close();
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
