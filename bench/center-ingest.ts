/**
 * The center at fleet scale, side by side with aedes alone in the same run.
 *
 *   npm run bench:center -- [--json] [--runs 3] [--sessions 10000]
 *
 * Three processes per measurement: this orchestrator, a server (the center, or a bare aedes broker
 * with the same login check done by a Map look-up) and a load generator (its own process, raw MQTT
 * over loopback). Per run and per server: a warm-up, then
 *  - ingest: period reports at QoS 1, 8 terminals × 32 in flight (and 64 × 4), reports/s = PUBACKs
 *    received / elapsed time; the server then counts what it stored (acknowledged must be stored);
 *  - logins: `sessions` terminals log in (CONNECT → CONNACK, 256 at a time) and stay connected;
 *    logins/s, and the worst event-loop stall of the server while they arrive and are held;
 *  - supervision (center only): one sweep over `sessions` terminals, its duration.
 * Figures are min/median/max over the runs; `--json` prints one JSON object (medians at the top
 * level, the spread under `runs`) as the last line of stdout; progress goes to stderr.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as mqtt from "mqtt-packet";
import { parseTime } from "../firmware/core/time";
import { type Message, encodeMessage, upTopic } from "../firmware/uplink/messages";

const SELF = fileURLToPath(import.meta.url);
const START = parseTime("2026-04-16T20:00", "t");
const INGEST_TERMINALS = 72; // I0..I7 for 8×32, I8..I71 for 64×4
/** one secret for every bench terminal: the baseline (scrypt) could not hash 10,000 different ones in time */
const secretOf = (_id: string) => "bench-secret-0123456789abcdef";
const loginId = (i: number) => `L${String(i).padStart(5, "0")}`;

type ServerKind = "center" | "aedes";

interface IngestSpec {
  phase: "ingest";
  port: number;
  clients: number;
  inflight: number;
  firstClient: number;
  warmup: number; // reports per client before timing
  perClient: number; // timed reports per client
  limitMs: number;
}
interface LoginSpec {
  phase: "logins";
  port: number;
  sessions: number;
  concurrency: number;
  limitMs: number;
}
type LoadSpec = IngestSpec | LoginSpec;

// ---------------------------------------------------------------- load generator (own process)

function period(terminal: string, seq: number): Uint8Array {
  const t = START + seq * 3600;
  const m: Message = {
    name: "period",
    terminal,
    seq,
    time: t,
    body: {
      start: t, end: t + 3600, pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120,
      guardedSeconds: 3600, baseYen: 120, yen: 96, images: 0, intervals: [[t, t + 3600, 2, 1, 0, 0, 0, 800]],
      rateSeconds: 432000, permille: 800, countsTaken: 9, contract: "continuous",
    },
  };
  return encodeMessage(m);
}

/** Splits a byte stream into MQTT packets; calls back with each packet's first byte (its type). */
function packetSplitter(onPacket: (type: number, body: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      let len = 0;
      let mul = 1;
      let i = at + 1;
      let complete = false;
      for (; i < buf.length && i < at + 5; i++) {
        len += (buf[i] & 0x7f) * mul;
        mul *= 128;
        if ((buf[i] & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || buf.length - i < len) break;
      onPacket(buf[at] >> 4, buf.subarray(i, i + len));
      at = i + len;
    }
    pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
  };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    s.setNoDelay(true);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

const connectPacket = (id: string) =>
  mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: id, username: id, password: Buffer.from(secretOf(id)), clean: false, keepalive: 600 } as mqtt.IConnectPacket);

/** One terminal's connection: login, then publish with a window, counting PUBACKs. */
class LoadClient {
  socket!: Socket;
  connack: Promise<number>;
  #connackResolve!: (rc: number) => void;
  onPuback: (n: number) => void = () => undefined;

  constructor() {
    this.connack = new Promise((r) => (this.#connackResolve = r));
  }

  static async login(port: number, id: string, c = new LoadClient()): Promise<{ client: LoadClient; rc: number }> {
    c.socket = await openSocket(port);
    c.socket.on("error", () => undefined);
    c.socket.on("close", () => c.#connackResolve(-1));
    let acks = 0;
    const split = packetSplitter((type, body) => {
      if (type === 2) c.#connackResolve(body[1]);
      else if (type === 4) acks++;
    });
    c.socket.on("data", (d: Buffer) => {
      acks = 0;
      split(d);
      if (acks) c.onPuback(acks);
    });
    c.socket.write(connectPacket(id));
    return { client: c, rc: await c.connack };
  }
}

async function runIngest(s: IngestSpec): Promise<{ acked: number; elapsedMs: number; sent: number }> {
  const ids = Array.from({ length: s.clients }, (_, i) => `I${s.firstClient + i}`);
  const clients: LoadClient[] = [];
  for (const id of ids) {
    const { client, rc } = await LoadClient.login(s.port, id);
    if (rc !== 0) throw new Error(`login of ${id} refused (${rc})`);
    clients.push(client);
  }
  // Every PUBLISH packet prepared before the clock starts (the generator must not be the limit).
  const total = s.warmup + s.perClient;
  const packets = ids.map((id) =>
    Array.from({ length: total }, (_, k) =>
      mqtt.generate({ cmd: "publish", topic: upTopic(id), payload: Buffer.from(period(id, k + 1)), qos: 1, messageId: (k % 60000) + 1, dup: false, retain: false } as mqtt.IPublishPacket),
    ),
  );
  const drive = (from: number, to: number, limitMs: number) =>
    Promise.all(
      clients.map(
        (c, ci) =>
          new Promise<number>((resolve) => {
            const list = packets[ci];
            let next = from;
            let acked = 0;
            const timer = setTimeout(() => resolve(acked), limitMs);
            c.onPuback = (n) => {
              acked += n;
              if (from + acked >= to) {
                clearTimeout(timer);
                return resolve(acked);
              }
              const out: Buffer[] = [];
              for (let k = 0; k < n && next < to; k++) out.push(list[next++]);
              if (out.length) c.socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
            };
            const first: Buffer[] = [];
            for (; next < Math.min(to, from + s.inflight); ) first.push(list[next++]);
            c.socket.write(Buffer.concat(first));
          }),
      ),
    );
  await drive(0, s.warmup, 60_000);
  const t0 = performance.now();
  const acked = (await drive(s.warmup, total, s.limitMs)).reduce((a, b) => a + b, 0);
  const elapsedMs = performance.now() - t0;
  for (const c of clients) c.socket.destroy();
  return { acked: acked + s.warmup * s.clients, elapsedMs, sent: total * s.clients };
}

async function runLogins(s: LoginSpec): Promise<{ ok: number; refused: number; elapsedMs: number }> {
  const sockets: Socket[] = [];
  let ok = 0;
  let refused = 0;
  let nextIndex = 0;
  const t0 = performance.now();
  const deadline = t0 + s.limitMs;
  let stop!: () => void;
  const timeUp = new Promise<void>((r) => (stop = r));
  const timer = setTimeout(stop, s.limitMs);
  const worker = async () => {
    while (nextIndex < s.sessions && performance.now() < deadline) {
      const id = loginId(nextIndex++);
      try {
        const c = new LoadClient();
        const pending = LoadClient.login(s.port, id, c);
        const r = await Promise.race([pending, timeUp.then(() => null)]);
        if (c.socket) sockets.push(c.socket);
        if (r && r.rc === 0) ok++;
        else if (r) refused++;
      } catch {
        refused++;
      }
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  clearTimeout(timer);
  const elapsedMs = Math.min(performance.now(), deadline) - t0;
  // Hold them a moment (keep-alives, the server's bookkeeping), then let go.
  await new Promise((r) => setTimeout(r, 500));
  for (const so of sockets) so.destroy();
  return { ok, refused, elapsedMs };
}

// ---------------------------------------------------------------- servers (own process)

async function serveAedes(sessions: number): Promise<{ port: number; close(): Promise<void>; stored(): number }> {
  const { Aedes } = await import("aedes");
  const { createServer } = await import("node:net");
  const secrets = new Map<string, string>();
  for (let i = 0; i < INGEST_TERMINALS; i++) secrets.set(`I${i}`, secretOf(`I${i}`));
  for (let i = 0; i < sessions; i++) secrets.set(loginId(i), secretOf(loginId(i)));
  let published = 0;
  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const ok = !!username && client.id === username && !!password && secrets.get(username) === password.toString("utf8");
      done(null, ok);
    },
    authorizePublish(_client, _packet, cb) {
      published++;
      cb(null);
    },
  });
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    broker.handle(socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", 1024, r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stored: () => published,
    async close() {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface CenterServer {
  port: number;
  batches(): number;
  close(): Promise<void>;
  stored(): number;
  sweepMs(): number;
}

async function serveCenter(sessions: number, dir: string): Promise<CenterServer> {
  const { startCenter } = await import("../center/center");
  const { provisionBenchTerminals } = await import("./center-provision");
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0, supervision: { intervalMs: 3_600_000 } });
  const ids = [...Array.from({ length: INGEST_TERMINALS }, (_, i) => `I${i}`), ...Array.from({ length: sessions }, (_, i) => loginId(i))];
  provisionBenchTerminals(center, ids, secretOf);
  return {
    port: center.mqttPort,
    stored: () => center.store.messageCount(),
    batches: () => center.ingestor.batches,
    sweepMs() {
      const t0 = performance.now();
      center.supervisor.check();
      return performance.now() - t0;
    },
    close: () => center.close(),
  };
}

async function serverMain(kind: ServerKind, sessions: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-fleet-"));
  const srv: { port: number; close(): Promise<void>; stored(): number; sweepMs?: () => number; batches?: () => number } =
    kind === "center" ? await serveCenter(sessions, dir) : await serveAedes(sessions);
  const h = monitorEventLoopDelay({ resolution: 5 });
  let cpu = process.cpuUsage();
  process.on("message", async (m: { cmd: string }) => {
    if (m.cmd === "mark") {
      h.reset();
      h.enable();
      cpu = process.cpuUsage();
      process.send!({ cmd: "marked" });
    } else if (m.cmd === "measure") {
      h.disable();
      const c = process.cpuUsage(cpu);
      process.send!({ cmd: "measured", stallMs: h.max / 1e6, cpuMs: (c.user + c.system) / 1000, stored: srv.stored(), batches: srv.batches?.() ?? null });
    } else if (m.cmd === "sweep") {
      process.send!({ cmd: "swept", ms: srv.sweepMs ? srv.sweepMs() : null });
    } else if (m.cmd === "close") {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
      process.send!({ cmd: "closed" });
      process.exit(0);
    }
  });
  process.send!({ cmd: "ready", port: srv.port });
}

// ---------------------------------------------------------------- orchestrator

function request<T>(child: ChildProcess, send: object | null, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (m?.cmd !== reply) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(m as T);
    };
    const onExit = (code: number) => reject(new Error(`${reply}: child exited with ${code}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
    if (send) child.send(send);
  });
}

async function load<T>(spec: LoadSpec): Promise<T> {
  const child = fork(SELF, ["--role", "load"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const r = await request<{ result: T; error?: string }>(child, { cmd: "run", spec }, "done");
  if (r.error) throw new Error(`load generator: ${r.error}`);
  return r.result;
}

interface RunFigures {
  ingest: number;
  ingest64x4: number;
  cpuUsPerReport: number;
  lost: number;
  logins: number;
  loginsRefused: number;
  sessions: number;
  stallMs: number;
  sweepMs: number | null;
}

async function measure(kind: ServerKind, o: { sessions: number; quick: boolean; ingestOnly: boolean }): Promise<RunFigures> {
  const server = fork(SELF, ["--role", "server", "--kind", kind, "--sessions", String(o.sessions)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : [],
  });
  try {
    const { port } = await request<{ port: number }>(server, null, "ready");
    const mark = () => request(server, { cmd: "mark" }, "marked");
    const measured = () => request<{ stallMs: number; cpuMs: number; stored: number; batches: number | null }>(server, { cmd: "measure" }, "measured");
    const perClient = o.quick ? 1500 : 6000;
    let acked = 0;

    await mark();
    const a = await load<{ acked: number; elapsedMs: number }>({ phase: "ingest", port, clients: 8, inflight: 32, firstClient: 0, warmup: 250, perClient, limitMs: 8000 });
    const m1 = await measured();
    if (m1.batches) process.stderr.write(`  ${kind} 8×32: ${a.acked} reports in ${m1.batches} batches\n`);
    acked += a.acked;
    const ingest = ((a.acked - 8 * 250) / a.elapsedMs) * 1000;

    const b = await load<{ acked: number; elapsedMs: number }>({ phase: "ingest", port, clients: 64, inflight: 4, firstClient: 8, warmup: 40, perClient: Math.floor(perClient / 8), limitMs: 8000 });
    acked += b.acked;
    const ingest64 = ((b.acked - 64 * 40) / b.elapsedMs) * 1000;
    const stored = (await measured()).stored;

    if (o.ingestOnly) return { ingest, ingest64x4: ingest64, cpuUsPerReport: (m1.cpuMs * 1000) / a.acked, lost: Math.max(0, acked - stored), logins: NaN, loginsRefused: 0, sessions: 0, stallMs: NaN, sweepMs: null };
    await mark();
    const l = await load<{ ok: number; refused: number; elapsedMs: number }>({ phase: "logins", port, sessions: o.sessions, concurrency: 256, limitMs: o.quick ? 10_000 : 20_000 });
    const m3 = await measured();
    const sweep = await request<{ ms: number | null }>(server, { cmd: "sweep" }, "swept");
    return {
      ingest,
      ingest64x4: ingest64,
      cpuUsPerReport: (m1.cpuMs * 1000) / a.acked,
      lost: Math.max(0, acked - stored),
      logins: (l.ok / l.elapsedMs) * 1000,
      loginsRefused: l.refused,
      sessions: l.ok,
      stallMs: m3.stallMs,
      sweepMs: sweep.ms,
    };
  } finally {
    await request(server, { cmd: "close" }, "closed").catch(() => undefined);
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};

async function orchestrate(argv: string[]): Promise<void> {
  const arg = (name: string, d: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const json = argv.includes("--json");
  const quick = argv.includes("--quick");
  const runs = arg("runs", 3);
  const sessions = arg("sessions", 10_000);
  const results: Record<ServerKind, RunFigures[]> = { center: [], aedes: [] };
  for (let r = 0; r < runs; r++) {
    for (const kind of ["center", "aedes"] as const) {
      const f = await measure(kind, { sessions, quick, ingestOnly: argv.includes("--ingest-only") });
      results[kind].push(f);
      process.stderr.write(`run ${r + 1}/${runs} ${kind}: ${JSON.stringify(f, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}\n`);
    }
  }
  const med = (kind: ServerKind, key: keyof RunFigures) => stats(results[kind].map((f) => (f[key] as number) ?? NaN));
  const round = (x: number) => Math.round(x);
  const ic = med("center", "ingest");
  const ia = med("aedes", "ingest");
  const lc = med("center", "logins");
  const la = med("aedes", "logins");
  const out = {
    machine: `${(await import("node:os")).cpus().length} cores, ${(await import("node:os")).cpus()[0]?.model ?? "?"}, node ${process.version}`,
    runs,
    sessions,
    ingest: { center: round(ic.median), aedes: round(ia.median), ratio: Math.round((ic.median / ia.median) * 100) / 100 },
    ingest64x4: { center: round(med("center", "ingest64x4").median), aedes: round(med("aedes", "ingest64x4").median) },
    cpuUsPerReport: { center: Math.round(med("center", "cpuUsPerReport").median), aedes: Math.round(med("aedes", "cpuUsPerReport").median) },
    logins: { center: round(lc.median), aedes: round(la.median), ratio: Math.round((lc.median / la.median) * 100) / 100 },
    sessionsHeld: { center: med("center", "sessions").min, aedes: med("aedes", "sessions").min },
    stallMs10k: Math.round(med("center", "stallMs").median),
    stallMs10kAedes: Math.round(med("aedes", "stallMs").median),
    supervisionSweepMs10k: Math.round(med("center", "sweepMs").median * 10) / 10,
    acknowledgedButNotStored: results.center.reduce((a, f) => a + f.lost, 0),
    spread: {
      ingest: { center: ic, aedes: ia },
      logins: { center: lc, aedes: la },
      stallMs: { center: med("center", "stallMs"), aedes: med("aedes", "stallMs") },
      sweepMs: med("center", "sweepMs"),
    },
  };
  if (json) process.stdout.write(JSON.stringify(out) + "\n");
  else process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

const argv = process.argv.slice(2);
const role = argv[argv.indexOf("--role") + 1];
if (argv.includes("--role") && role === "load") {
  process.on("message", async (m: { cmd: string; spec: LoadSpec }) => {
    if (m.cmd !== "run") return;
    try {
      const result = m.spec.phase === "ingest" ? await runIngest(m.spec) : await runLogins(m.spec);
      process.send!({ cmd: "done", result });
    } catch (e) {
      process.send!({ cmd: "done", error: (e as Error).stack });
    }
    process.disconnect();
    setTimeout(() => process.exit(0), 100).unref();
  });
} else if (argv.includes("--role") && role === "server") {
  await serverMain(argv[argv.indexOf("--kind") + 1] as ServerKind, Number(argv[argv.indexOf("--sessions") + 1]));
} else {
  await orchestrate(argv);
}
