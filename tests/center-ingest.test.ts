import type { ExecutionContext } from "ava";
import { encode } from "cbor-x";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Center, startCenter } from "../center/center";
import { exportData } from "../center/export";
import type { SqlStore } from "../center/store/sql-store";
import { parseTime } from "../firmware/core/time";
import { Message, downTopic, encodeMessage, messageFromCbor, upTopic } from "../firmware/uplink/messages";
import { projectRoot } from "../host-sim/project";
import { RawMqtt } from "./helpers/mqtt-raw";
import { type StoreEngine, storeEngines } from "./helpers/stores";

// Every test here runs on both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

async function withCenter(engine: StoreEngine, body: (c: Center, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-center-"));
  const center = await startCenter({ dataDir: dir, store: engine.fresh(), mqttPort: 0, httpPort: 0 });
  center.addTerminal({ id: "T0001", secret: "s3cret-1", site: "Tanaka home" });
  center.addTerminal({ id: "T0002", secret: "s3cret-2", site: "Suzuki home" });
  try {
    await body(center, dir);
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (local: string) => parseTime(local, "t");

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function periodMessage(seq: number, overrides: Record<string, unknown> = {}): Message {
  return {
    name: "period",
    terminal: "T0001",
    seq,
    time: s("2026-04-16T23:00"),
    body: {
      start: s("2026-04-16T20:00"),
      end: s("2026-04-16T23:00"),
      pattern: 1,
      sensors: 2,
      cameras: 1,
      yenPerHour: 120,
      guardedSeconds: 10800,
      baseYen: 360,
      yen: 288,
      images: 0,
      intervals: [[s("2026-04-16T20:00"), s("2026-04-16T23:00"), 2, 1, 0, 0, 0, 800]],
      rateSeconds: 1296000,
      permille: 800,
      countsTaken: 28,
      cardId: "C-000123",
      contract: "continuous",
      ...overrides,
    },
  };
}

each("a period report is stored exactly once, whatever the re-sends, and its fee is recomputed", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const { client, returnCode } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    t.is(returnCode, 0);
    const bytes = encodeMessage(periodMessage(7));
    t.true(await client.publish(upTopic("T0001"), bytes, 1));
    t.true(await client.publish(upTopic("T0001"), bytes, 1, true), "a DUP re-send is acknowledged");
    t.true(await client.publish(upTopic("T0001"), bytes, 2), "a re-send after reconnecting with a new packet id too");
    client.close();
    const periods = center.store.periods("T0001");
    t.is(periods.length, 1);
    t.like(periods[0], { yen: 288, centerYen: 288, feeMismatch: null, countsTaken: 28, baseYen: 360 });
    t.deepEqual(center.ingestor.counts, { stored: 1, duplicate: 2, rejected: 0 });
  });
});

each("a collected fee that the center's recomputation disagrees with is flagged", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const { client } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    await client.publish(upTopic("T0001"), encodeMessage(periodMessage(8, { yen: 300 })), 1);
    client.close();
    const [p] = center.store.periods("T0001");
    t.is(p.centerYen, 288);
    t.regex(p.feeMismatch ?? "", /300 yen collected, 288 yen recomputed/);
  });
});

each("an alarm and its three images in chunks (out of order, one chunk twice) become whole files", async (t, engine) => {
  await withCenter(engine, async (center, dir) => {
    const { client } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    let seq = 100;
    const send = (m: Omit<Message, "seq" | "terminal">) => client.publish(upTopic("T0001"), encodeMessage({ ...m, terminal: "T0001", seq: seq++ }), seq);
    await send({ name: "alarm", time: s("2026-04-28T02:10"), body: { alarmId: 1, sensor: "A0001", event: "burglary", contactId: 130, pattern: 3, mediaId: 5, images: 3, clips: 0 } });
    const images = [0, 1, 2].map((i) => Uint8Array.from({ length: 700 + i * 13 }, (_, k) => (k * 7 + i) & 255));
    const chunks: Message[] = [];
    images.forEach((img, item) => {
      const parts = Math.ceil(img.length / 256);
      for (let part = 0; part < parts; part++) {
        chunks.push({ name: "media", terminal: "T0001", seq: 0, time: s("2026-04-28T02:10"), body: { mediaId: 5, alarmId: 1, item, items: 3, type: "jpeg", part, parts, data: img.subarray(part * 256, (part + 1) * 256) } });
      }
    });
    chunks.forEach((c, i) => (c.seq = 200 + i));
    const order = chunks.map((_, i) => i).reverse();
    for (const i of order) t.true(await client.publish(upTopic("T0001"), encodeMessage(chunks[i]), 1000 + i));
    t.true(await client.publish(upTopic("T0001"), encodeMessage(chunks[3]), 3000, true));
    client.close();
    const alarms = center.store.alarms("T0001");
    t.is(alarms.length, 1);
    t.like(alarms[0], { sensor: "A0001", contactId: 130, mediaId: 5, images: 3 });
    const media = center.store.media("T0001");
    t.is(media.length, 3);
    for (const m of media) {
      t.true(m.complete);
      t.deepEqual(new Uint8Array(readFileSync(join(dir, "media", m.path as string))), images[m.item]);
    }
  });
});

each("wrong credentials and unknown terminals are refused", async (t, engine) => {
  await withCenter(engine, async (center) => {
    t.is((await RawMqtt.login(center.mqttPort, "T0001", "guess")).returnCode, 4);
    t.is((await RawMqtt.login(center.mqttPort, "T0009", "s3cret-1")).returnCode, 4);
    t.is((await RawMqtt.login(center.mqttPort, "T0002", "s3cret-1")).returnCode, 4, "another terminal's secret");
    t.is(center.broker.counts.refusedLogins, 3);
  });
});

each("a terminal may publish and subscribe only under its own topics", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const { client } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    t.deepEqual(await client.subscribe(downTopic("T0002")), [128], "another's downlink is refused");
    t.deepEqual(await client.subscribe("tg/#", 2), [128]);
    t.deepEqual(await client.subscribe(downTopic("T0001"), 3), [1]);
    const forged = encodeMessage({ ...periodMessage(9), terminal: "T0002" });
    t.false(await client.publish(upTopic("T0002"), forged, 4), "publishing under another's topic closes the connection");
    t.is(center.store.periods().length, 0);
    t.is(center.broker.counts.refusedPublish, 1);
    // Its own topic but another terminal's id inside: stored as a reject, not as data.
    const again = (await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1")).client;
    t.true(await again.publish(upTopic("T0001"), forged, 5));
    again.close();
    t.is(center.store.periods().length, 0);
    t.regex(center.store.rejects()[0].reason, /T0002 published by T0001/);
  });
});

each("malformed CBOR and MQTT from a rogue client leave the center running and the data intact", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const { client } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    t.true(await client.publish(upTopic("T0001"), encodeMessage(periodMessage(1)), 1));
    const garbage: Uint8Array[] = [
      Uint8Array.of(0xff, 0x00, 0x13),
      encode("just a string"),
      encode(new Map<number, unknown>([[0, 4], [1, "T0001"], [2, 2], [3, 5]])),
      encode(new Map<number, unknown>([[0, 99], [1, "T0001"], [2, 3], [3, 5], [4, new Map()]])),
      encodeMessage({ ...periodMessage(4), body: { ...periodMessage(4).body, intervals: [[1, 0, 2, 1, 0, 0, 0, 800]] } }),
      encode(new Map<number, unknown>([[0, 104], [1, "T0001"], [2, 6], [3, 5], [4, new Map([[1, {}]])]])), // a downlink kind sent up
      new Uint8Array(16 * 1024 + 100), // over the payload schema's media limit, under the broker's packet limit
    ];
    let id = 10;
    for (const g of garbage) t.true(await client.publish(upTopic("T0001"), g, id++), "acknowledged: re-sending it cannot help");
    t.is(center.ingestor.counts.rejected, garbage.length);
    t.is(center.store.rejects().length, garbage.length);
    // Raw garbage on the wire: the broker drops that connection only.
    const rogue = await RawMqtt.open(center.mqttPort);
    rogue.raw(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3));
    t.is(await rogue.next("connack"), null);
    // The center still serves, and the stored period is intact.
    const { returnCode } = await RawMqtt.login(center.mqttPort, "T0002", "s3cret-2");
    t.is(returnCode, 0);
    t.is(center.store.periods().length, 1);
    t.like(center.store.periods()[0], { yen: 288, centerYen: 288 });
    client.close();
  });
});

each("downlink: a terminal offline with a persistent session gets its messages when it dials in", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const first = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false);
    t.deepEqual(await first.client.subscribe(downTopic("T0001")), [1]);
    first.client.close();
    await new Promise((r) => setTimeout(r, 100));
    await center.sendDown("T0001", "dispatch", { alarmId: 1, status: "dispatched", note: "guards on the way" });
    const back = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1", false);
    t.true(back.sessionPresent);
    const p = (await back.client.next("publish")) as any;
    t.truthy(p);
    const m = messageFromCbor((await import("cbor-x")).decode(p.payload));
    t.is(m.name, "dispatch");
    t.deepEqual(m.body, { alarmId: 1, status: "dispatched", note: "guards on the way" });
    back.client.close();
  });
});

each("the store migrates once and keeps its data across restarts; export prints it", async (t, engine) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-center-"));
  try {
    const store = engine.fresh();
    let center = await startCenter({ dataDir: dir, store, mqttPort: 0, httpPort: 0 });
    center.addTerminal({ id: "T0001", secret: "s3cret-1", site: "Tanaka home" });
    const { client } = await RawMqtt.login(center.mqttPort, "T0001", "s3cret-1");
    await client.publish(upTopic("T0001"), encodeMessage(periodMessage(1)), 1);
    client.close();
    await center.close();
    center = await startCenter({ dataDir: dir, store, mqttPort: 0, httpPort: 0 });
    t.is((center.store as SqlStore).schemaVersion, (await import("../center/store/migrations")).MIGRATIONS.length);
    t.is(center.store.periods().length, 1);
    const data = exportData(center.store) as any;
    t.deepEqual(data.totals, [{ terminal: "T0001", periods: 1, totalYen: 288, countsTaken: 28, mismatches: 0 }]);
    await center.close();
    // (spawned, not spawnSync: a blocked event loop would stall the tests running beside this one)
    const r = await run([join(projectRoot(), "bin", "timeguard.js"), "center", "export", "--data", dir, ...(store ? ["--store", store] : []), "--json"]);
    t.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    t.is(out.periods[0].start, "2026-04-16T20:00");
    t.is(out.sites[0].name, "Tanaka home");
    const missing = await run([join(projectRoot(), "bin", "timeguard.js"), "center", "export", "--data", join(dir, "nope")]);
    t.is(missing.status, 2);
    t.regex(missing.stderr, /no center data/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
