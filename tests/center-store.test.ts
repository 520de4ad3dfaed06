import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Downlinks } from "../center/downlinks";
import { openStore } from "../center/store/open-store";
import { PgDb, numberParameters } from "../center/store/pg-db";
import type { SqlStore } from "../center/store/sql-store";
import { REJECT_SAMPLE } from "../center/store/sql-store";
import { WebStores } from "../center/store/web-store";
import { LoginLimiter } from "../center/web/login-limiter";
import type { PeriodRow } from "../center/store/center-store";
import { type StoreEngine, storeEngines } from "./helpers/stores";

// The store tests, run against both engines: SQLite (the embedded default) and PostgreSQL.
const engines = storeEngines();

async function withStore(engine: StoreEngine, body: (store: SqlStore, web: WebStores) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-store-"));
  const store = openStore({ dataDir: dir, store: engine.fresh() });
  try {
    await body(store, new WebStores(store.db));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** an instant in ms, past 2^31 (a 32-bit INTEGER would overflow) */
const NOW = 1_776_000_000_123;
const TARIFF = { version: 0, name: "test" };

function period(over: Partial<PeriodRow> = {}): PeriodRow {
  return {
    terminal: "T0001", seq: 10, start: 1_776_000_000, end: 1_776_003_600, pattern: 2, sensors: 3, cameras: 1, yenPerHour: 120, guardedSeconds: 3600, baseYen: 100,
    yen: 120, images: 0, intervals: [[1_776_000_000, 1_776_003_600]], rateSeconds: 3600, permille: 1000, contract: "c1", countsTaken: 12, cardId: "card-1", debtYen: null,
    centerRateSeconds: 3600, centerYen: 120, feeMismatch: null, tariffVersion: 0, owedYen: 0, takenTotal: 12, surchargeTotal: 0, centerOwedYen: 0, ...over,
  };
}

for (const engine of engines) {
  engine.test("sites and terminals: ids from RETURNING, upserts, and later times never move a test call back", (t) =>
    withStore(engine, (store) => {
      const a = store.addSite("Tanaka home", "tanaka@example.com");
      const b = store.addSite("Suzuki shop");
      t.true(b > a);
      t.is(store.addSite("Tanaka home"), a, "the same name is the same site");
      store.addTerminal({ id: "T0001", siteId: a, secretHash: "h1", tariff: TARIFF });
      store.addTerminal({ id: "T0001", siteId: b, secretHash: "h2", tariff: TARIFF });
      t.like(store.terminal("T0001"), { id: "T0001", siteId: b, secretHash: "h2", tariff: TARIFF, tariffVersion: 0, tariffConfirmed: 0, lastTest: null });
      t.is(store.siteOf("T0001"), b);
      t.is(store.siteOf("T9999"), null);
      store.setLastTest("T0001", NOW);
      store.setLastTest("T0001", NOW - 5000);
      t.is(store.terminal("T0001")!.lastTest, NOW, "an older test call does not move it back");
      store.setRegistered("T0001", "fw 1", NOW);
      store.setRegistered("T0001", "fw 2", NOW + 1);
      t.like(store.terminal("T0001"), { registeredAt: NOW, firmware: "fw 2" });
      store.addTariffVersion("T0001", 1, { ...TARIFF, version: 1 }, NOW);
      store.confirmTariff("T0001", 1);
      store.confirmTariff("T0001", 0);
      t.like(store.terminal("T0001"), { tariffVersion: 1, tariffConfirmed: 1 });
      t.deepEqual(store.tariffVersions("T0001").map((v) => v.version), [1]);
      t.deepEqual(store.sites().map((s) => s.name), ["Tanaka home", "Suzuki shop"]);
    }));

  engine.test("a duplicate message, period or alarm returns false and changes nothing; big instants come back exact", (t) =>
    withStore(engine, (store) => {
      t.true(store.recordMessage("T0001", 7, "period", 1_776_000_000, NOW));
      t.false(store.recordMessage("T0001", 7, "period", 1_776_000_000, NOW + 1));
      t.is(store.messageCount(), 1);
      t.true(store.insertPeriod(period()));
      t.false(store.insertPeriod(period({ seq: 11, yen: 999 })), "same start: the period is already there");
      t.deepEqual(store.periods("T0001"), [period()]);
      const alarm = { terminal: "T0001", alarmId: 4, seq: 12, time: 1_776_000_100, sensor: "door", event: "intrusion", contactId: 130, pattern: 3, mediaId: 2, images: 3, clips: 0, receivedAt: NOW };
      t.true(store.insertAlarm(alarm));
      t.false(store.insertAlarm({ ...alarm, sensor: "other" }));
      t.deepEqual(store.alarms(), [{ ...alarm, status: "new" }]);
    }));

  engine.test("media chunks: a part counts once; the same bytes again are 'same', other bytes 'other'", (t) =>
    withStore(engine, (store) => {
      const c = { terminal: "T0001", mediaId: 2, item: 0, alarmId: 4, items: 1, type: "jpeg", parts: 2, bytes: 100, sha256: "aa" };
      t.like(store.addMediaChunk({ ...c, part: 0 }), { partState: "new", partsReceived: 1, bytes: 100, complete: false });
      t.like(store.addMediaChunk({ ...c, part: 0 }), { partState: "same", partsReceived: 1, bytes: 100 });
      t.like(store.addMediaChunk({ ...c, part: 0, sha256: "bb" }), { partState: "other", partsReceived: 1 });
      t.like(store.addMediaChunk({ ...c, part: 1, bytes: 50 }), { partState: "new", partsReceived: 2, bytes: 150 });
      store.completeMedia("T0001", 2, 0, "T0001/2/0.jpg", 150);
      t.like(store.media("T0001")[0], { complete: true, path: "T0001/2/0.jpg", bytes: 150 });
    }));

  engine.test("a failed step (attempt) is undone alone; a throw undoes the whole transaction", (t) =>
    withStore(engine, (store) => {
      store.transaction(() => {
        store.insertTestCall({ terminal: "T0001", seq: 1, time: 1, boots: 1, outbox: 0, signal: null });
        const e = t.throws(() => store.attempt(() => {
          store.insertWarning({ terminal: "T0001", seq: 2, time: 2, code: "w", text: "kept?" });
          store.insertTestCall({ terminal: "T0001", seq: 1, time: 1, boots: 1, outbox: 0, signal: null }); // the same key again
        }), { any: true }); // (better-sqlite3's SqliteError is not an Error to ava)
        t.regex(String((e as Error | undefined)?.message), /UNIQUE|unique|duplicate/);
        store.insertTestCall({ terminal: "T0001", seq: 3, time: 3, boots: 1, outbox: 0, signal: -70 });
      });
      t.throws(() => store.transaction(() => {
        store.insertTestCall({ terminal: "T0001", seq: 4, time: 4, boots: 1, outbox: 0, signal: null });
        throw new Error("power cut");
      }), { message: "power cut" });
      const web = new WebStores(store.db);
      t.deepEqual(web.terminals.lastTestCalls("T0001", 10).map((r) => r.seq), [3, 1]);
      t.deepEqual(web.terminals.warnings(["T0001"], 10), [], "the failed attempt's warning is gone");
      t.deepEqual(web.terminals.lastTestCalls("T0001", 10)[0], { seq: 3, time: 3, boots: 1, outbox: 0, signal: -70 });
    }));

  engine.test("rejects: every one counted per terminal, a capped sample kept with its payload bytes", (t) =>
    withStore(engine, (store) => {
      const n = REJECT_SAMPLE + 3;
      store.transaction(() => {
        for (let i = 0; i < n; i++) store.insertReject({ at: NOW + i, terminal: i % 2 ? "T0001" : null, topic: "tg/x", reason: `bad ${i}`, payload: Uint8Array.of(i & 255, 0, 255) });
      });
      const sample = store.rejects();
      t.is(sample.length, REJECT_SAMPLE);
      t.is(sample[0].reason, "bad 3");
      t.deepEqual(store.rejectCounts().map((r) => [r.terminal, r.count]), [["?", Math.ceil(n / 2)], ["T0001", Math.floor(n / 2)]]);
      const row = store.db.prepare("SELECT payload FROM rejects WHERE reason = ?").get("bad 502");
      t.deepEqual([...(row!.payload as Uint8Array)], [502 & 255, 0, 255]);
    }));

  engine.test("web store: users, sessions, destinations, notifications, faults, settings and supervision round-trip", (t) =>
    withStore(engine, (store, web) => {
      const site = store.addSite("Tanaka home");
      const admin = web.accounts.addUser({ username: "admin", passwordHash: "x", role: "admin", siteId: null }, NOW);
      const mgr = web.accounts.addUser({ username: "mgr", passwordHash: "y", role: "manager", siteId: site }, NOW);
      t.true(mgr > admin);
      t.throws(() => web.accounts.addUser({ username: "bad", passwordHash: "z", role: "manager", siteId: null }, NOW), { any: true }, "a manager without a site breaks a CHECK");
      web.accounts.addSession({ idHash: "s1", userId: mgr, csrf: "c", createdAt: NOW, expiresAt: NOW + 1000 });
      t.like(web.accounts.session("s1"), { userId: mgr, expiresAt: NOW + 1000 });
      web.accounts.setPassword(mgr, "y2");
      t.is(web.accounts.session("s1"), undefined, "a new password ends the sessions");
      const d = web.notify.addDestination({ audience: "site", siteId: site, kind: "email", address: "a@example.com", secret: null, createdAt: NOW });
      web.notify.updateDestination(d, { address: "b@example.com", secret: null });
      t.like(web.notify.destinations({ siteId: site })[0], { id: d, address: "b@example.com", secret: null });
      const n = web.notify.addNotification({ destinationId: d, kind: "email", address: "b@example.com", audience: "site", siteId: site, terminal: "T0001", event: "alarm", alarmId: 4, faultId: null, subject: "Alarm", status: "waiting-media", nextAt: NOW + 60_000, createdAt: NOW });
      t.is(web.notify.releaseWaiting("T0001", 4, NOW + 5), 1);
      t.deepEqual(web.notify.dueNotifications(NOW + 5, 10).map((x) => x.id), [n]);
      web.notify.updateNotification(n, { status: "sent", attempts: 1, nextAt: NOW + 5, lastError: null, sentAt: NOW + 6 });
      t.like(web.notify.notification(n), { status: "sent", attempts: 1, sentAt: NOW + 6, attachments: 0 });
      t.is(web.notify.nextNotificationAt(), null);
      const f = web.faults.raiseFault({ terminal: "T0001", kind: "silent", detail: "no test call", raisedAt: NOW });
      t.like(web.faults.openFault("T0001", "silent"), { id: f, clearedAt: null });
      web.supervision.heard("T0001", NOW, false);
      web.supervision.heard("T0002", NOW + 10, false);
      web.supervision.heard("T0002", NOW + 20, true);
      web.supervision.heard("T0002", NOW + 15, true);
      t.deepEqual(web.supervision.supervision("T0002"), { firstHeardAt: NOW + 10, lastTestAt: NOW + 20 });
      t.deepEqual(web.supervision.overdue(NOW + 100, "silent", 10), [{ terminal: "T0002", firstHeardAt: NOW + 10, lastTestAt: NOW + 20 }], "T0001 already has an open fault");
      web.faults.clearFault(f, NOW + 1, "test");
      t.deepEqual(web.supervision.overdue(NOW + 100, "silent", 10).map((r) => r.terminal), ["T0001", "T0002"]);
      web.settings.setSetting("k", "1");
      web.settings.setSetting("k", "2");
      t.is(web.settings.setting("k"), "2");
    }));

  engine.test("a fault, a destination and an alarm action are found by id in SQL; faults take a limit, newest first", (t) =>
    withStore(engine, (store, web) => {
      const site = store.addSite("Tanaka home");
      const f1 = web.faults.raiseFault({ terminal: "T0001", kind: "silent", detail: "one", raisedAt: NOW });
      const f2 = web.faults.raiseFault({ terminal: "T0002", kind: "silent", detail: "two", raisedAt: NOW + 1 });
      t.like(web.faults.fault(f1), { id: f1, terminal: "T0001", detail: "one", clearedAt: null });
      t.is(web.faults.fault(f2 + 1), undefined);
      t.deepEqual(web.faults.faults({ limit: 1 }).map((f) => f.id), [f2]);
      t.deepEqual(web.faults.faults({ terminals: ["T0001"], limit: 5 }).map((f) => f.id), [f1]);
      const d1 = web.notify.addDestination({ audience: "site", siteId: site, kind: "email", address: "a@example.com", secret: null, createdAt: NOW });
      const d2 = web.notify.addDestination({ audience: "operators", siteId: null, kind: "webhook", address: "http://127.0.0.1:9/h", secret: "s", createdAt: NOW });
      t.like(web.notify.destination(d2), { id: d2, audience: "operators", secret: "s" });
      t.like(web.notify.destination(d1), { id: d1, address: "a@example.com" });
      t.is(web.notify.destination(-1), undefined);
      const a = web.actions.addAlarmAction({ terminal: "T0001", alarmId: 4, action: "acknowledge", userId: null, username: "op", role: "operator", note: "on it", at: NOW });
      web.actions.markActionSent(a, NOW + 5, null);
      t.like(web.actions.alarmAction(a), { id: a, terminal: "T0001", alarmId: 4, note: "on it", sentAt: NOW + 5 });
      t.is(web.actions.alarmAction(a + 1), undefined);
    }));

  engine.test("the operators' queue and a page's media and actions by alarm key, ordered byte-wise as in SQLite", (t) =>
    withStore(engine, (store, web) => {
      const base = { seq: 1, time: 1_776_000_000, sensor: "door", event: "intrusion", mediaId: null, images: null, clips: null, receivedAt: NOW };
      // "Ta" < "tb" byte-wise (capitals first); a locale collation would order them the other way round
      for (const [terminal, alarmId, contactId, pattern] of [["tb", 1, 130, 3], ["Ta", 1, 130, 3], ["Ta", 2, 121, 1], ["Ta", 3, 401, 3], ["tb", 2, 130, 1]] as const) {
        store.insertAlarm({ ...base, terminal, alarmId, contactId, pattern });
      }
      web.alarms.setAlarmStatus("tb", 1, "closed");
      const { queue, recent } = web.alarms.operatorAlarms();
      t.deepEqual(queue.map((a) => `${a.terminal}/${a.alarmId}`), ["Ta/2", "Ta/1"], "duress first; pattern 1 and openings are not theirs");
      t.deepEqual(recent.map((a) => `${a.terminal}/${a.alarmId}`), ["tb/1"]);
      const chunk = { mediaId: 9, item: 0, items: 1, type: "jpeg", part: 0, parts: 1, bytes: 1, sha256: "a" };
      store.addMediaChunk({ ...chunk, terminal: "tb", alarmId: 1 });
      store.addMediaChunk({ ...chunk, terminal: "Ta", alarmId: 1 });
      const act = web.actions.addAlarmAction({ terminal: "Ta", alarmId: 2, action: "acknowledge", userId: null, username: "op", role: "operator", note: null, at: NOW });
      const keys = [{ terminal: "tb", alarmId: 1 }, { terminal: "Ta", alarmId: 1 }, { terminal: "Ta", alarmId: 2 }];
      t.deepEqual(web.alarms.mediaOfAlarms(keys).map((m) => m.terminal), ["Ta", "tb"]);
      t.deepEqual(web.actions.actionsOfAlarms(keys).map((a) => a.id), [act]);
    }));

  engine.test("downlinks keep their payload bytes until delivered once; the login limit counts in the database", (t) =>
    withStore(engine, (store) => {
      const down = new Downlinks(store.db);
      const payload = Uint8Array.of(0xa4, 0, 1, 255);
      const id = down.add({ terminal: "T0001", seq: 5, name: "dispatch", payload, createdAt: NOW });
      t.deepEqual([...down.get(id)!.payload], [...payload]);
      t.deepEqual(down.pending("T0001").map((d) => d.id), [id]);
      t.is(down.delivered("T0001", 5, NOW + 1), id);
      t.is(down.delivered("T0001", 5, NOW + 2), null, "a second acknowledgement changes nothing");
      t.like(down.get(id), { deliveredAt: NOW + 1 });
      let now = NOW;
      const limiter = new LoginLimiter(store.db, () => now, { perUser: 2, accountFree: 10 });
      t.true(limiter.reserve("10.0.0.1", "admin").ok);
      t.true(limiter.reserve("10.0.0.1", "Admin").ok);
      const third = limiter.reserve("10.0.0.1", "admin");
      t.false(third.ok);
      now += 15 * 60 * 1000 + 1;
      const r = limiter.reserve("10.0.0.1", "admin");
      t.true(r.ok, "the window slid past the two attempts");
      limiter.succeeded("10.0.0.1", "admin", r);
      t.is(store.db.prepare("SELECT COUNT(*) AS n FROM login_attempts").get()!.n, 0);
    }));
}

test("`?` parameters become $1…$n outside quoted text", (t) => {
  t.is(numberParameters(`SELECT a AS "x?" FROM t WHERE b = ? AND c = '?' AND d IN (?, ?)`), `SELECT a AS "x?" FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)`);
});

test("a PostgreSQL that cannot be reached stops the start with the reason, and no password in it", async (t) => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p)); // a port nobody listens on
    });
  });
  const e = t.throws(() => openStore({ dataDir: "unused", store: `postgres://center:hunter2-secret@127.0.0.1:${port}/tg` }));
  t.regex(String(e?.message), /ECONNREFUSED/);
  t.notRegex(String(e?.message), /hunter2/);
});

const postgres = engines.find((e) => e.name === "postgres")!;

postgres.test("the migrations build the same tables and columns on both engines", (t) =>
  withStore(postgres, (pg) => {
    const dir = mkdtempSync(join(tmpdir(), "tg-store-"));
    const lite = openStore({ dataDir: dir });
    try {
      const liteCols = (lite.db.prepare("SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1, 2").all()).map((r) => `${r.t}.${r.c}`);
      const pgCols = pg.db.prepare("SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2").all().map((r) => `${r.t}.${r.c}`);
      t.true(liteCols.length > 100);
      t.deepEqual(pgCols, liteCols);
      t.is(pg.schemaVersion, lite.schemaVersion);
    } finally {
      lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }));

postgres.test("PostgreSQL's errors come with its message and code; an integer past 2^53 is refused, not rounded", (t) =>
  withStore(postgres, (store) => {
    const e = t.throws(() => store.db.exec("SELECT * FROM no_such_table"));
    t.regex(String(e?.message), /relation "no_such_table" does not exist/);
    t.is((e as Error & { code?: string }).code, "42P01");
    t.throws(() => store.db.prepare("SELECT 9007199254740993::bigint AS n").get(), { message: /does not fit a JavaScript number/ });
    t.is(store.db.prepare("SELECT 9007199254740991::bigint AS n").get()!.n, Number.MAX_SAFE_INTEGER);
    t.is(store.db.prepare("SELECT ?::bigint + 1 AS n").get(41)!.n, 42, "the store is still usable after an error");
  }));

postgres.test("a transaction PostgreSQL aborted is not reported committed, and two centers on one database migrate once", (t) =>
  withStore(postgres, (store) => {
    t.throws(() => store.transaction(() => {
      store.recordMessage("T0001", 1, "test", 1, NOW);
      try {
        store.db.exec("SELECT * FROM no_such_table"); // swallowed: the transaction is now aborted
      } catch {
        // ignored on purpose
      }
    }), { message: /aborted/ });
    t.is(store.messageCount(), 0);
    const url = (store.db as PgDb).url;
    const again = openStore({ dataDir: "unused", store: url });
    try {
      t.is(again.schemaVersion, store.schemaVersion);
      t.is(again.db.prepare("SELECT COUNT(*) AS n FROM schema_version").get()!.n, store.schemaVersion);
    } finally {
      again.close();
    }
  }));


postgres.test("the server ends the center's connection: a transaction in flight is not committed, and the next call reconnects", (t) =>
  withStore(postgres, async (store) => {
    const admin = new PgDb((store.db as PgDb).url);
    const kill = () => admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'timeguard-center' AND pid <> pg_backend_pid()");
    const settle = () => new Promise((r) => setTimeout(r, 200)); // the worker sees the socket close
    try {
      t.true(store.recordMessage("T0001", 1, "test", 1, NOW));
      kill();
      await settle();
      t.true(store.recordMessage("T0001", 2, "test", 2, NOW), "outside a transaction the next call reconnects");
      const e = t.throws(() => store.transaction(() => {
        store.recordMessage("T0001", 3, "test", 3, NOW);
        kill();
        const end = Date.now() + 200;
        while (Date.now() < end); // (the worker thread notices meanwhile)
        store.recordMessage("T0001", 4, "test", 4, NOW);
      }));
      t.regex(String(e?.message), /lost inside a transaction|terminat/i);
      await settle();
      t.is(store.messageCount(), 2, "messages 3 and 4 were not committed");
      t.true(store.recordMessage("T0001", 3, "test", 3, NOW), "and the store goes on");
    } finally {
      admin.close();
    }
  }));
