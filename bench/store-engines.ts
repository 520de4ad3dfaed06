/**
 * The ingest path's store cost on each engine, side by side in one run: a center on SQLite and a
 * center on PostgreSQL take the same stream of reports (daily test calls) through the ingestor's
 * group commit (batches of up to 1,024, acknowledged once committed and durable), no MQTT.
 * Prints reports/s per engine (min/median/max of the runs) and the ratio; asserts nothing.
 *
 *   npm run build && node dist/bench/store-engines.js [--reports N] [--runs N] [--json]
 *
 * PostgreSQL: TIMEGUARD_PG_URL (a server where this user may create databases), else a private
 * throwaway cluster (tests/helpers/pg-cluster.ts; its fsync is off, so the figure is the store's
 * CPU and round trips, not a disk's). SQLite syncs its WAL as in production.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Center, startCenter } from "../center/center";
import { PgDb } from "../center/store/pg-db";
import type { SqlStore } from "../center/store/sql-store";
import { encodeMessage, upTopic } from "../firmware/uplink/messages";
import { Cluster, freePort, postgresBin } from "../tests/helpers/pg-cluster";
import { provisionBenchTerminals } from "./center-provision";

const { values } = parseArgs({ options: { reports: { type: "string", default: "5000" }, runs: { type: "string", default: "3" }, json: { type: "boolean", default: false } } });
const REPORTS = Number(values.reports);
const RUNS = Number(values.runs);
const TERMINALS = 64;
const ids = Array.from({ length: TERMINALS }, (_, i) => `B${String(i).padStart(4, "0")}`);

let seq = 0;
function report(terminal: string): Uint8Array {
  seq++;
  return encodeMessage({ name: "test", terminal, seq, time: 1_776_000_000 + seq, body: { boots: 1, outbox: 0 } });
}

/** Submits `n` reports (prepared before the clock starts) and waits until every one is answered. */
async function stream(center: Center, n: number): Promise<number> {
  const batch = Array.from({ length: n }, (_, i) => ({ terminal: ids[i % TERMINALS], payload: report(ids[i % TERMINALS]) }));
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    let left = n;
    for (const b of batch) {
      center.ingestor.submit(b.terminal, upTopic(b.terminal), b.payload, (r) => {
        if (r instanceof Error) return reject(r);
        if (r.status !== "stored") return reject(new Error(`not stored: ${JSON.stringify(r)}`));
        if (--left === 0) resolve();
      });
    }
  });
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** PostgreSQL round trips per report in the timed runs */
let tripsPerReport: number | null = null;

async function measure(store: string | undefined): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-store-"));
  const center = await startCenter({ dataDir: dir, store, mqttPort: 0, httpPort: 0, supervision: { intervalMs: 3_600_000 } });
  try {
    provisionBenchTerminals(center, ids, (id) => `secret-${id}`);
    await stream(center, 2000); // warm-up
    const rates: number[] = [];
    const db = (center.store as SqlStore).db;
    const before = db instanceof PgDb ? db.calls : 0;
    for (let r = 0; r < RUNS; r++) rates.push(await stream(center, REPORTS));
    if (db instanceof PgDb) tripsPerReport = Number(((db.calls - before) / (RUNS * REPORTS)).toFixed(2));
    return rates;
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: Math.round(s[0]), median: Math.round(s[Math.floor(s.length / 2)]), max: Math.round(s[s.length - 1]) };
};

let cluster: Cluster | null = null;
try {
  if (process.env.TIMEGUARD_PG_URL) cluster = new Cluster(process.env.TIMEGUARD_PG_URL, null);
  else {
    const bin = postgresBin();
    if (!bin) throw new Error("no PostgreSQL: set TIMEGUARD_PG_URL or install its server binaries");
    cluster = Cluster.start(bin, await freePort());
  }
  const sqlite = stats(await measure(undefined));
  const postgres = stats(await measure(cluster.database()));
  const result = { reports: REPORTS, runs: RUNS, terminals: TERMINALS, sqlite, postgres, ratio: Number((postgres.median / sqlite.median).toFixed(2)), tripsPerReport };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`ingest through group commit, ${REPORTS} test-call reports per run, ${RUNS} runs (reports/s, min / median / max)`);
    console.log(`  SQLite      ${sqlite.min} / ${sqlite.median} / ${sqlite.max}`);
    console.log(`  PostgreSQL  ${postgres.min} / ${postgres.median} / ${postgres.max}`);
    console.log(`  PostgreSQL / SQLite (medians): ${result.ratio}; PostgreSQL round trips per report: ${tripsPerReport}`);
  }
} finally {
  cluster?.stop();
}
