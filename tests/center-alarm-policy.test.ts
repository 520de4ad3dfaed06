import test from "ava";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ALARM_ACTIONS, actionsFor, audiences, forOperators, liveForOperators, operatorQueue, refusal } from "../center/alarm-policy";
import { openStore } from "../center/store/open-store";
import { WebStores } from "../center/store/web-store";
import { storeEngines } from "./helpers/stores";
import { PASSWORDS, WebClient, alarmMessages, publishAs, s, withWebCenter } from "./helpers/center-web";

test("the policy: who is told, whose queue, who may act, by guard pattern; a person in danger is the operators' under any pattern", (t) => {
  const burglary = (pattern: number) => ({ pattern, contactId: 130 });
  t.deepEqual(audiences(burglary(1)), ["site"]);
  t.deepEqual(audiences(burglary(2)), ["site"]);
  t.deepEqual(audiences(burglary(3)), ["operators"]);
  t.deepEqual(audiences({ pattern: 1, contactId: 121 }), ["site", "operators"], "duress under pattern 1: the operators are told too");
  t.deepEqual(audiences({ pattern: 3, contactId: 120 }), ["operators"]);
  t.false(forOperators(burglary(2), false));
  t.true(forOperators(burglary(2), true), "a manager asked for guards");
  t.false(forOperators({ pattern: 3, contactId: 401 }, false), "an opening is a record");
  t.true(liveForOperators({ pattern: 2, contactId: 120 }));
  t.false(liveForOperators(burglary(1), { action: "close", role: "manager" }));
  t.true(liveForOperators(burglary(2), { action: "request-guards", role: "manager" }));

  t.deepEqual(actionsFor("operator", { ...burglary(3), status: "new" }), ["acknowledge", "dispatch", "close"]);
  t.deepEqual(actionsFor("operator", { ...burglary(1), status: "new" }), ["close"]);
  t.deepEqual(actionsFor("manager", { ...burglary(2), status: "new" }), ["request-guards", "close"]);
  t.deepEqual(actionsFor("manager", { ...burglary(3), status: "new" }), []);
  t.deepEqual(actionsFor("manager", { pattern: 2, contactId: 121, status: "new" }), [], "duress is the operators' to handle: no button that would be refused");
  t.deepEqual(actionsFor("operator", { pattern: 1, contactId: 121, status: "new" }), ["acknowledge", "dispatch", "close"]);
  t.deepEqual(refusal("operator", "close", { ...burglary(3), status: "new" }, ""), { code: 400, error: "note: say how the alarm was resolved" });
  for (const role of ["admin", "operator", "manager"] as const) for (const a of ALARM_ACTIONS) t.not(refusal(role, a, { ...burglary(3), status: "closed" }, "n"), null, `${role} ${a} on a closed alarm`);
});

// on both store engines (tests/helpers/stores.ts): the order is SQL's, byte-wise on both
for (const engine of storeEngines()) engine.test("the operators' queue in SQL equals the policy's own filter and order, for any alarms and requests for guards", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-policy-"));
  const store = openStore({ dataDir: dir, store: engine.fresh() });
  const web = new WebStores(store.db);
  try {
    const alarm = fc.record({
      terminal: fc.constantFrom("T0001", "T0002", "T0003"),
      alarmId: fc.integer({ min: 1, max: 40 }),
      contactId: fc.constantFrom(100, 110, 120, 121, 130, 134, 301, 401, 602),
      pattern: fc.integer({ min: 1, max: 3 }),
      status: fc.constantFrom("new", "acknowledged", "dispatched", "closed"),
      receivedAt: fc.integer({ min: 0, max: 5 }),
      time: fc.integer({ min: 0, max: 3 }),
      requested: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(alarm, { maxLength: 40 }), (list) => {
        store.db.exec("DELETE FROM alarm_actions; DELETE FROM alarms");
        const requested = new Set<string>();
        for (const a of list) {
          if (!store.insertAlarm({ terminal: a.terminal, alarmId: a.alarmId, seq: a.alarmId, time: a.time, sensor: "A0001", event: "burglary", contactId: a.contactId, pattern: a.pattern, mediaId: null, images: null, clips: null, receivedAt: a.receivedAt })) continue;
          web.alarms.setAlarmStatus(a.terminal, a.alarmId, a.status);
          if (a.requested) {
            web.actions.addAlarmAction({ terminal: a.terminal, alarmId: a.alarmId, action: "request-guards", userId: null, username: "m", role: "manager", note: null, at: 0 });
            requested.add(`${a.terminal}/${a.alarmId}`);
          }
        }
        const expected = operatorQueue(store.alarms(), requested);
        const got = web.alarms.operatorAlarms();
        const key = (x: { terminal: string; alarmId: number }) => `${x.terminal}/${x.alarmId}`;
        t.deepEqual(got.queue.map(key), expected.queue.map(key));
        t.deepEqual(got.recent.map(key), expected.recent.map(key));
      }),
      { numRuns: 150 },
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a duress alarm under pattern 1 reaches the operators: notified, live on their page, in their queue with their buttons; not the manager's buttons", async (t) => {
  await withWebCenter(async ({ center, base, site1 }) => {
    const now = Date.now();
    center.web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: now });
    center.web.notify.addDestination({ audience: "operators", siteId: null, kind: "email", address: "ops@guard.example", secret: null, createdAt: now });
    const op = new WebClient(base);
    t.is((await op.login("operator", PASSWORDS.operator)).status, 303);
    const res = await fetch(base + "/events", { headers: { cookie: `tg_session=${op.jar.get("tg_session")}` } });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let live = "";
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        live += new TextDecoder().decode(value);
      }
    })();
    while (center.hub.size < 1) await new Promise((r) => setTimeout(r, 20));
    await publishAs(center, "T0001", [{ name: "alarm", seq: 1, time: s("2026-04-28T03:00"), body: { alarmId: 5, sensor: "keypad", event: "duress", contactId: 121, pattern: 1 } }]);
    const deadline = Date.now() + 5000;
    while (!/"alarmId":5/.test(live) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await reader.cancel();
    t.regex(live, /event: alarm\ndata: \{"terminal":"T0001","alarmId":5/, "live on the operators' page");
    const told = center.web.notify.notifications().filter((n) => n.alarmId === 5).map((n) => n.address).sort();
    t.deepEqual(told, ["ops@guard.example", "tanaka@example.com"]);
    const queue = (await (await op.get("/api/queue")).json()) as Array<{ alarm: { alarmId: number } }>;
    t.deepEqual(queue.map((x) => x.alarm.alarmId), [5]);
    const page = await (await op.get("/operator")).text();
    t.regex(page, /data-action="dispatch"/);
    const m1 = new WebClient(base);
    t.is((await m1.login("manager1", PASSWORDS.manager1)).status, 303);
    const sitePage = await (await m1.get(`/site/${site1}`)).text();
    t.regex(sitePage, /DURESS/);
    t.notRegex(sitePage, /data-action="close"/, "the manager is not offered a close the dispatcher would refuse");
  });
});

test("the operators' page costs the same number of queries for 3 alarms as for 30 (no query per alarm)", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    const op = new WebClient(base);
    t.is((await op.login("operator", PASSWORDS.operator)).status, 303);
    const db = center.web.db;
    const prepare = db.prepare.bind(db);
    let queries = 0;
    db.prepare = ((sql: string) => {
      queries++;
      return prepare(sql);
    }) as typeof db.prepare;
    // the fewest of three loads: a background query (the notifier's poll) may land inside one
    const count = async () => {
      let fewest = Infinity;
      for (let i = 0; i < 3; i++) {
        queries = 0;
        t.is((await op.get("/operator")).status, 200);
        fewest = Math.min(fewest, queries);
      }
      return fewest;
    };
    const add = async (from: number, to: number) => {
      const msgs = [];
      for (let id = from; id <= to; id++) msgs.push(...alarmMessages({ alarmId: id, mediaId: id, pattern: 3, seq: id * 10, time: s("2026-04-28T03:00") + id, images: 1 }));
      await publishAs(center, "T0001", msgs);
    };
    await add(1, 3);
    const few = await count();
    await add(4, 30);
    const many = await count();
    t.is((await (await op.get("/api/queue")).json()).length, 30);
    t.is(many, few, `${few} queries for 3 alarms, ${many} for 30`);
  });
});
