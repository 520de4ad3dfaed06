import type { ExecutionContext } from "ava";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Center, startCenter } from "../center/center";
import { REJECT_SAMPLE } from "../center/store/sql-store";
import { type Message, encodeMessage, upTopic } from "../firmware/uplink/messages";
import { type StoreEngine, storeEngines } from "./helpers/stores";

// Both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

async function withCenter(engine: StoreEngine, body: (c: Center, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-faults-"));
  const center = await startCenter({ dataDir: dir, store: engine.fresh(), mqttPort: 0, httpPort: 0 });
  center.addTerminal({ id: "T0001", secret: "s3cret-1", site: "Tanaka home" });
  try {
    await body(center, dir);
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const T = 1776000000;
const ingest = (c: Center, m: Omit<Message, "terminal">) => c.ingestor.ingest("T0001", upTopic("T0001"), encodeMessage({ ...m, terminal: "T0001" }));
const chunk = (seq: number, part: number, parts: number, data: Uint8Array, item = 0) => ({ name: "media" as const, seq, time: T, body: { mediaId: 5, alarmId: 1, item, items: 1, type: "jpeg", part, parts, data } });
const files = (dir: string) => (existsSync(join(dir, "media", "T0001", "5")) ? readdirSync(join(dir, "media", "T0001", "5")).sort() : []);

each("media: a chunk is accepted once — the same part with other bytes is rejected and the image stays as first sent", async (t, engine) => {
  await withCenter(engine, async (center, dir) => {
    t.is(ingest(center, chunk(1, 0, 2, Uint8Array.of(1, 2, 3))).status, "stored");
    const other = ingest(center, chunk(2, 0, 2, Uint8Array.of(9, 9, 9)));
    t.is(other.status, "rejected");
    t.regex((other as { reason: string }).reason, /other bytes/);
    t.is(ingest(center, chunk(3, 0, 2, Uint8Array.of(1, 2, 3))).status, "stored", "the same bytes again under a new seq are harmless");
    t.is(ingest(center, chunk(4, 1, 2, Uint8Array.of(4, 5))).status, "stored");
    const [m] = center.store.media("T0001");
    t.true(m.complete);
    t.deepEqual([...readFileSync(join(dir, "media", m.path as string))], [1, 2, 3, 4, 5]);
    t.deepEqual(files(dir), ["0.jpg"], "no part files left");
  });
});

each("media: a rejected chunk writes no file", async (t, engine) => {
  await withCenter(engine, async (center, dir) => {
    t.is(ingest(center, chunk(1, 3, 2, Uint8Array.of(1))).status, "rejected", "part out of range");
    t.deepEqual(files(dir), []);
  });
});

each("an alarm replayed under a new sequence number is stored once and notifies nobody again", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const alarm = (seq: number, pattern: number) => ({ name: "alarm" as const, seq, time: T, body: { alarmId: 7, sensor: "A0001", event: "burglary", contactId: 130, pattern, mediaId: 5, images: 0, clips: 0 } });
    const told: Array<[string, unknown]> = [];
    center.hub.publish = ((kind: string, data: unknown) => void told.push([kind, data])) as typeof center.hub.publish;
    t.is(ingest(center, alarm(1, 3)).status, "stored");
    t.is(ingest(center, alarm(2, 1)).status, "duplicate");
    t.is(told.filter(([k]) => k === "alarm").length, 1);
    t.is(center.store.alarms("T0001")[0].pattern, 3);
  });
});

each("plans are validated at ingest, and 'latest' is the newest sent (sequence number), not the terminal's clock", async (t, engine) => {
  await withCenter(engine, async (center) => {
    t.is(ingest(center, { name: "plan", seq: 1, time: T, body: { plan: { periods: [null] } } }).status, "rejected");
    const plan = (start: string) => ({ contract: "continuous", periods: [{ start, end: "2026-04-16T23:00", pattern: 1, sensors: 0, cameras: 0 }] });
    const far = ingest(center, { name: "plan", seq: 2, time: T + 5 * 365 * 86400, body: { plan: plan("2026-04-16T20:00") } });
    t.is(far.status, "stored", JSON.stringify(far));
    t.is(ingest(center, { name: "plan", seq: 3, time: T, body: { plan: plan("2026-04-16T21:00") } }).status, "stored");
    t.deepEqual(center.web.terminals.latestPlan("T0001")?.plan, plan("2026-04-16T21:00"));
  });
});

each("rejected messages: all counted per terminal, only a capped sample kept", async (t, engine) => {
  await withCenter(engine, async (center) => {
    for (let i = 0; i < REJECT_SAMPLE + 50; i++) center.ingestor.ingest("T0001", upTopic("T0001"), new Uint8Array(4000).fill(0xff));
    t.is(center.store.rejects().length, REJECT_SAMPLE);
    t.like(center.store.rejectCounts()[0], { terminal: "T0001", count: REJECT_SAMPLE + 50 });
    const bytes = (center.store as unknown as { db: { prepare(s: string): { get(): { n: number } } } }).db.prepare("SELECT MAX(LENGTH(payload)) AS n FROM rejects").get().n;
    t.true(bytes <= 256);
  });
});

each("the store failing in the middle of a batch (busy, disk full) fails the whole batch unacknowledged; a report's own bad data is rejected alone", async (t, engine) => {
  await withCenter(engine, async (center) => {
    const test = (seq: number) => encodeMessage({ name: "test", terminal: "T0001", seq, time: T + seq, body: { boots: 1, outbox: 0 } });
    const store = center.store as { insertTestCall(r: unknown): void };
    const real = store.insertTestCall.bind(store);
    const failOn = (seq: number, code: string) => {
      store.insertTestCall = (r: unknown) => {
        if ((r as { seq: number }).seq === seq) throw Object.assign(new Error(`injected ${code}`), { code });
        real(r);
      };
    };
    const batch = (seqs: number[]) => {
      const out: unknown[] = [];
      for (const s of seqs) center.ingestor.submit("T0001", upTopic("T0001"), test(s), (r) => out.push(r));
      center.ingestor.flush(true);
      return out;
    };
    const messages = () => center.store.messageCount();

    // SQLITE_BUSY / PostgreSQL's 53100 (disk full): the store's fault
    failOn(2, engine.name === "postgres" ? "53100" : "SQLITE_BUSY");
    const failed = batch([1, 2, 3]);
    t.is(failed.length, 3);
    t.true(failed.every((r) => r instanceof Error), "no report of the batch is answered: the terminal sends them again");
    t.is(messages(), 0, "nothing of the batch is stored");
    t.deepEqual(center.store.rejects(), [], "and nothing is rejected");

    // a constraint the report's own data breaks: that report alone is rejected (and answered)
    failOn(2, engine.name === "postgres" ? "23502" : "SQLITE_CONSTRAINT_NOTNULL");
    const mixed = batch([1, 2, 3]) as Array<{ status: string }>;
    t.deepEqual(mixed.map((r) => r.status), ["stored", "rejected", "stored"]);
    t.is(messages(), 2);
    store.insertTestCall = real;
  });
});
