import type { ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Center, startCenter } from "../center/center";
import { exportData } from "../center/export";
import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import { parseTime } from "../firmware/core/time";
import { decode } from "cbor-x";
import { encodeMessage, messageFromCbor, upTopic } from "../firmware/uplink/messages";
import { type StoreEngine, storeEngines } from "./helpers/stores";

/**
 * Issue #10 at the center: every figure a terminal sends about money is checked against the
 * center's own recomputation (its tariff versions, the contract meter, the counts rule); a lie is
 * flagged and never moves the totals; a period is one row whatever its sequence number.
 */

// The fee checks run on both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

async function withCenter(engine: StoreEngine, body: (c: Center) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-fee-"));
  const center = await startCenter({ dataDir: dir, store: engine.fresh(), mqttPort: 0, httpPort: 0 });
  center.addTerminal({ id: "T0001", secret: "s3cret-1", site: "Tanaka home" });
  try {
    await body(center);
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (local: string) => parseTime(local, "t");
let seq = 1;

/** Period 1 of the worked example, as the terminal reports it (continuous, 288 yen, 28 counts). */
function period(overrides: Record<string, unknown> = {}, from = "2026-04-16T20:00", to = "2026-04-16T23:00") {
  const start = s(from);
  const end = s(to);
  return {
    start, end, pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120, guardedSeconds: end - start, baseYen: ((end - start) * 120) / 3600,
    yen: Math.floor(((end - start) * 120 * 800) / 3_600_000), images: 0, intervals: [[start, end, 2, 1, 0, 0, 0, 800]], rateSeconds: (end - start) * 120,
    permille: 800, contract: "continuous", tariffVersion: 0, ...overrides,
  };
}

function send(center: Center, body: Record<string, unknown>, n = seq++) {
  const bytes = encodeMessage({ name: "period", terminal: "T0001", seq: n, time: body.end as number, body });
  return center.ingestor.ingest("T0001", upTopic("T0001"), bytes);
}

const totals = (center: Center) => (exportData(center.store) as { totals: Array<{ totalYen: number; countsTaken: number; mismatches: number }> }).totals[0];

each("a per-mille of 0 or 9000 is flagged and the site's total stays the center's own", async (t, engine) => {
  for (const permille of [0, 9000]) {
    await withCenter(engine, async (center) => {
      t.is(send(center, period({ permille, yen: permille === 0 ? 0 : 3240 })).status, "stored");
      const [row] = center.store.periods("T0001");
      t.regex(row.feeMismatch ?? "", new RegExp(`per-mille ${permille}`));
      t.is(row.centerYen, 288);
      t.like(totals(center), { totalYen: 288, mismatches: 1 });
      // The intervals themselves lying about the coefficient: flagged, billed at the contract's.
      t.is(send(center, period({ permille, intervals: [[s("2026-04-17T20:00"), s("2026-04-17T23:00"), 2, 1, 0, 0, 0, permille]] }, "2026-04-17T20:00", "2026-04-17T23:00")).status, "stored");
      const rows = center.store.periods("T0001");
      t.regex(rows[1].feeMismatch ?? "", /no contract's coefficient/);
      t.like(totals(center), { totalYen: 576, mismatches: 2 });
    });
  }
});

each("counts taken beyond the cumulative floor are flagged (99,999 counts for a 210-yen period)", async (t, engine) => {
  await withCenter(engine, async (center) => {
    // 20:00–22:10 at 120 yen/h × 0.8 = 208 yen; honest: 20 counts
    send(center, period({ countsTaken: 20, takenTotal: 20 }, "2026-04-16T20:00", "2026-04-16T22:10"));
    t.is(center.store.periods("T0001")[0].feeMismatch, null);
    send(center, period({ countsTaken: 99_999, takenTotal: 100_019 }, "2026-04-18T20:00", "2026-04-18T22:10"));
    const rows = center.store.periods("T0001");
    t.regex(rows[1].feeMismatch ?? "", /the card gave 100019 counts toward the fee, only 41 are due/);
    t.regex(rows[1].feeMismatch ?? "", /100019 counts taken in all, only 41 due/);
  });
});

each("the same period re-sent under a new sequence number is stored once", async (t, engine) => {
  await withCenter(engine, async (center) => {
    t.is(send(center, period({ countsTaken: 28 })).status, "stored");
    t.is(send(center, period({ countsTaken: 28 })).status, "stored", "a new seq is a new message…");
    t.is(send(center, period({ countsTaken: 5, yen: 1 })).status, "stored");
    t.is(center.store.periods("T0001").length, 1, "…but the period is one row");
    t.like(totals(center), { totalYen: 288, countsTaken: 28, mismatches: 0 });
  });
});

each("the center's tariff versions: set by the admin's path, sent down, each interval priced with the version it names", async (t, engine) => {
  await withCenter(engine, async (center) => {
    // downlinks are kept in the database until the terminal acknowledges them
    const sent = () => center.downlinks.all("T0001").map((d) => d.payload);
    const v1 = center.setTariff("T0001", { ...EXAMPLE_TARIFF_JSON, patterns: { "1": 200, "2": 300, "3": 400 } });
    t.is(v1, 1);
    t.is(center.store.terminal("T0001")?.tariffVersion, 1);
    const queued = sent();
    const down = messageFromCbor(decode(queued[queued.length - 1]));
    t.is(down.name, "tariff");
    t.is(down.body.version, 1);
    t.deepEqual((down.body.tariff as { patterns: unknown }).patterns, { "1": 200, "2": 300, "3": 400 });
    t.throws(() => center.setTariff("T0001", { ...EXAMPLE_TARIFF_JSON, yenPerCount: 20 }), { message: /yenPerCount/ });
    t.throws(() => center.setTariff("T0001", { ...EXAMPLE_TARIFF_JSON, patterns: { "1": -1 } }), { message: /patterns\.1/ });

    // 1 h under version 0 (120 yen/h), then 2 h under version 1 (220 yen/h), continuous
    const start = s("2026-05-01T20:00");
    const mid = start + 3600;
    const end = start + 3 * 3600;
    const rs = 120 * 3600 + 220 * 7200;
    send(center, period({ intervals: [[start, mid, 2, 1, 0, 0, 0, 800], [mid, end, 2, 1, 0, 0, 1, 800]], rateSeconds: rs, yen: Math.floor((rs * 800) / 3_600_000), tariffVersion: 1, baseYen: rs / 3600 }, "2026-05-01T20:00", "2026-05-01T23:00"));
    const [row] = center.store.periods("T0001");
    t.is(row.feeMismatch, null);
    t.is(row.centerYen, 448);
    t.is(center.store.terminal("T0001")?.tariffConfirmed, 1, "a report naming version 1 confirms it");
    // A version the center never issued is flagged.
    send(center, period({ intervals: [[s("2026-05-02T20:00"), s("2026-05-02T23:00"), 2, 1, 0, 0, 7, 800]], tariffVersion: 7 }, "2026-05-02T20:00", "2026-05-02T23:00"));
    t.regex(center.store.periods("T0001")[1].feeMismatch ?? "", /tariff version 7 is not one the center issued/);
  });
});

each("a batch that fails to commit confirms no tariff version: the center keeps offering it, and the report sent again confirms it", async (t, engine) => {
  await withCenter(engine, async (center) => {
    center.setTariff("T0001", { ...EXAMPLE_TARIFF_JSON, patterns: { "1": 200, "2": 300, "3": 400 } });
    const body = period({ tariffVersion: 1 }, "2026-05-03T20:00", "2026-05-03T21:00");
    const store = center.store as { transaction<T>(fn: () => T): T };
    const real = store.transaction.bind(store);
    store.transaction = (fn) => real(() => {
      fn();
      throw new Error("disk full at commit");
    });
    const n = seq++;
    t.throws(() => send(center, body, n), { message: /disk full/ });
    store.transaction = real;
    t.is(center.store.terminal("T0001")?.tariffConfirmed, 0, "nothing of the batch is stored");
    t.is(center.store.periods("T0001").length, 0);
    const before = center.downlinks.all("T0001").length;
    center.tariffs.offer("T0001", true);
    t.is(center.downlinks.all("T0001").length, before + 1, "version 1 is still offered: the failed batch confirmed nothing");
    t.like(send(center, body, n), { status: "stored" }, "the terminal sends it again (no PUBACK came): stored now");
    t.is(center.store.terminal("T0001")?.tariffConfirmed, 1);
  });
});

each("the center floors once per contract segment, as the terminal does", async (t, engine) => {
  await withCenter(engine, async (center) => {
    // single (1.0): 10 min at 100 yen/h = 16.67 → 16 yen; continuous (0.8): 10 min = 13.33 → 13 yen
    const p = (from: string, to: string, permille: number, contract: string, yen: number, owedYen: number) => {
      const a = s(from);
      const b = s(to);
      return { start: a, end: b, pattern: 1, sensors: 0, cameras: 0, yenPerHour: 100, guardedSeconds: b - a, baseYen: Math.floor(((b - a) * 100) / 3600), yen, images: 0, intervals: [[a, b, 0, 0, 0, 0, 0, permille]], rateSeconds: (b - a) * 100, permille, contract, tariffVersion: 0, owedYen };
    };
    send(center, p("2026-05-01T20:00", "2026-05-01T20:10", 1000, "single", 16, 16));
    send(center, p("2026-05-02T20:00", "2026-05-02T20:10", 800, "continuous", 13, 29));
    send(center, p("2026-05-03T20:00", "2026-05-03T20:10", 800, "continuous", 13, 42)); // segment 26.67 → 26: owed 16 + 26
    const rows = center.store.periods("T0001");
    t.deepEqual(rows.map((r) => r.feeMismatch), [null, null, null]);
    t.deepEqual(rows.map((r) => r.centerYen), [16, 13, 13]);
    t.like(totals(center), { totalYen: 42 });
  });
});
