import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Center, type CenterOptions, startCenter } from "../center/center";
import { upTopic } from "../firmware/uplink/messages";
import { RawMqtt } from "./helpers/mqtt-raw";

async function withCenter(body: (c: Center, dir: string) => Promise<void>, o: Partial<CenterOptions> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-attack-"));
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0, ...o });
  center.addTerminal({ id: "T0001", secret: "s3cret-1", site: "Tanaka home" });
  try {
    await body(center, dir);
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves true when the socket closes within `ms`. */
function closesWithin(c: RawMqtt, ms: number): Promise<boolean> {
  if (c.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    c.socket.once("close", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

test("a CONNECT declaring 256 MB is cut off at its header, before its body is buffered", async (t) => {
  await withCenter(async (center) => {
    const c = await RawMqtt.open(center.mqttPort);
    // fixed header: CONNECT, remaining length 268,435,455 (the MQTT maximum), then a trickle of body
    c.raw(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0x7f));
    c.raw(new Uint8Array(1024));
    t.true(await closesWithin(c, 2000), "closed at once, not after the connect timeout");
    t.is(center.broker.counts.oversized, 1);
  });
});

test("a logged-in terminal's publish larger than a media chunk closes its connection and is not acknowledged", async (t) => {
  await withCenter(async (center) => {
    const { client, returnCode } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    t.is(returnCode, 0);
    const acked = await client.publish(upTopic("T0001"), new Uint8Array(100 * 1024), 1);
    t.false(acked);
    t.true(client.closed);
    t.is(center.ingestor.counts.rejected, 0, "nothing of it reached ingestion");
  });
});

test("wrong passwords from one address are answered 'server unavailable' once its login budget is spent, without a hash", async (t) => {
  await withCenter(
    async (center) => {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const { client, returnCode } = await RawMqtt.login(center.mqttPort, "T0001", "wrong-" + i, false, "127.0.0.2");
        codes.push(returnCode);
        client.close();
      }
      t.deepEqual(codes, [4, 4, 4, 3, 3, 3]);
      // another address still logs the real terminal in (the ID's own budget is larger)
      const ok = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false, "127.0.0.3");
      t.is(ok.returnCode, 0);
      ok.client.close();
    },
    { brokerLimits: { loginBurst: 3, loginRefillMs: 60_000 } },
  );
});

test("wrong passwords for one terminal ID from many addresses are limited per ID too, but not from its own last address", async (t) => {
  await withCenter(
    async (center) => {
      const first = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false, "127.0.1.200");
      t.is(first.returnCode, 0);
      first.client.close();
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { client, returnCode } = await RawMqtt.login(center.mqttPort, "T0001", "wrong", false, `127.0.1.${i + 1}`);
        codes.push(returnCode);
        client.close();
      }
      t.deepEqual(codes, [4, 4, 4, 3, 3]);
      // the terminal itself, dialling from the address of its last good login, still gets in
      const home = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false, "127.0.1.9");
      t.is(home.returnCode, 3, "a new address waits like any stranger");
      home.client.close();
      const back = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false, "127.0.1.200");
      t.is(back.returnCode, 0);
      back.client.close();
    },
    { brokerLimits: { loginBurst: 50, terminalLoginBurst: 3, terminalLoginRefillMs: 60_000 } },
  );
});

test("connections per address are rate-limited before any MQTT is read", async (t) => {
  await withCenter(
    async (center) => {
      const opened: RawMqtt[] = [];
      for (let i = 0; i < 4; i++) opened.push(await RawMqtt.open(center.mqttPort, "127.0.0.4"));
      t.deepEqual(await Promise.all(opened.map((c) => closesWithin(c, 500))), [false, false, true, true]);
      for (const c of opened) c.close();
      t.is(center.broker.counts.refusedConnections, 2);
    },
    { brokerLimits: { connectionBurst: 2, connectionRefillMs: 60_000 } },
  );
});

test("an address a terminal logged in from (a carrier's NAT) gets the large connection bucket; a stranger's stays small", async (t) => {
  await withCenter(
    async (center) => {
      const carrier = "127.0.0.5";
      const stranger = "127.0.0.6";
      const first = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false, carrier);
      t.is(first.returnCode, 0);
      first.client.close();
      const fromCarrier: RawMqtt[] = [];
      const fromStranger: RawMqtt[] = [];
      for (let i = 0; i < 6; i++) fromCarrier.push(await RawMqtt.open(center.mqttPort, carrier));
      for (let i = 0; i < 6; i++) fromStranger.push(await RawMqtt.open(center.mqttPort, stranger));
      t.deepEqual(await Promise.all(fromCarrier.map((c) => closesWithin(c, 300))), [false, false, false, false, false, false]);
      t.deepEqual(await Promise.all(fromStranger.map((c) => closesWithin(c, 300))), [false, false, true, true, true, true]);
      for (const c of [...fromCarrier, ...fromStranger]) c.close();
      t.is(center.broker.counts.refusedConnections, 4);
    },
    { brokerLimits: { connectionBurst: 2, connectionRefillMs: 60_000, carrierConnectionBurst: 10, carrierConnectionRefillMs: 60_000 } },
  );
});

test.serial("an unknown terminal ID costs the same hash as a known one with a wrong secret (timing tells nothing)", async (t) => {
  await withCenter(async (center) => {
    const time = async (id: string, from: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const { client, returnCode } = await RawMqtt.login(center.mqttPort, id, "wrong-secret", false, from);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      client.close();
      t.is(returnCode, 4);
      return ms;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time("T0001", `127.0.2.${i + 1}`));
      unknown.push(await time(`X${i}`, `127.0.3.${i + 1}`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2];
    // scrypt takes tens of ms; an unknown ID answered without it took under 2 ms before this check
    t.true(median(unknown) > median(known) * 0.4, `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`);
  }, { brokerLimits: { loginBurst: 10 } });
});

test("presence: a terminal whose connection closes right after CONNECT is not shown online", async (t) => {
  await withCenter(async (center) => {
    const { client, returnCode } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    t.is(returnCode, 0);
    // aedes marks the client connected as it finishes the CONNECT it has just answered
    for (let i = 0; i < 40 && center.broker.connected().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    t.deepEqual(center.broker.connected(), ["T0001"]);
    client.close();
    for (let i = 0; i < 40 && center.broker.connected().length; i++) await new Promise((r) => setTimeout(r, 25));
    t.deepEqual(center.broker.connected(), []);
    // CONNECT written and the socket closed at once, before the login is answered
    const c = await RawMqtt.open(center.mqttPort);
    c.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "T0001", username: "T0001", password: Buffer.from("s3cret-1"), clean: false, keepalive: 60 } as any);
    c.socket.end();
    c.close();
    await new Promise((r) => setTimeout(r, 500));
    t.deepEqual(center.broker.connected(), []);
  });
});
