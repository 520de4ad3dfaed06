import test from "ava";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "cbor-x";
import { type Center, startCenter } from "../center/center";
import { newTerminalSecret } from "../center/secrets";
import { PgDb } from "../center/store/pg-db";
import { hashPassword } from "../center/web/auth";
import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import { openStore } from "../center/store/open-store";
import { parseTime } from "../firmware/core/time";
import { type Message, downTopic, encodeMessage, messageFromCbor, upTopic } from "../firmware/uplink/messages";
import { projectRoot } from "../host-sim/project";
import { WebClient, alarmMessages } from "./helpers/center-web";
import { cameraImage, soundClip } from "../host-sim/devices/sensors";
import { FailoverTerminal } from "./helpers/failover-terminal";
import { RawMqtt } from "./helpers/mqtt-raw";
import { storeEngines } from "./helpers/stores";
import { hourlyPeriod } from "./helpers/hourly-period";

// Several center nodes on one PostgreSQL (docs/operations.md, "Several nodes"): real processes on
// loopback, a real PostgreSQL (tests/helpers/stores.ts), terminals that fail over between nodes.
const postgres = storeEngines().find((e) => e.name === "postgres")!;

const s = (local: string) => parseTime(local, "t");

const period = hourlyPeriod;

/** One `timeguard center` process: a node of the cluster. */
class CenterNode {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  out = "";
  port = 0;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "center", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (d) => (this.out += d));
    this.child.stderr?.on("data", (d) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  static async start(args: string[]): Promise<CenterNode> {
    const node = new CenterNode(args);
    const deadline = Date.now() + 30_000;
    while (!node.port) {
      if (Date.now() > deadline || node.child.exitCode !== null) throw new Error(`center did not come up: ${node.out}`);
      node.port = Number(/MQTT on 127\.0\.0\.1:(\d+)/.exec(node.out)?.[1] ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    return node;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

postgres.test("two center nodes on one PostgreSQL: one SIGKILLed mid-stream, then the other stopped; every acknowledged report is stored exactly once and the terminals reconnect to the surviving node", async (t) => {
  t.timeout(180_000);
  const url = postgres.fresh();
  const dir = mkdtempSync(join(tmpdir(), "tg-cluster-"));
  const terminals = Array.from({ length: 8 }, (_, i) => ({ id: `C${String(i + 1).padStart(2, "0")}`, secret: newTerminalSecret() }));
  const total = 200;
  const common = ["--data", dir, "--store", url!, "--mqtt-port", "0", "--http-port", "0"];
  const nodes: CenterNode[] = [];
  try {
    // Both start at once on a new database and a new data folder (migrations, the cluster's tables
    // and the terminal key made once); node a registers the terminals, node b checks their logins.
    const [a, b] = await Promise.all([
      CenterNode.start([...common, "--node", "a", ...terminals.map((x) => `--terminal=${x.id}:${x.secret}:site of ${x.id}`)]),
      CenterNode.start([...common, "--node", "b"]),
    ]);
    nodes.push(a, b);
    const ports = [a.port, b.port];
    // half dial node a first, half node b; each knows both addresses
    const sims = terminals.map((x, i) => new FailoverTerminal({ id: x.id, secret: x.secret, ports: () => ports, first: i % 2, window: 16, report: period }));
    // held at half-way until node a is back, so that node b has a stream to cut when it stops
    for (const sim of sims) sim.hold(total / 2);
    const runs = sims.map((sim) => sim.run(total, 150_000));
    const failed = Promise.all(runs).then(() => null, (e: Error) => e);
    const acked = () => sims.reduce((n, sim) => n + sim.acked.size, 0);

    await until("a quarter acknowledged", () => acked() >= (total * sims.length) / 4, 60_000);
    const onA = sims.filter((sim) => sim.port === a.port);
    t.true(onA.length > 0, "terminals were streaming to node a");
    a.kill(); // mid-stream: its terminals have reports in flight
    const ackedByA = sims.map((sim) => [...sim.acked].filter(([, port]) => port === a.port).map(([seq]) => seq));
    await a.exited;

    await until("the survivors carrying on to half-way", () => acked() >= (total * sims.length) / 2, 60_000);
    t.true(onA.every((sim) => sim.port === b.port), "every terminal of node a reconnected to node b");
    // node a back (same name), then node b stopped gracefully, mid-stream too
    const a2 = await CenterNode.start([...common, "--node", "a"]);
    nodes.push(a2);
    ports[0] = a2.port;
    for (const sim of sims) sim.allow();
    await until("five eighths acknowledged", () => acked() >= (total * sims.length * 5) / 8, 60_000);
    const onB = sims.filter((sim) => sim.acked.size < total);
    t.true(onB.length > 0, "terminals were streaming to node b");
    b.child.kill("SIGTERM");
    t.is(await b.exited, 0, "node b stops cleanly on SIGTERM");
    // (a terminal whose last reports b acknowledged while stopping finished there)
    const leftB = sims.filter((sim) => sim.acked.size < total);
    t.true(leftB.length > 0, "terminals were still streaming when node b was gone");

    const error = await failed;
    if (error) throw error;
    t.true(leftB.every((sim) => sim.port === a2.port), "every terminal b left unfinished reconnected to the surviving node");
    t.true([...onA, ...leftB].every((sim) => sim.reconnects >= 1), "each terminal cut off dialled again");
    t.true(sims.reduce((n, sim) => n + sim.resent, 0) > 0, "reports in flight at a failover were re-sent with DUP");

    const store = openStore({ dataDir: dir, store: url });
    try {
      for (const [i, sim] of sims.entries()) {
        const seqs = store.periods(sim.id).map((p) => p.seq).sort((x, y) => x - y);
        t.is(sim.acked.size, total);
        t.deepEqual(seqs, Array.from({ length: total }, (_, k) => k + 1), `${sim.id}: every acknowledged report stored, once`);
        t.deepEqual(ackedByA[i].filter((seq) => !seqs.includes(seq)), [], `${sim.id}: what node a acknowledged before its SIGKILL is stored`);
      }
      t.is(store.messageCount(), total * sims.length, "one (terminal, seq) record per report: no duplicate across nodes");
    } finally {
      store.close();
    }
  } finally {
    for (const n of nodes) n.kill();
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Two centers in this process as nodes a and b of one cluster (one PostgreSQL, one data folder). */
async function withTwoNodes(body: (a: Center, b: Center, o: { url: string; logs: string[]; stop(c: Center): Promise<void> }) => Promise<void>): Promise<void> {
  const url = postgres.fresh() as string;
  const dir = mkdtempSync(join(tmpdir(), "tg-nodes-"));
  const logs: string[] = [];
  const opts = { log: (line: string) => void logs.push(line), dataDir: dir, store: url, mqttPort: 0, httpPort: 0, cluster: { heartbeatMs: 500, pollMs: 3_600_000 }, supervision: { intervalMs: 3_600_000 } };
  const started: Center[] = [];
  try {
    started.push(await startCenter({ ...opts, node: "a" }));
    started.push(await startCenter({ ...opts, node: "b" }));
    const stopped = new Set<Center>();
    const stop = async (c: Center) => {
      stopped.add(c);
      await c.close();
    };
    await body(started[0], started[1], { url, logs, stop });
    for (const c of stopped) started.splice(started.indexOf(c), 1);
  } finally {
    for (const c of started) await c.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

postgres.test("center nodes: a downlink queued on node a reaches the terminal connected to node b; a is told b holds it; a terminal moved or re-tariffed on a is seen so by b; sessions and the periodic jobs are the cluster's", async (t) => {
  t.timeout(120_000);
  await withTwoNodes(async (a, b) => {
    const secret = newTerminalSecret();
    a.addTerminal({ id: "N1", secret, site: "North home" });
    const { client, returnCode } = await RawMqtt.login(b.mqttPort, "N1", secret);
    t.is(returnCode, 0, "node b takes a terminal node a registered (one database, one terminal key)");
    t.deepEqual(await client.subscribe(downTopic("N1")), [1]);
    // presence: node a's public health figures name the terminal node b holds
    await until("node a to see N1 online", () => a.cluster?.nodeOf("N1") === "b", 10_000);
    const health = (await (await fetch(`http://127.0.0.1:${a.httpPort}/api/health`)).json()) as { terminalsOnline: string[]; node: string; leader: boolean };
    t.deepEqual(health.terminalsOnline, ["N1"]);
    t.is(health.node, "a");
    t.is(health.leader, a.cluster?.leader === true);

    // a downlink queued on a (an operator's action there) goes down through b, by notice (no poll: it is an hour)
    const id = await a.sendDown("N1", "dispatch", { alarmId: 7, status: "dispatched" });
    const down = (await client.next("publish", 10_000)) as { topic: string; payload: Buffer; messageId: number } | null;
    t.truthy(down, "the terminal got it from node b");
    t.is(down?.topic, downTopic("N1"));
    t.like(messageFromCbor(decode(down!.payload)), { name: "dispatch", body: { alarmId: 7, status: "dispatched" } });
    client.send({ cmd: "puback", messageId: down!.messageId });
    await until("the acknowledgement stored", () => a.downlinks.get(id)?.deliveredAt != null, 10_000);

    // two nodes picking the same downlink seq for a terminal at once: the second gets null, inside a transaction too
    const taken = a.downlinks.get(id)!;
    const again = { terminal: "N1", seq: taken.seq, name: "dispatch", payload: taken.payload, createdAt: Date.now() };
    t.is(b.downlinks.tryAdd(again), null);
    t.is(b.store.transaction(() => [b.downlinks.tryAdd(again), b.downlinks.tryAdd({ ...again, seq: taken.seq + 1 })])[0], null);
    t.is(a.downlinks.all("N1").length, 2, "the transaction went on and committed the free seq");

    // what b cached of N1 (its site, its tariff) goes when a changes it
    const north = b.store.siteOf("N1");
    const first = b.tariffs.current("N1").version;
    t.is(first, a.tariffs.current("N1").version);
    a.addTerminal({ id: "N1", secret, site: "South home" });
    const south = a.store.siteOf("N1");
    t.not(south, north);
    await until("b to see N1 moved", () => b.store.siteOf("N1") === south, 10_000);
    const dearer = { ...EXAMPLE_TARIFF_JSON, patterns: { ...EXAMPLE_TARIFF_JSON.patterns, 1: 150 } };
    const version = a.setTariff("N1", dearer);
    t.true(version > first);
    await until("b to see the new tariff", () => b.tariffs.current("N1").version === version, 10_000);
    t.is(b.tariffs.current("N1").patterns[1], 150);

    // one node runs the periodic jobs; a person logged in on one node is logged in on the other
    t.is([a, b].filter((c) => c.cluster?.leader).length, 1, "exactly one leader");
    a.web.accounts.addUser({ username: "op", passwordHash: hashPassword("op-pass-123456"), role: "operator", siteId: null }, Date.now());
    const onA = new WebClient(`http://127.0.0.1:${a.httpPort}`);
    t.is((await onA.login("op", "op-pass-123456")).status, 303);
    const onB = new WebClient(`http://127.0.0.1:${b.httpPort}`);
    for (const [k, v] of onA.jar) onB.jar.set(k, v);
    t.is((await onB.get("/api/me")).status, 200, "the session cookie from node a is good on node b");
    client.close();
    await until("node a to see N1 gone", () => a.cluster?.nodeOf("N1") === null, 10_000);
  });
});

postgres.test("center nodes: a report node a stored but never acknowledged (it died first) is re-sent with DUP to node b, acknowledged there and stored once", async (t) => {
  t.timeout(60_000);
  await withTwoNodes(async (a, b) => {
    const secret = newTerminalSecret();
    a.addTerminal({ id: "D1", secret, site: "Dup home" });
    // node a commits report 5 (its batch is stored; the PUBACK never left: the node died then)
    t.like(a.ingestor.ingest("D1", upTopic("D1"), encodeMessage(period("D1", 5))), { status: "stored" });
    const { client, returnCode } = await RawMqtt.login(b.mqttPort, "D1", secret);
    t.is(returnCode, 0);
    client.send({ cmd: "publish", topic: upTopic("D1"), payload: Buffer.from(encodeMessage(period("D1", 5))), qos: 1, messageId: 9, dup: true, retain: false } as never);
    const ack = (await client.next("puback", 10_000)) as { messageId: number } | null;
    t.is(ack?.messageId, 9, "node b acknowledges the re-send");
    t.is(b.ingestor.counts.duplicate, 1, "as a duplicate");
    t.is(b.ingestor.counts.stored, 0);
    t.deepEqual(b.store.periods("D1").map((p) => p.seq), [5], "stored once");
    t.is(b.store.messageCount(), 1);
    client.close();
  });
});

postgres.test("center nodes: an alarm's media begun on node a and finished on node b (the terminal moved) is assembled whole, byte for byte", async (t) => {
  t.timeout(60_000);
  await withTwoNodes(async (a, b) => {
    a.addTerminal({ id: "M1", secret: newTerminalSecret(), site: "Media home" });
    const messages = alarmMessages({ alarmId: 3, mediaId: 30, pattern: 3, seq: 1, time: s("2026-04-20T02:00"), images: 2 });
    const half = Math.floor(messages.length / 2);
    for (const [i, m] of messages.entries()) {
      const node = i < half ? a : b;
      t.like(node.ingestor.ingest("M1", upTopic("M1"), encodeMessage({ ...m, terminal: "M1" })), { status: "stored" }, `${m.name} ${m.seq} on ${i < half ? "a" : "b"}`);
    }
    const items = b.store.media("M1");
    t.is(items.length, 3);
    t.true(items.every((x) => x.complete && x.path !== null), "every item whole");
    const expected = [cameraImage(30, 0), cameraImage(30, 1), soundClip(30)];
    for (const [i, x] of items.entries()) t.deepEqual(new Uint8Array(readFileSync(join(b.dataDir, "media", x.path!))), new Uint8Array(expected[i]), `item ${i}`);
  });
});

postgres.test("center nodes: when the node running the periodic jobs loses its store connection, or stops, another takes them over", async (t) => {
  t.timeout(60_000);
  await withTwoNodes(async (a, b, { url, logs, stop }) => {
    const [leader, other] = a.cluster?.leader ? [a, b] : [b, a];
    t.true(leader.cluster?.leader);
    t.false(other.cluster?.leader);
    // the leader's connection cut (a network fault, a PostgreSQL restart): the lock goes with it
    const admin = new PgDb(url);
    try {
      const cut = admin.prepare("SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND granted").all(0x74670002);
      t.is(cut.length, 1);
    } finally {
      admin.close();
    }
    const node = leader.cluster?.node;
    await until("the leader to notice", () => logs.includes(`node ${node} lost the periodic jobs' lock (its store connection was renewed)`), 10_000);
    // then one node leads again, either: the lock is free for whichever asks first
    await until("one leader", () => a.cluster?.leader !== b.cluster?.leader, 10_000);
    const now = a.cluster?.leader ? a : b;
    const rest = now === a ? b : a;
    // and the node leading now stops: the other takes the jobs
    await stop(now);
    await until("the other node to lead", () => rest.cluster?.leader === true, 10_000);
    t.deepEqual(rest.cluster?.nodes(), [rest.cluster?.node], "the stopped node is no longer live");
  });
});

test("center --node: refused without a PostgreSQL store, or with a name that is not a plain word", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-node-args-"));
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "center", "--data", dir, "--mqtt-port", "0", "--http-port", "0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr?.on("data", (d) => (err += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, err });
      });
    });
  try {
    const alone = await run(["--node", "a"]);
    t.is(alone.code, 2);
    t.regex(alone.err, /--node needs --store postgres:\/\//);
    for (const name of ["a b;", "..", "-x", "n".repeat(33)]) {
      const odd = await run(["--store", "postgres://tg@127.0.0.1:1/none", `--node=${name}`]);
      t.is(odd.code, 2, name);
      t.regex(odd.err, /--node must be 1 to 32 letters/, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

postgres.test("center nodes: a second process given a live node's name refuses to start; a node's name is free again once it stopped", async (t) => {
  t.timeout(60_000);
  await withTwoNodes(async (a, _b, { url, stop }) => {
    const again = { dataDir: a.dataDir, store: url, mqttPort: 0, httpPort: 0, cluster: { heartbeatMs: 500 }, supervision: { intervalMs: 3_600_000 } };
    const dup = await startCenter({ ...again, node: "a" }).catch((e: Error) => e);
    if (!(dup instanceof Error)) {
      await dup.close();
      return void t.fail("a second node a started");
    }
    t.regex(dup.message, /another process is running as node a/);
    await stop(a);
    const a2 = await startCenter({ ...again, node: "a" });
    try {
      t.deepEqual(a2.cluster?.nodes(), ["a", "b"]);
    } finally {
      await a2.close();
    }
  });
});

postgres.test("center nodes: a node whose data folder is not the one the other nodes share refuses to start, and leaves no trace that would stop the right ones", async (t) => {
  t.timeout(60_000);
  const url = postgres.fresh() as string;
  const shared = mkdtempSync(join(tmpdir(), "tg-shared-"));
  const own = mkdtempSync(join(tmpdir(), "tg-own-"));
  const opts = { store: url, mqttPort: 0, httpPort: 0, supervision: { intervalMs: 3_600_000 } };
  const started: Center[] = [];
  try {
    started.push(await startCenter({ ...opts, dataDir: shared, node: "a" }));
    const err = await t.throwsAsync(startCenter({ ...opts, dataDir: own, node: "b" }));
    t.regex(err?.message ?? "", /is not the data folder of node a .*must share one --data folder/);
    started.push(await startCenter({ ...opts, dataDir: shared, node: "c" }));
    t.deepEqual(started[1].cluster?.nodes(), ["a", "c"]);
  } finally {
    for (const c of started) await c.close();
    rmSync(shared, { recursive: true, force: true });
    rmSync(own, { recursive: true, force: true });
  }
});
