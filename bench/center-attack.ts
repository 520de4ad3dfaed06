/**
 * The center under a stranger's load on its MQTT port (issue #12), the load from its own process:
 *  1. 100 connections, each from its own loopback address, each a CONNECT declaring 256 MB and
 *     then sending body bytes: the center's RSS before and after (it must not grow beyond a few MB).
 *  2. /api/health latency idle, then while 8 clients loop wrong passwords (all from one address,
 *     then from 8 addresses): within 2× of idle.
 * Run: npm run build && node dist/bench/center-attack.js
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCenter } from "../center/center";
import { RawMqtt } from "../tests/helpers/mqtt-raw";

const MB = 1024 * 1024;
const rssMb = () => process.memoryUsage().rss / MB;

/** Child: opens `n` connections claiming 256 MB each and pushes 1 MB of body into each. */
async function bigConnects(port: number, n: number): Promise<void> {
  let closedEarly = 0;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<void>((resolve) => {
        const s = connect({ port, host: "127.0.0.1", localAddress: `127.0.${10 + (i >> 8)}.${(i & 255) + 1}` });
        let sent = 0;
        let closed = false;
        s.on("error", () => undefined);
        s.on("close", () => {
          closed = true;
          if (sent < MB) closedEarly++;
          resolve();
        });
        s.on("connect", () => {
          s.write(Uint8Array.of(0x10, 0x80, 0x80, 0x80, 0x01)); // CONNECT, remaining length 256 MB
          const chunk = new Uint8Array(64 * 1024);
          const pump = () => {
            while (!closed && sent < MB) {
              sent += chunk.length;
              if (!s.write(chunk)) return void s.once("drain", pump);
            }
            if (!closed) setTimeout(() => s.destroy(), 2000);
          };
          pump();
        });
      }),
    ),
  );
  process.send?.({ closedEarly });
}

/** Child: `clients` loops of wrong-password logins until told to stop. */
async function wrongPasswords(port: number, clients: number, spread: boolean): Promise<void> {
  let stop = false;
  let attempts = 0;
  const codes: Record<number, number> = {};
  process.on("message", () => (stop = true));
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (!stop) {
        attempts++;
        try {
          const { client, returnCode } = await RawMqtt.login(port, "B0", "wrong-password", false, spread ? `127.0.20.${i + 1}` : undefined);
          client.close();
          codes[returnCode] = (codes[returnCode] ?? 0) + 1;
        } catch {
          codes[-1] = (codes[-1] ?? 0) + 1; // closed at accept (connection rate): no CONNACK
        }
      }
    }),
  );
  process.send?.({ attempts, codes });
}

async function healthLatency(httpPort: number, n: number): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/health`);
    await r.arrayBuffer();
    times.push(performance.now() - start);
    await new Promise((r2) => setTimeout(r2, 20));
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)], p95: times[Math.floor(n * 0.95)] };
}

function child(args: string[]): { done: Promise<any>; stop: () => void } {
  const p = fork(fileURLToPath(import.meta.url), args, { stdio: "inherit" });
  const done = new Promise<any>((resolve) => p.once("message", resolve));
  return { done, stop: () => p.send("stop") };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-attack-"));
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0 });
  try {
    center.addTerminal({ id: "B0", secret: "the-right-secret", site: "bench" });
    await healthLatency(center.httpPort, 20); // warm up
    global.gc?.();
    const before = rssMb();
    for (let round = 1; round <= 3; round++) {
      let peak = rssMb();
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 5);
      await child(["big", String(center.mqttPort), "100"]).done;
      await new Promise((res) => setTimeout(res, 500));
      clearInterval(sampler);
      global.gc?.();
      const after = rssMb();
      console.log(
        `round ${round}: 100 CONNECTs declaring 256 MB (1 MB of body pushed into each): RSS ${before.toFixed(1)} → peak ${peak.toFixed(1)} → ${after.toFixed(1)} MiB after (+${(after - before).toFixed(1)}); heap ${(process.memoryUsage().heapUsed / MB).toFixed(1)} MiB; closed as oversized ${center.broker.counts.oversized}`,
      );
    }

    const idle = await healthLatency(center.httpPort, 60);
    console.log(`/api/health idle: median ${idle.median.toFixed(1)} ms, p95 ${idle.p95.toFixed(1)} ms`);
    for (const spread of [false, true]) {
      const load = child(["wrong", String(center.mqttPort), "8", spread ? "spread" : "one"]);
      await new Promise((res) => setTimeout(res, 1000));
      const busy = await healthLatency(center.httpPort, 150);
      load.stop();
      const l = await load.done;
      console.log(
        `/api/health with 8 clients looping wrong passwords from ${spread ? "8 addresses" : "one address"}: median ${busy.median.toFixed(1)} ms, p95 ${busy.p95.toFixed(1)} ms (${(busy.median / idle.median).toFixed(2)}× idle); ${l.attempts} attempts, CONNACK codes ${JSON.stringify(l.codes)} (-1: closed at accept)`,
      );
    }
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, port, n, extra] = process.argv.slice(2);
if (mode === "big") await bigConnects(Number(port), Number(n));
else if (mode === "wrong") await wrongPasswords(Number(port), Number(n), extra === "spread");
else await main();
