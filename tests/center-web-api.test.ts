import test, { type ExecutionContext } from "ava";
import { decode } from "cbor-x";
import { createServer } from "node:http";
import { MISSED_TEST } from "../center/supervision";
import { downTopic, messageFromCbor } from "../firmware/uplink/messages";
import { PASSWORDS, SECRETS, WebClient, alarmMessages, publishAs, s, withWebCenter, workedExamplePeriods } from "./helpers/center-web";
import { RawMqtt } from "./helpers/mqtt-raw";
import { type StoreEngine, storeEngines } from "./helpers/stores";

// The web's tests run on both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

/** The next downlink, acknowledged (PUBACK) as the terminal's client does. */
async function receive(client: RawMqtt) {
  const p = (await client.next("publish")) as { payload: Buffer; messageId: number } | null;
  if (!p) throw new Error("the connection closed");
  client.send({ cmd: "puback", messageId: p.messageId } as never);
  return messageFromCbor(decode(p.payload));
}

each("each role logs in to its own home; a wrong password does not; logging out ends the session", async (t, engine) => {
  await withWebCenter(async ({ base, site1 }) => {
    const homes: Array<[string, string, string]> = [
      ["admin", PASSWORDS.admin, "/admin"],
      ["operator", PASSWORDS.operator, "/operator"],
      ["manager1", PASSWORDS.manager1, `/site/${site1}`],
    ];
    for (const [user, password, home] of homes) {
      const c = new WebClient(base);
      const res = await c.login(user, password);
      t.is(res.status, 303, user);
      t.is(res.headers.get("location"), home);
      const cookie = res.headers.getSetCookie().find((x) => x.startsWith("tg_session=")) ?? "";
      t.regex(cookie, /HttpOnly/);
      t.regex(cookie, /SameSite=Strict/);
      const page = await c.get(home);
      t.is(page.status, 200);
      t.regex(await page.text(), new RegExp(`${user} \\(`));
      t.is((await c.post("/logout", {})).status, 303);
      t.is((await c.get(home)).headers.get("location"), "/login", "the session is gone");
    }
    const form = await (await new WebClient(base).get("/login")).text();
    t.notRegex(form, /demo-logins|Demo logins/, "a real center's login page names no login");
    const bad = new WebClient(base);
    const res = await bad.login("admin", "not-the-password");
    t.is(res.status, 401);
    t.regex(await res.text(), /Wrong user or password/);
    t.is((await bad.get("/admin")).status, 303);
    t.is((await bad.get("/api/alarms")).status, 401);
  }, { store: engine.fresh() });
});

each("CSRF: POSTs without the session's token, with a wrong one, or from another origin are refused", async (t, engine) => {
  await withWebCenter(async ({ center, base }) => {
    await publishAs(center, "T0001", alarmMessages({ alarmId: 1, mediaId: 1, pattern: 3, seq: 1, time: s("2026-04-28T02:10") }));
    const op = new WebClient(base);
    await op.login("operator", PASSWORDS.operator);
    t.truthy(op.csrf);
    t.is((await op.post("/alarm/T0001/1/acknowledge", {}, { csrf: false })).status, 403, "no token");
    t.is((await op.post("/alarm/T0001/1/acknowledge", { _csrf: "x".repeat(43) }, { csrf: false })).status, 403, "a wrong token");
    t.is((await op.post("/alarm/T0001/1/acknowledge", {}, { headers: { origin: "http://evil.example" } })).status, 403, "another origin");
    t.is(center.web.alarms.alarm("T0001", 1)?.status, "new", "nothing happened");
    t.is(center.web.actions.alarmActions().length, 0);
    const ok = await op.post("/alarm/T0001/1/acknowledge", {});
    t.is(ok.status, 303);
    t.is(center.web.alarms.alarm("T0001", 1)?.status, "acknowledged");
    // The login form has its own token (double submit): a login POST without it is refused.
    const raw = await fetch(base + "/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "username=admin&password=" + PASSWORDS.admin, redirect: "manual" });
    t.is(raw.status, 403);
    t.is(raw.headers.getSetCookie().filter((c) => c.startsWith("tg_session=")).length, 0);
    t.true(center.webApp.counts.csrfRefused >= 4);
  }, { store: engine.fresh() });
});

each("login rate limit: after five failures even the right password is refused until the window has passed", async (t, engine) => {
  let clock = Date.parse("2026-04-20T00:00:00Z");
  await withWebCenter(
    async ({ base }) => {
      const c = new WebClient(base);
      for (let i = 0; i < 5; i++) t.is((await c.login("manager1", "wrong-password-" + i)).status, 401);
      const blocked = await c.login("manager1", PASSWORDS.manager1);
      t.is(blocked.status, 429);
      t.truthy(Number(blocked.headers.get("retry-after")) > 0);
      t.regex(await blocked.text(), /Too many failed logins/);
      // Another user from the same address is not locked out by manager1's failures (under the per-address limit).
      t.is((await new WebClient(base).login("operator", PASSWORDS.operator)).status, 303);
      clock += 15 * 60 * 1000 + 1000;
      t.is((await c.login("manager1", PASSWORDS.manager1)).status, 303, "the window has moved on");
    },
    { store: engine.fresh(), now: () => clock },
  );
});

each("a manager sees its own site only: pages, alarms, media and the API answer 404 for another site", async (t, engine) => {
  await withWebCenter(async ({ center, base, site1, site2 }) => {
    await publishAs(center, "T0001", [...alarmMessages({ alarmId: 1, mediaId: 1, pattern: 2, seq: 1, time: s("2026-04-28T02:10") }), ...workedExamplePeriods(100)]);
    await publishAs(center, "T0002", alarmMessages({ alarmId: 7, mediaId: 3, pattern: 1, seq: 1, time: s("2026-04-28T03:00"), sensor: "A0009" }));
    const m1 = new WebClient(base);
    await m1.login("manager1", PASSWORDS.manager1);
    const own = await (await m1.get(`/site/${site1}`)).text();
    t.regex(own, /Tanaka home/);
    t.notRegex(own, /Suzuki|T0002|A0009/);
    t.regex(own, /src="\/media\/T0001\/1\/0"/);
    // by link
    for (const path of [`/site/${site2}`, "/alarm/T0002/7", "/media/T0002/3/0", "/media/T0002/3/2", "/operator", "/admin"]) {
      const res = await m1.get(path);
      t.is(res.status, 404, path);
      t.notRegex(await res.text(), /Suzuki|A0009/, path);
    }
    t.is((await m1.get("/media/T0001/1/0")).headers.get("content-type"), "image/jpeg");
    // by API
    for (const path of [`/api/sites/${site2}`, `/api/sites/${site2}/periods`, `/api/sites/${site2}/alarms`, "/api/terminals/T0002/periods", "/api/queue", "/api/faults"]) {
      t.is((await m1.get(path)).status, 404, path);
    }
    const alarms = (await (await m1.get("/api/alarms")).json()) as Array<{ terminal: string }>;
    t.deepEqual([...new Set(alarms.map((a) => a.terminal))], ["T0001"]);
    const sites = (await (await m1.get("/api/sites")).json()) as Array<{ id: number }>;
    t.deepEqual(sites.map((x) => x.id), [site1]);
    const act = await fetch(base + "/api/alarms/T0002/7/request-guards", { method: "POST", headers: { cookie: `tg_session=${m1.jar.get("tg_session")}`, "x-csrf-token": m1.csrf, "content-type": "application/json" }, body: "{}" });
    t.is(act.status, 404, "acting on another site's alarm");
    t.is(center.web.alarms.alarm("T0002", 7)?.status, "new");
    // The other manager, symmetrically; the operator and the admin see both.
    const m2 = new WebClient(base);
    await m2.login("manager2", PASSWORDS.manager2);
    t.is((await m2.get(`/site/${site1}`)).status, 404);
    t.is((await m2.get(`/site/${site2}`)).status, 200);
    const op = new WebClient(base);
    await op.login("operator", PASSWORDS.operator);
    t.is((await op.get(`/site/${site2}`)).status, 200);
    t.is(((await (await op.get("/api/alarms")).json()) as unknown[]).length, 2);
  }, { store: engine.fresh() });
});

each("the site's periods table: DESIGN §2's two rows, 50,976 yen, 5,097 counts, from the center's own recomputation", async (t, engine) => {
  await withWebCenter(async ({ center, base, site1 }) => {
    await publishAs(center, "T0001", workedExamplePeriods(1));
    const m1 = new WebClient(base);
    await m1.login("manager1", PASSWORDS.manager1);
    const page = await (await m1.get(`/site/${site1}`)).text();
    t.regex(page, /<td>2026-04-16 20:00<\/td><td>2026-04-16 23:00<\/td><td>1<\/td><td>2<\/td><td>1<\/td><td>120<\/td><td>3<\/td><td>360<\/td>/);
    t.regex(page, /<td>2026-04-27 12:00<\/td><td>2026-05-05 12:00<\/td><td>3<\/td><td>2<\/td><td>2<\/td><td>330<\/td><td>192<\/td><td>63,360<\/td>/);
    t.regex(page, /Total 0\.8 × 63,720/);
    t.regex(page, /data-total-yen="50976">50,976 yen/);
    t.regex(page, /data-counts="5097">5,097/);
    t.regex(page, /<svg[^>]+aria-label="Hours guarded per day"/);
    const api = (await (await m1.get(`/api/sites/${site1}/periods`)).json()) as Array<{ totalYen: number; countsTaken: number; baseYen: number; days: Array<{ day: string; seconds: number; yen: number }> }>;
    t.is(api[0].totalYen, 50976);
    t.is(api[0].baseYen, 63720);
    t.is(api[0].countsTaken, 5097);
    // per day: 3 h on 04-16, 12 h on 04-27, 24 h for each day through 05-04, 12 h on 05-05
    t.deepEqual(api[0].days.map((d) => d.seconds / 3600), [3, 12, 24, 24, 24, 24, 24, 24, 24, 12]);
    t.is(api[0].days[0].yen, 288);
    t.is(api[0].days[2].yen, Math.floor((330 * 24 * 0.8 * 1000) / 1000));
  }, { store: engine.fresh() });
});

each("an operator dispatches a pattern-3 alarm: recorded, and the dispatch reaches the terminal's subscription", async (t, engine) => {
  await withWebCenter(async ({ center, base, site1 }) => {
    // The terminal subscribes once (persistent session), then hangs up as a dial-up terminal does.
    const first = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    t.deepEqual(await first.client.subscribe(downTopic("T0001")), [1]);
    first.client.close();
    await publishAs(center, "T0001", alarmMessages({ alarmId: 4, mediaId: 2, pattern: 3, seq: 1, time: s("2026-04-28T02:10") }));
    const op = new WebClient(base);
    await op.login("operator", PASSWORDS.operator);
    const queue = await (await op.get("/operator")).text();
    t.regex(queue, /id="alarm-T0001-4"/);
    t.regex(queue, /Tanaka 090-1111/, "the site's contact is in the queue");
    const res = await op.post("/alarm/T0001/4/dispatch", { note: "unit 12 on the way", back: "/operator" });
    t.is(res.status, 303);
    t.regex(decodeURIComponent(res.headers.get("location") ?? ""), /dispatched, queued for the terminal/);
    t.is(center.web.actions.alarmActions("T0001", 4)[0].sentAt, null, "not delivered before the terminal acknowledges it");
    const term = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    t.true(term.sessionPresent);
    const m = await receive(term.client);
    t.is(m.name, "dispatch");
    t.deepEqual(m.body, { alarmId: 4, status: "dispatched", note: "unit 12 on the way" });
    for (let i = 0; i < 100 && center.web.actions.alarmActions("T0001", 4)[0].sentAt === null; i++) await new Promise((r) => setTimeout(r, 20));
    const [action] = center.web.actions.alarmActions("T0001", 4);
    t.like(action, { action: "dispatch", username: "operator", role: "operator", note: "unit 12 on the way", sendError: null });
    t.truthy(action.sentAt);
    t.is((await op.post("/alarm/T0001/4/dispatch", { back: "/operator" })).headers.get("location")?.includes("error="), true, "twice is refused");
    // closing needs a note
    t.regex(decodeURIComponent((await op.post("/alarm/T0001/4/close", { back: "/operator" })).headers.get("location") ?? ""), /note: say how/);
    await op.post("/alarm/T0001/4/close", { note: "burglar gone, window secured", back: "/operator" });
    const closed = await receive(term.client);
    t.like(closed.body, { alarmId: 4, status: "closed" });
    t.is(center.web.alarms.alarm("T0001", 4)?.status, "closed");
    term.client.close();
    // A manager may not dispatch a pattern-3 alarm; may ask for guards under pattern 2, which goes down too.
    await publishAs(center, "T0001", alarmMessages({ alarmId: 5, mediaId: 3, pattern: 2, seq: 100, time: s("2026-04-28T03:10") }));
    const early = await fetch(base + "/api/alarms/T0001/5/dispatch", { method: "POST", headers: { cookie: `tg_session=${op.jar.get("tg_session")}`, "x-csrf-token": op.csrf, "content-type": "application/json" }, body: "{}" });
    t.is(early.status, 409, "under pattern 2 the operator waits for the manager");
    t.regex(((await early.json()) as { error: string }).error, /when the site's manager asks/);
    const m1 = new WebClient(base);
    await m1.login("manager1", PASSWORDS.manager1);
    const page = await (await m1.get(`/site/${site1}`)).text();
    t.regex(page, /data-action="request-guards"/);
    const asked = await m1.post("/alarm/T0001/5/request-guards", { back: `/site/${site1}` });
    t.is(asked.status, 303);
    // publishAs took the terminal's client id (the broker drops the older connection), as a dial-up
    // terminal does; it dials again with its persistent session and gets what was queued meanwhile.
    const again = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    t.true(again.sessionPresent);
    const down = await receive(again.client);
    again.client.close();
    t.like(down.body, { alarmId: 5, status: "dispatched" });
    const api = await fetch(base + "/api/alarms/T0001/4/dispatch", { method: "POST", headers: { cookie: `tg_session=${m1.jar.get("tg_session")}`, "x-csrf-token": m1.csrf, "content-type": "application/json" }, body: "{}" });
    t.is(api.status, 409, "closed");
    t.regex(await (await op.get("/operator")).text(), /id="alarm-T0001-5"/, "a manager's request shows in the operators' queue");
  }, { store: engine.fresh() });
});

each("supervision: no daily test call within 24 h + grace raises one fault for the operators; the next call clears it", async (t, engine) => {
  let clock = s("2026-04-20T09:00") * 1000;
  const hooks: Array<{ body: string; signature: string }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      hooks.push({ body: Buffer.concat(chunks).toString(), signature: String(req.headers["x-timeguard-signature"]) });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const port = (receiver.address() as { port: number }).port;
  try {
    await withWebCenter(
      async ({ center, base }) => {
        center.web.notify.addDestination({ audience: "operators", siteId: null, kind: "webhook", address: `http://127.0.0.1:${port}/hook`, secret: "operators-webhook-secret", createdAt: clock });
        await publishAs(center, "T0001", [{ name: "test", seq: 1, time: s("2026-04-20T09:00"), body: { boots: 1, outbox: 0 } }]);
        t.is(center.store.terminal("T0001")?.lastTest, s("2026-04-20T09:00"));
        clock = (s("2026-04-21T09:00") + 3600 - 1) * 1000;
        t.deepEqual(center.supervisor.check().raised, [], "within 24 h + 1 h grace");
        clock = (s("2026-04-21T09:00") + 3600 + 1) * 1000;
        const { raised } = center.supervisor.check();
        t.is(raised.length, 1);
        t.like(raised[0], { terminal: "T0001", kind: MISSED_TEST });
        t.regex(raised[0].detail, /no daily test call since the one received 2026-04-20T09:00 \(terminal time 2026-04-20T09:00\)/);
        t.is(center.supervisor.check().raised.length, 0, "raised once");
        t.is(center.web.faults.faults({ open: true }).length, 1);
        // T0002 never came online: not supervised yet
        t.deepEqual(center.web.faults.faults().map((f) => f.terminal), ["T0001"]);
        const op = new WebClient(base);
        await op.login("operator", PASSWORDS.operator);
        t.regex(await (await op.get("/operator")).text(), /missed-test-call[\s\S]*no daily test call since/);
        await center.notifier.runDue();
        t.is(hooks.length, 1);
        t.like(JSON.parse(hooks[0].body), { event: "fault", terminal: "T0001" });
        // The next test call clears it.
        await publishAs(center, "T0001", [{ name: "test", seq: 2, time: s("2026-04-21T10:05"), body: { boots: 1, outbox: 0 } }]);
        t.is(center.web.faults.faults({ open: true }).length, 0);
        t.regex(center.web.faults.faults()[0].clearedBy ?? "", /test call received 2026-04-21T10:00:01 \(terminal time 2026-04-21T10:05\)/);
        // Arrivals count by the center's clock: a terminal whose own clock is months behind is not "late".
        await publishAs(center, "T0002", [{ name: "test", seq: 1, time: s("2025-12-01T00:00"), body: { boots: 1, outbox: 0 } }]);
        t.deepEqual(center.supervisor.check().raised, []);
      },
      { store: engine.fresh(), now: () => clock, supervision: { intervalMs: 3_600_000 } },
    );
  } finally {
    receiver.close();
  }
});

each("the admin registers a site with its manager and a terminal; a bad tariff is refused naming the field", async (t, engine) => {
  await withWebCenter(async ({ center, base }) => {
    const admin = new WebClient(base);
    await admin.login("admin", PASSWORDS.admin);
    t.is((await admin.post("/admin/sites", { name: "Sato home", contact: "Sato 090-3333", imagesPerEvent: "2", manager: "sato", managerPassword: "sato-pass-1234" })).status, 303);
    const site = center.web.sites.siteByName("Sato home") as { id: number };
    t.truthy(site);
    t.is(center.web.sites.imagesPerEvent(site.id), 2);
    const bad = await admin.post("/admin/terminals", { id: "T0003", secret: "sato-secret-1", siteId: String(site.id), tariff: JSON.stringify({ patterns: { "1": 100 }, devices: { sensor: 5, camera: 10 }, contracts: { single: 1, multiple: 0.9, continuous: 0.8123 }, yenPerCount: 10 }) });
    t.is(bad.status, 400);
    t.regex(await bad.text(), /tariff contracts\.continuous: has more than three decimals/);
    t.is(center.store.terminal("T0003"), undefined);
    t.is((await admin.post("/admin/terminals", { id: "T0003", secret: "sato-secret-1", siteId: String(site.id), tariff: '{"patterns":{"1":100,"2":200,"3":300},"devices":{"sensor":5,"camera":10},"contracts":{"single":1,"multiple":0.9,"continuous":0.8},"yenPerCount":10}' })).status, 303);
    t.is((await RawMqtt.login(center.mqttPort, "T0003", "sato-secret-1")).returnCode, 0, "the terminal logs in with its secret");
    // site ids past any integer the store takes are refused as no such site, never a store error
    t.is((await admin.post("/admin/destinations", { for: "site:99999999999999999999999", kind: "email", address: "sato@example.com" })).status, 400);
    t.is((await admin.post("/admin/terminals", { id: "T0009", secret: "sato-secret-1", siteId: "99999999999999999999999" })).status, 400);
    t.is((await admin.get("/site/99999999999999999999999")).status, 404);
    const dest = await admin.post("/admin/destinations", { for: `site:${site.id}`, kind: "webhook", address: "ftp://nope" });
    t.is(dest.status, 400);
    t.is((await admin.post("/admin/destinations", { for: `site:${site.id}`, kind: "email", address: "sato@example.com" })).status, 303);
    t.is(center.web.notify.destinations({ siteId: site.id }).length, 1);
    const sato = new WebClient(base);
    t.is((await sato.login("sato", "sato-pass-1234")).headers.get("location"), `/site/${site.id}`);
    t.is((await sato.get("/admin")).status, 404, "a manager is not an admin");
    // A new password ends the user's sessions; a removed user cannot log in.
    const satoId = (center.web.accounts.userByName("sato") as { id: number }).id;
    t.is((await admin.post(`/admin/users/${satoId}/password`, { password: "short" })).status, 400);
    t.is((await admin.post(`/admin/users/${satoId}/password`, { password: "sato-pass-5678" })).status, 303);
    t.is((await sato.get(`/site/${site.id}`)).headers.get("location"), "/login", "the old session is gone");
    t.is((await new WebClient(base).login("sato", "sato-pass-1234")).status, 401);
    t.is((await new WebClient(base).login("sato", "sato-pass-5678")).status, 303);
    t.is((await admin.post(`/admin/users/${satoId}/delete`, {})).status, 303);
    t.is((await new WebClient(base).login("sato", "sato-pass-5678")).status, 401);
    const adminId = (center.web.accounts.userByName("admin") as { id: number }).id;
    t.is((await admin.post(`/admin/users/${adminId}/delete`, {})).status, 400, "not oneself");
    const op = new WebClient(base);
    await op.login("operator", PASSWORDS.operator);
    t.is((await op.post("/admin/users", { username: "x", password: "xxxxxxxxxxxx", role: "admin" })).status, 404, "nor is an operator");
    t.is(center.web.accounts.userByName("x"), undefined);
  }, { store: engine.fresh() });
});

test("the demo seed: one site, T0001 with its known secret, the three demo logins; seeding twice changes nothing", async (t) => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { startCenter } = await import("../center/center");
  const { DEMO, seedDemo } = await import("../center/demo");
  const dir = mkdtempSync(join(tmpdir(), "tg-demo-"));
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0 });
  try {
    const a = seedDemo(center, { destinations: [{ audience: "operators", kind: "webhook", address: "http://127.0.0.1:9/ops", secret: "demo-webhook-secret-1" }] });
    const b = seedDemo(center, { destinations: [{ audience: "operators", kind: "webhook", address: "http://127.0.0.1:9/ops", secret: "demo-webhook-secret-1" }] });
    t.is(a.siteId, b.siteId);
    t.is(center.store.sites().length, 1);
    t.is(center.web.accounts.users().length, 3);
    t.is(center.web.notify.destinations().length, 1);
    t.is((await RawMqtt.login(center.mqttPort, DEMO.terminal, DEMO.terminalSecret)).returnCode, 0);
    const base = `http://127.0.0.1:${center.httpPort}`;
    for (const role of ["admin", "operator", "manager"] as const) {
      const c = new WebClient(base);
      t.is((await c.login(DEMO.users[role].username, DEMO.users[role].password)).status, 303, role);
    }
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

each("live events are scoped too: a manager's stream carries its own site's alarms, not another's", async (t, engine) => {
  await withWebCenter(async ({ center, base }) => {
    const m1 = new WebClient(base);
    await m1.login("manager1", PASSWORDS.manager1);
    const op = new WebClient(base);
    await op.login("operator", PASSWORDS.operator);
    const open = async (c: WebClient) => {
      const res = await fetch(base + "/events", { headers: { cookie: `tg_session=${c.jar.get("tg_session")}` } });
      t.is(res.headers.get("content-type"), "text/event-stream");
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })();
      return { text: () => text, close: () => reader.cancel() };
    };
    const s1 = await open(m1);
    const so = await open(op);
    while (center.hub.size < 2) await new Promise((r) => setTimeout(r, 20));
    await publishAs(center, "T0002", [alarmMessages({ alarmId: 8, mediaId: 8, pattern: 1, seq: 1, time: s("2026-04-28T03:00") })[0]]);
    await publishAs(center, "T0001", [alarmMessages({ alarmId: 3, mediaId: 3, pattern: 3, seq: 1, time: s("2026-04-28T03:05") })[0]]);
    await new Promise((r) => setTimeout(r, 300));
    t.regex(s1.text(), /event: alarm\ndata: \{"terminal":"T0001","alarmId":3/);
    t.notRegex(s1.text(), /T0002/);
    t.regex(so.text(), /"terminal":"T0001","alarmId":3/, "the operator gets pattern 3");
    t.notRegex(so.text(), /T0002/, "and not another site's pattern-1 alarm");
    await s1.close();
    await so.close();
    t.is((await fetch(base + "/events")).status, 401);
  }, { store: engine.fresh() });
});

const postgres = engines.find((e) => e.name === "postgres")!;

postgres.test("two centers on one PostgreSQL database (same terminal key): a terminal reports to one, the other's store and pages have it", async (t) => {
  const { startCenter } = await import("../center/center");
  const { copyFileSync, mkdirSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const root = mkdtempSync(join(tmpdir(), "tg-two-"));
  const store = postgres.fresh();
  const a = await startCenter({ dataDir: join(root, "a"), store, mqttPort: 0, httpPort: 0 });
  mkdirSync(join(root, "b"));
  copyFileSync(join(root, "a", "terminal-key"), join(root, "b", "terminal-key"));
  const b = await startCenter({ dataDir: join(root, "b"), store, mqttPort: 0, httpPort: 0 });
  try {
    a.addTerminal({ id: "T0001", secret: SECRETS.T0001, site: "Tanaka home" });
    await publishAs(b, "T0001", [{ name: "test", seq: 1, time: s("2026-04-20T09:00"), body: { boots: 1, outbox: 0 } }]);
    await publishAs(b, "T0001", alarmMessages({ alarmId: 4, mediaId: 2, pattern: 3, seq: 2, time: s("2026-04-20T09:05") }));
    t.is(a.store.terminal("T0001")?.lastTest, s("2026-04-20T09:00"), "written by b, read by a");
    t.deepEqual(a.web.alarms.operatorAlarms().queue.map((x) => x.alarmId), [4]);
    t.is(a.store.messageCount(), b.store.messageCount());
  } finally {
    await b.close();
    await a.close();
    rmSync(root, { recursive: true, force: true });
  }
});
