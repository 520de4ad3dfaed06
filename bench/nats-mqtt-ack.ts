// Checks what a NATS server's MQTT side means by a PUBACK (docs/operations.md, "Why not NATS"):
// starts a private nats-server (JetStream on, MQTT on a loopback port) in a temp folder, then
//  1. a terminal publishes 3 QoS 1 reports with no subscriber at all: are they acknowledged?
//  2. a worker subscribes (QoS 1, persistent session) afterwards: does it get them?
//  3. the worker is away, the terminal publishes 3 more, the worker returns: does it get them?
// Prints one JSON object. `npm run build && node dist/bench/nats-mqtt-ack.js` (needs nats-server:
// Debian's package, or NATS_SERVER=path).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as mqtt from "mqtt-packet";
import { freePort } from "../tests/helpers/pg-cluster";

class Client {
  readonly packets: mqtt.Packet[] = [];
  readonly #socket;
  readonly opened = Date.now();

  constructor(port: number, id: string) {
    this.#socket = connect({ port, host: "127.0.0.1" });
    const parser = mqtt.parser({ protocolVersion: 4 });
    parser.on("packet", (p) => this.packets.push(p));
    this.#socket.on("data", (d) => parser.parse(d));
    this.#socket.on("error", () => undefined);
    this.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: id, clean: false, keepalive: 60 } as mqtt.IConnectPacket);
  }

  send(p: mqtt.Packet): void {
    this.#socket.write(mqtt.generate(p));
  }

  count(cmd: string): number {
    return this.packets.filter((p) => p.cmd === cmd).length;
  }

  async until(ok: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return ok();
  }

  close(): void {
    this.#socket.end();
  }
}

async function publishThree(port: number, from: number): Promise<{ pubacks: number; ms: number }> {
  const t = new Client(port, "T1");
  await t.until(() => t.count("connack") === 1, 5000);
  const start = Date.now();
  for (let i = from; i < from + 3; i++) t.send({ cmd: "publish", topic: "tg/T1/up", payload: Buffer.from(`report ${i}`), qos: 1, messageId: i, dup: false, retain: false } as mqtt.IPublishPacket);
  await t.until(() => t.count("puback") === 3, 5000);
  const ms = Date.now() - start;
  t.close();
  return { pubacks: t.count("puback"), ms };
}

async function worker(port: number, waitMs: number): Promise<number> {
  const w = new Client(port, "worker1");
  await w.until(() => w.count("connack") === 1, 5000);
  w.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "tg/+/up", qos: 1 }] } as mqtt.ISubscribePacket);
  await w.until(() => w.count("suback") === 1, 5000);
  await new Promise((r) => setTimeout(r, waitMs));
  for (const p of w.packets) if (p.cmd === "publish" && p.messageId) w.send({ cmd: "puback", messageId: p.messageId } as mqtt.IPubackPacket);
  const n = w.count("publish");
  w.close();
  await new Promise((r) => setTimeout(r, 200));
  return n;
}

async function main(): Promise<void> {
  const bin = process.env.NATS_SERVER ?? "nats-server";
  const dir = mkdtempSync(join(tmpdir(), "tg-nats-"));
  const mqttPort = await freePort();
  const natsPort = await freePort();
  writeFileSync(join(dir, "n.conf"), `listen: 127.0.0.1:${natsPort}\nserver_name: n1\njetstream { store_dir: "${join(dir, "js")}" }\nmqtt { listen: 127.0.0.1:${mqttPort} }\n`);
  let server: ChildProcess | null = null;
  try {
    server = spawn(bin, ["-c", join(dir, "n.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    server.stderr?.on("data", (d) => (log += d));
    const failed = new Promise<never>((_, reject) => server?.on("error", (e) => reject(new Error(`${bin}: ${e.message}`))));
    await Promise.race([failed, (async () => {
      const end = Date.now() + 10_000;
      while (!/Server is ready/.test(log)) {
        if (Date.now() > end) throw new Error(`nats-server did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })()]);
    const version = /Version:\s+(\S+)/.exec(log)?.[1] ?? "?";
    const noSubscriber = await publishThree(mqttPort, 1);
    const lateWorkerGot = await worker(mqttPort, 1000);
    const whileAway = await publishThree(mqttPort, 4);
    const returningWorkerGot = await worker(mqttPort, 1000);
    process.stdout.write(
      JSON.stringify({
        natsServer: version,
        noSubscriber: { published: 3, pubacks: noSubscriber.pubacks, ms: noSubscriber.ms },
        lateWorkerGot,
        workerAway: { published: 3, pubacks: whileAway.pubacks },
        returningWorkerGot,
      }) + "\n",
    );
  } finally {
    server?.kill("SIGTERM");
    if (server && server.exitCode === null) await new Promise((r) => server?.once("close", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
