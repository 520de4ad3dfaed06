/**
 * The center's web under a year of data: one site whose terminal reported 365 daily periods and
 * 300 alarms (three images each), timed as a manager's site page, the operator's queue and the
 * periods API; and the notifier's rate, 300 signed webhooks to a loopback receiver.
 * Run: npm run build && node dist/bench/center-web.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCenter } from "../center/center";
import { hashPassword } from "../center/web/auth";
import { parseTime } from "../firmware/core/time";
import { WebClient } from "../tests/helpers/center-web";

const DAYS = 365;
const ALARMS = 300;
const start = parseTime("2026-01-01T20:00", "t");

async function timed(label: string, n: number, fn: () => Promise<number>): Promise<void> {
  let bytes = 0;
  await fn(); // warm
  const t0 = performance.now();
  for (let i = 0; i < n; i++) bytes = await fn();
  const ms = (performance.now() - t0) / n;
  console.log(`${label}: ${ms.toFixed(1)} ms per request (${n} requests, ${Math.round(bytes / 1024)} KiB)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-web-"));
  let received = 0;
  let allIn: () => void = () => undefined;
  const done = new Promise<void>((r) => (allIn = r));
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.end("ok");
      if (++received === ALARMS) allIn();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0, notify: { pollMs: 10 } });
  try {
    center.addTerminal({ id: "T0001", secret: "bench-secret", site: "Bench home" });
    const siteId = (center.web.sites.siteByName("Bench home") as { id: number }).id;
    center.web.accounts.addUser({ username: "manager", passwordHash: hashPassword("manager-bench-1"), role: "manager", siteId }, Date.now());
    center.web.accounts.addUser({ username: "operator", passwordHash: hashPassword("operator-bench-1"), role: "operator", siteId: null }, Date.now());
    center.store.transaction(() => {
      for (let d = 0; d < DAYS; d++) {
        const s = start + d * 86400;
        center.store.insertPeriod({
          terminal: "T0001", seq: d + 1, start: s, end: s + 36000, pattern: 1 + (d % 3), sensors: 2, cameras: 2, yenPerHour: 130, guardedSeconds: 36000, baseYen: 1300, yen: 1040,
          images: 0, intervals: [[s, s + 36000, 2, 2, 0, 0, 0, 800]], rateSeconds: 4680000, permille: 800, contract: "continuous", countsTaken: 104, cardId: "C-1", debtYen: null,
          centerRateSeconds: 4680000, centerYen: 1040, feeMismatch: null, tariffVersion: 0, owedYen: null, takenTotal: null, surchargeTotal: null, centerOwedYen: null,
        });
      }
      for (let a = 0; a < ALARMS; a++) {
        center.store.insertAlarm({ terminal: "T0001", alarmId: a + 1, seq: 10000 + a, time: start + a * 3600, sensor: "A0001", event: "burglary", contactId: 130, pattern: 3, mediaId: a + 1, images: 3, clips: 0, receivedAt: Date.now() });
        for (let i = 0; i < 3; i++) {
          center.store.addMediaChunk({ terminal: "T0001", mediaId: a + 1, item: i, alarmId: a + 1, items: 3, type: "jpeg", part: 0, parts: 1, bytes: 600, sha256: "0".repeat(64) });
          center.store.completeMedia("T0001", a + 1, i, `T0001/${a + 1}/${i}.jpg`, 600);
        }
      }
    });
    const base = `http://127.0.0.1:${center.httpPort}`;
    const manager = new WebClient(base);
    await manager.login("manager", "manager-bench-1");
    const operator = new WebClient(base);
    await operator.login("operator", "operator-bench-1");
    console.log(`data: ${DAYS} periods, ${ALARMS} open pattern-3 alarms with 3 images each`);
    await timed("manager's site page", 20, async () => (await (await manager.get(`/site/${siteId}`)).arrayBuffer()).byteLength);
    await timed("operator's queue page", 20, async () => (await (await operator.get("/operator")).arrayBuffer()).byteLength);
    await timed("periods API (table, total, per day)", 50, async () => (await (await manager.get(`/api/sites/${siteId}/periods`)).arrayBuffer()).byteLength);

    center.web.notify.addDestination({ audience: "operators", siteId: null, kind: "webhook", address: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, secret: "bench-webhook-secret-1", createdAt: Date.now() });
    const t0 = performance.now();
    for (let a = 0; a < ALARMS; a++) center.notifier.alarmStored("T0001", a + 1);
    await done;
    await center.notifier.runDue();
    const s = (performance.now() - t0) / 1000;
    console.log(`notifier: ${ALARMS} signed webhooks (3 image links each) delivered in ${s.toFixed(2)} s = ${Math.round(ALARMS / s)} /s; counts ${JSON.stringify(center.notifier.counts)}`);
  } finally {
    await center.close();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
