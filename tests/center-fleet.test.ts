import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Center, startCenter } from "../center/center";
import { hashSecret, newTerminalSecret } from "../center/secrets";
import { openStore } from "../center/store/open-store";
import { MISSED_TEST } from "../center/supervision";
import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import { parseTime } from "../firmware/core/time";
import { Message, encodeMessage, upTopic } from "../firmware/uplink/messages";
import { projectRoot } from "../host-sim/project";
import { RawMqtt } from "./helpers/mqtt-raw";
import { type StoreEngine, storeEngines } from "./helpers/stores";
import { hourlyPeriod } from "./helpers/hourly-period";

// The group commit and the SIGKILL test run on both store engines (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

const s = (local: string) => parseTime(local, "t");

const period = hourlyPeriod;

async function withCenter(body: (c: Center, dir: string) => Promise<void>, o: { now?: () => number; store?: string } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-fleet-"));
  const center = await startCenter({ dataDir: dir, store: o.store, mqttPort: 0, httpPort: 0, now: o.now, supervision: { intervalMs: 3_600_000 } });
  try {
    await body(center, dir);
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

each("group commit: reports that arrive together are written in one transaction, each once, answered once on disk; a bad one is rejected alone", async (t, engine) => {
  await withCenter(async (center) => {
    center.addTerminal({ id: "T0001", secret: "s3cret-0001", site: "Tanaka home" });
    center.addTerminal({ id: "T0002", secret: "s3cret-0002", site: "Suzuki home" });
    const results: unknown[] = [];
    const done = (r: unknown) => results.push(r);
    const before = center.ingestor.batches;
    for (let seq = 1; seq <= 50; seq++) center.ingestor.submit("T0001", upTopic("T0001"), encodeMessage(period("T0001", seq)), done);
    center.ingestor.submit("T0001", upTopic("T0001"), encodeMessage(period("T0001", 7)), done); // a re-send in the same batch
    // a sensors report whose table breaks the schema half-way through its rows
    const badSensors = encodeMessage({ name: "sensors", terminal: "T0002", seq: 1, time: s("2026-04-16T20:00"), body: { table: [["P1", "pir", true, true, "ok"], ["P2"]] } });
    center.ingestor.submit("T0002", upTopic("T0002"), badSensors, done);
    center.ingestor.submit("T0002", upTopic("T0002"), encodeMessage(period("T0002", 2)), done);
    t.is(results.length, 0, "nothing is answered before the commit");
    for (let i = 0; i < 200 && results.length < 53; i++) await new Promise((r) => setTimeout(r, 10));
    t.is(center.ingestor.batches - before, 1, "one transaction");
    t.is(results.length, 53);
    t.is(center.store.periods("T0001").length, 50);
    t.is(center.store.periods("T0002").length, 1, "the good report after the bad one is kept");
    t.like(results[50], { status: "duplicate" });
    t.like(results[51], { status: "rejected" });
    t.is(center.store.messageCount(), 51, "the rejected report left no (terminal, seq) record behind");
    t.deepEqual(center.ingestor.counts, { stored: 51, duplicate: 1, rejected: 1 });
    t.is(center.store.rejects().length, 1);
    t.is(center.web.supervision.supervision("T0001")?.firstHeardAt !== undefined, true, "heard, in the same transaction");
  }, { store: engine.fresh() });
});

each("acknowledged means stored: every report the center PUBACKed is in the database after a SIGKILL mid-stream", async (t, engine) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-kill-"));
  const secret = newTerminalSecret();
  const url = engine.fresh();
  const child = spawn(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "center", "--data", dir, ...(url ? ["--store", url] : []), "--mqtt-port", "0", "--http-port", "0", "--terminal", `K1:${secret}:kill site`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  try {
    const deadline = Date.now() + 30_000;
    let port = 0;
    while (!port) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`center did not come up: ${out}`);
      port = Number(/MQTT on 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { client, returnCode } = await RawMqtt.login(port, "K1", secret);
    t.is(returnCode, 0);
    const acked = new Set<number>();
    let sent = 0;
    const window = 32;
    const send = () => {
      sent++;
      client.send({ cmd: "publish", topic: upTopic("K1"), payload: Buffer.from(encodeMessage(period("K1", sent))), qos: 1, messageId: sent, dup: false, retain: false } as any);
    };
    for (let i = 0; i < window; i++) send();
    while (acked.size < 400) {
      const ack = (await client.next("puback", 10_000)) as { messageId: number } | null;
      if (!ack) break;
      acked.add(ack.messageId);
      send();
    }
    child.kill("SIGKILL"); // with up to 32 reports in flight
    await exited;
    t.true(acked.size >= 400, `acknowledged ${acked.size}`);
    const store = openStore({ dataDir: dir, store: url });
    try {
      const seqs = new Set(store.periods("K1").map((p) => p.seq));
      const missing = [...acked].filter((seq) => !seqs.has(seq));
      t.deepEqual(missing, [], "every acknowledged report is stored");
      t.is(store.messageCount(), seqs.size, "and each report whole: its record and its row, or neither");
      t.true(seqs.size <= sent);
    } finally {
      store.close();
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("terminal secrets: kept as an HMAC, checked for the right terminal only; an old scrypt hash moves to HMAC at its first login", async (t) => {
  await withCenter(async (center) => {
    const secret = newTerminalSecret();
    t.regex(secret, /^[0-9a-f]{32}$/, "128 random bits");
    center.addTerminal({ id: "T0001", secret, site: "Tanaka home" });
    center.addTerminal({ id: "T0002", secret, site: "Suzuki home" });
    const stored = center.store.terminal("T0001")?.secretHash ?? "";
    t.regex(stored, /^hmac\$[0-9a-f]{8}\$[0-9a-f]{64}$/);
    t.not(center.store.terminal("T0002")?.secretHash, stored, "the same secret hashes differently for another terminal");
    t.false(stored.includes(secret));
    const ok = await RawMqtt.login(center.mqttPort, "T0001", secret);
    t.is(ok.returnCode, 0);
    ok.client.close();
    const wrong = await RawMqtt.login(center.mqttPort, "T0001", secret.replace(/.$/, (c) => (c === "0" ? "1" : "0")));
    t.is(wrong.returnCode, 4);
    wrong.client.close();

    // A terminal registered before this scheme (scrypt, as the demo terminal's was).
    const site = center.store.addSite("Old home");
    center.store.addTerminal({ id: "T0003", siteId: site, secretHash: hashSecret("old-secret-3"), tariff: EXAMPLE_TARIFF_JSON });
    const bad = await RawMqtt.login(center.mqttPort, "T0003", "not-the-secret");
    t.is(bad.returnCode, 4);
    bad.client.close();
    t.regex(center.store.terminal("T0003")?.secretHash ?? "", /^scrypt\$/, "a refused login changes nothing");
    const old = await RawMqtt.login(center.mqttPort, "T0003", "old-secret-3");
    t.is(old.returnCode, 0);
    old.client.close();
    t.regex(center.store.terminal("T0003")?.secretHash ?? "", /^hmac\$/, "moved to HMAC");
    const again = await RawMqtt.login(center.mqttPort, "T0003", "old-secret-3");
    t.is(again.returnCode, 0, "and still logs in");
    again.client.close();
    t.is(center.broker.counts.refusedLogins, 2);
  });
});

each("supervision by due time: a sweep raises faults for the overdue terminals only, at most maxPerSweep at a time, once each", async (t, engine) => {
  let clock = s("2026-04-20T09:00") * 1000;
  await withCenter(
    async (center) => {
      const site = center.store.addSite("Fleet");
      center.store.transaction(() => {
        for (let i = 0; i < 500; i++) {
          const id = `F${String(i).padStart(4, "0")}`;
          center.store.addTerminal({ id, siteId: site, secretHash: center.terminalSecretHash(id, "x"), tariff: EXAMPLE_TARIFF_JSON });
          // F0000..F0299 made their test call a day and two hours ago, the rest one hour ago
          center.store.noteHeard(id, clock - (i < 300 ? 26 : 1) * 3600_000, true);
        }
      });
      const first = center.supervisor.check().raised;
      t.is(first.length, center.supervisor.maxPerSweep);
      t.true(first.every((f) => f.kind === MISSED_TEST && Number(f.terminal.slice(1)) < 300));
      const second = center.supervisor.check().raised;
      t.is(second.length, 300 - center.supervisor.maxPerSweep, "the rest of the overdue");
      t.deepEqual(center.supervisor.check().raised, [], "each raised once");
      t.is(center.web.faults.faults({ open: true }).length, 300);
      // One of them calls in: its fault clears.
      center.ingestor.ingest("F0007", upTopic("F0007"), encodeMessage({ name: "test", terminal: "F0007", seq: 1, time: s("2026-04-20T09:00"), body: { boots: 1, outbox: 0 } }));
      t.is(center.web.faults.faults({ open: true }).length, 299);
      // A day later the others are overdue too (F0007 called in exactly 25 h ago: not late yet).
      clock += 25 * 3600_000;
      const later = center.supervisor.check().raised.length + center.supervisor.check().raised.length;
      t.is(later, 200);
    },
    { now: () => clock, store: engine.fresh() },
  );
});
