import test from "ava";
import { spawnSync } from "node:child_process";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import mqttPacket from "mqtt-packet";
import { LINK_PSK_CIPHERS } from "../center/broker";
import { type Message, encodeMessage, upTopic } from "../firmware/uplink/messages";
import { projectRoot } from "../host-sim/project";
import { SECRETS, s, withWebCenter } from "./helpers/center-web";

/** A TLS 1.2 PSK connection as a terminal's modem would open it; rejects when the handshake fails. */
function tlsPsk(port: number, identity: string, psk: Buffer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: "127.0.0.1", port, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: LINK_PSK_CIPHERS, checkServerIdentity: () => undefined, pskCallback: () => ({ psk, identity }) }, () => resolve(sock));
    sock.on("error", reject);
  });
}

/** CONNECT with the terminal's secret, then each message as a QoS 1 PUBLISH; the packets the center answered. */
function mqttSession(sock: NodeJS.ReadWriteStream & { end(): void }, terminal: string, secret: string, messages: Message[]): Promise<mqttPacket.Packet[]> {
  return new Promise((resolve) => {
    const got: mqttPacket.Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const finish = () => resolve(got);
    parser.on("packet", (p: mqttPacket.Packet) => {
      got.push(p);
      if (p.cmd === "connack" && (p as mqttPacket.IConnackPacket).returnCode === 0) {
        messages.forEach((m, i) => sock.write(mqttPacket.generate({ cmd: "publish", topic: upTopic(terminal), payload: Buffer.from(encodeMessage(m)), qos: 1, messageId: 1 + i, retain: false, dup: false } as mqttPacket.Packet)));
      }
      if (got.filter((x) => x.cmd === "puback").length === messages.length || (p.cmd === "connack" && (p as mqttPacket.IConnackPacket).returnCode !== 0)) sock.end();
    });
    sock.on("data", (d: Buffer) => parser.parse(d));
    sock.on("close", finish);
    sock.on("end", finish);
    sock.on("error", finish);
    sock.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: terminal, clean: false, keepalive: 60, username: terminal, password: Buffer.from(secret) } as mqttPacket.Packet));
  });
}

const testCall = (seq: number): Message => ({ name: "test", terminal: "T0001", seq, time: s("2026-04-28T03:00"), body: { boots: 1, outbox: 0 } });

test("MQTT on TLS 1.2 PSK: a terminal with its key logs in and reports; a wrong key, another terminal's key, plain MQTT or an oversized CONNECT on that port get nothing", async (t) => {
  await withWebCenter(
    async ({ center, dir }) => {
      const port = center.mqttTlsPort as number;
      t.true(port > 0);
      const psk = center.linkPsk("T0001");
      t.is(psk.length, 16);
      t.notDeepEqual(center.linkPsk("T0002"), psk);

      // its own key: TLS, login with its secret, a test call stored
      const ok = await tlsPsk(port, "T0001", psk);
      t.is(ok.getCipher().name, "PSK-AES128-GCM-SHA256");
      const answers = await mqttSession(ok, "T0001", SECRETS.T0001, [testCall(1)]);
      t.deepEqual(answers.map((p) => p.cmd), ["connack", "puback"]);
      t.is(center.store.messageCount(), 1, "the report is stored");
      t.truthy(center.store.terminal("T0001")?.lastTest, "as the terminal's test call");

      // a wrong key: the handshake fails, nothing reaches MQTT
      await t.throwsAsync(tlsPsk(port, "T0001", Buffer.alloc(16, 7)));
      // another terminal's key with T0001's id and secret: the login is refused
      const other = await tlsPsk(port, "T0002", center.linkPsk("T0002"));
      const refused = await mqttSession(other, "T0001", SECRETS.T0001, [testCall(2)]);
      t.deepEqual(refused.map((p) => [p.cmd, (p as mqttPacket.IConnackPacket).returnCode]), [["connack", 4]]);
      // plain MQTT on the TLS port: no CONNACK
      const plain = tcpConnect(port, "127.0.0.1");
      t.deepEqual(await mqttSession(plain, "T0001", SECRETS.T0001, [testCall(3)]), []);
      t.true(center.broker.counts.tlsHandshakesFailed >= 2);
      t.is(center.store.messageCount(), 1, "nothing else was stored");

      // the pre-login packet limit holds on TLS too: a CONNECT claiming 268 MB is cut off at once
      const big = await tlsPsk(port, "T0001", psk);
      const closed = new Promise((r) => big.on("close", r));
      big.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      await closed;
      t.is(center.broker.counts.oversized, 1);

      // the provisioning tool prints the same key
      const r = spawnSync(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "center", "terminal-psk", "--data", dir, "--terminal", "T0001"], { encoding: "utf8" });
      t.is(r.status, 0, r.stderr);
      t.is(r.stdout.trim(), psk.toString("hex"));
    },
    { mqttTlsPort: 0 },
  );
});
