import type { ExecutionContext } from "ava";
import { decode } from "cbor-x";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Center, startCenter } from "../center/center";
import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import { type Message, downTopic, messageFromCbor } from "../firmware/uplink/messages";
import { SECRETS, alarmMessages, publishAs, s } from "./helpers/center-web";
import { RawMqtt } from "./helpers/mqtt-raw";
import { type StoreEngine, storeEngines } from "./helpers/stores";

// Both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

const OPERATOR = { id: null, username: "op", role: "operator" as const, siteId: null };

async function start(dir: string, store: string | undefined): Promise<Center> {
  const center = await startCenter({ dataDir: dir, store, mqttPort: 0, httpPort: 0 });
  center.addTerminal({ id: "T0001", secret: SECRETS.T0001, site: "Tanaka home" });
  return center;
}

/** The next downlink, acknowledged (PUBACK) unless told not to; null when none comes within `ms`. */
async function receive(client: RawMqtt, ms = 3000, ack = true): Promise<Message | null> {
  let p: { payload: Buffer; messageId: number } | null;
  try {
    p = (await client.next("publish", ms)) as typeof p;
  } catch {
    return null;
  }
  if (!p) return null;
  if (ack) client.send({ cmd: "puback", messageId: p.messageId } as never);
  return messageFromCbor(decode(p.payload));
}

async function until(what: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return what();
}

each("fault: downlinks queued while the terminal is away survive a center restart and are delivered once", async (t, engine) => {
  const store = engine.fresh();
  const dir = mkdtempSync(join(tmpdir(), "tg-downlinks-"));
  try {
    let center = await start(dir, store);
    await publishAs(center, "T0001", alarmMessages({ alarmId: 4, mediaId: 2, pattern: 3, seq: 1, time: s("2026-04-28T02:10") }));
    const r = await center.dispatcher.act(OPERATOR, "T0001", 4, "acknowledge");
    t.like(r, { ok: true, queued: true });
    const [action] = center.web.actions.alarmActions("T0001", 4);
    t.is(action.sentAt, null, "queued, not 'sent': the terminal has not acknowledged it");
    t.is(center.downlinks.pending("T0001").length, 1);
    await center.close(); // the center restarts with the downlink still queued
    center = await start(dir, store);
    try {
      t.is(center.downlinks.pending("T0001").length, 1);
      const term = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
      t.false(term.sessionPresent, "the new broker knew nothing of the terminal");
      t.deepEqual(await term.client.subscribe(downTopic("T0001")), [1]);
      const m = await receive(term.client);
      t.like(m, { name: "dispatch", body: { alarmId: 4, status: "acknowledged" } });
      t.true(await until(() => center.downlinks.pending("T0001").length === 0), "delivered after the PUBACK");
      t.truthy(center.web.actions.alarmActions("T0001", 4)[0].sentAt);
      t.is(await receive(term.client, 500), null, "once");
      term.client.close();
      // dialling again (with a new subscription) brings nothing more
      const again = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, true);
      await again.client.subscribe(downTopic("T0001"));
      t.is(await receive(again.client, 500), null);
      again.client.close();
    } finally {
      await center.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

each("a downlink not acknowledged before the line drops stays queued and comes again on the next call", async (t, engine) => {
  const store = engine.fresh();
  const dir = mkdtempSync(join(tmpdir(), "tg-downlinks-"));
  const center = await start(dir, store);
  try {
    // a persistent session, as the firmware's (mqtt-client.ts: cleanSession false)
    const first = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    await first.client.subscribe(downTopic("T0001"));
    await center.sendDown("T0001", "dispatch", { alarmId: 9, status: "dispatched", note: "car 3" });
    const m = await receive(first.client, 3000, false);
    t.like(m, { name: "dispatch", body: { alarmId: 9 } });
    first.client.close(); // no PUBACK
    await new Promise((r) => setTimeout(r, 100));
    t.is(center.downlinks.pending("T0001").length, 1, "still queued: the terminal never acknowledged it");
    const second = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    t.like(await receive(second.client), { name: "dispatch", body: { alarmId: 9 } });
    t.true(await until(() => center.downlinks.pending("T0001").length === 0));
    t.is(await receive(second.client, 500), null);
    second.client.close();
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

each("a new downlink's sequence number is past the highest one ever queued for the terminal, even one from a clock that ran ahead", async (t, engine) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-downseq-"));
  const store = engine.fresh();
  try {
    const center = await start(dir, store);
    const ahead = Date.now() + 10 ** 9;
    t.not(center.downlinks.tryAdd({ terminal: "T0001", seq: ahead, name: "tariff", payload: Uint8Array.of(1), createdAt: Date.now() }), null);
    t.not(center.downlinks.tryAdd({ terminal: "T0001", seq: 5, name: "tariff", payload: Uint8Array.of(2), createdAt: Date.now() }), null, "a lower one queued after it");
    t.is(center.downlinks.lastSeq("T0001"), ahead);
    t.is(center.downlinks.lastSeq("T0002"), null);
    center.setTariff("T0001", { ...EXAMPLE_TARIFF_JSON, patterns: { "1": 200, "2": 300, "3": 400 } });
    const seqs = center.downlinks.all("T0001").map((d) => d.seq);
    t.is(seqs.length, 3);
    t.true(seqs[2] > ahead, `the tariff went down as ${seqs[2]}, past ${ahead}`);
    await center.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
