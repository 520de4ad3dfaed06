/**
 * The center's ingest rate: period reports published over MQTT (QoS 1, a window of 32 in flight)
 * by a number of terminals at once, each stored exactly once in SQLite; plus the rate of the
 * ingestion step alone (decode, validate, de-duplicate, recompute the fee, store).
 * Run: npm run build && node dist/bench/center-ingest.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCenter } from "../center/center";
import { parseTime } from "../firmware/core/time";
import { Message, encodeMessage, upTopic } from "../firmware/uplink/messages";
import { RawMqtt } from "../tests/helpers/mqtt-raw";

const TERMINALS = 8;
const PER_TERMINAL = 1000;
const WINDOW = 32;
const start = parseTime("2026-04-16T20:00", "t");

function period(terminal: string, seq: number): Uint8Array {
  const m: Message = {
    name: "period",
    terminal,
    seq,
    time: start + seq * 3600,
    body: {
      start: start + seq * 3600, end: start + seq * 3600 + 3600, pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120,
      guardedSeconds: 3600, baseYen: 120, yen: 96, images: 0, intervals: [[start + seq * 3600, start + seq * 3600 + 3600, 2, 1, 0, 0]],
      rateSeconds: 432000, permille: 800, countsTaken: 9, contract: "continuous",
    },
  };
  return encodeMessage(m);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-"));
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0 });
  try {
    for (let i = 0; i < TERMINALS; i++) center.addTerminal({ id: `B${i}`, secret: "bench", site: `site ${i}` });
    const clients = await Promise.all(Array.from({ length: TERMINALS }, async (_, i) => (await RawMqtt.login(center.mqttPort, `B${i}`, "bench")).client));
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (client, i) => {
        const id = `B${i}`;
        for (let base = 0; base < PER_TERMINAL; base += WINDOW) {
          const n = Math.min(WINDOW, PER_TERMINAL - base);
          for (let k = 0; k < n; k++) {
            client.send({ cmd: "publish", topic: upTopic(id), payload: Buffer.from(period(id, base + k + 1)), qos: 1, messageId: k + 1, dup: false, retain: false } as any);
          }
          for (let k = 0; k < n; k++) await client.next("puback");
        }
      }),
    );
    const mqttSeconds = (performance.now() - t0) / 1000;
    for (const c of clients) c.close();
    const stored = center.store.periods().length;
    const total = TERMINALS * PER_TERMINAL;
    console.log(`center ingest over MQTT: ${total} period reports from ${TERMINALS} terminals in ${mqttSeconds.toFixed(2)} s = ${Math.round(total / mqttSeconds)} reports/s (stored ${stored})`);

    // The ingestion step alone, in process.
    const n = 5000;
    const payloads = Array.from({ length: n }, (_, k) => period("B0", PER_TERMINAL + k + 1));
    const t1 = performance.now();
    for (const p of payloads) center.ingestor.ingest("B0", upTopic("B0"), p);
    const s1 = (performance.now() - t1) / 1000;
    console.log(`ingestion step alone: ${n} reports in ${s1.toFixed(2)} s = ${Math.round(n / s1)} reports/s`);
    const t2 = performance.now();
    for (const p of payloads) center.ingestor.ingest("B0", upTopic("B0"), p);
    const s2 = (performance.now() - t2) / 1000;
    console.log(`duplicates recognised: ${n} in ${s2.toFixed(2)} s = ${Math.round(n / s2)} /s; counts ${JSON.stringify(center.ingestor.counts)}`);
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
