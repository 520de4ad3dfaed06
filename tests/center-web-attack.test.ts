import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCenter } from "../center/center";
import { hashPassword } from "../center/web/auth";
import { PASSWORDS, WebClient, withWebCenter } from "./helpers/center-web";

test("web login limit is atomic: 60 parallel wrong passwords are tried at most 5 times", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    const c = new WebClient(base);
    const form = await (await c.get("/login")).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => c.post("/login", { _csrf: token, username: "manager1", password: "wrong-password-" + i }, { csrf: false })));
    const statuses = results.map((r) => r.status);
    t.is(statuses.filter((x) => x === 401).length, 5);
    t.is(statuses.filter((x) => x === 429).length, 55);
    t.is(center.webApp.counts.loginFailed, 5);
  });
});

test("behind a trusted proxy the limit is per client: one stranger's failures lock out no one else", async (t) => {
  await withWebCenter(
    async ({ base }) => {
      const stranger = { "x-forwarded-for": "198.51.100.7" };
      for (let i = 0; i < 25; i++) await new WebClient(base).login(`nobody${i}`, "wrong-password", stranger);
      t.is((await new WebClient(base).login("nobody99", "wrong-password", stranger)).status, 429, "the stranger's address is spent");
      t.is((await new WebClient(base).login("operator", PASSWORDS.operator, { "x-forwarded-for": "203.0.113.9" })).status, 303, "another client through the same proxy logs in");
    },
    { trustedProxies: ["127.0.0.1"] },
  );
});

test("without a configured proxy X-Forwarded-For is ignored (a client cannot pick a fresh address per try)", async (t) => {
  await withWebCenter(async ({ base }) => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await new WebClient(base).login("manager1", "wrong-password", { "x-forwarded-for": `198.51.100.${i}` })).status);
    t.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
  });
});

test("strangers on many addresses slow an account with a bounded backoff, never lock it", async (t) => {
  let clock = Date.parse("2026-04-20T00:00:00Z");
  await withWebCenter(
    async ({ base }) => {
      for (let i = 0; i < 12; i++) {
        await new WebClient(base).login("manager1", "wrong-password", { "x-forwarded-for": `198.51.100.${i}` });
        clock += 70_000; // each stranger waits the backoff out, as a patient attacker would
      }
      const now = await new WebClient(base).login("manager1", PASSWORDS.manager1, { "x-forwarded-for": "203.0.113.9" });
      t.is(now.status, 303, "the real user, after the strangers' last try, waits at most the backoff");
    },
    { now: () => clock, trustedProxies: ["127.0.0.1"] },
  );
});

test("the login limit survives a restart of the center", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-web-restart-"));
  const clock = Date.parse("2026-04-20T00:00:00Z");
  try {
    const hash = hashPassword(PASSWORDS.operator);
    let center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0, now: () => clock });
    center.web.accounts.addUser({ username: "operator", passwordHash: hash, role: "operator", siteId: null }, clock);
    for (let i = 0; i < 5; i++) t.is((await new WebClient(`http://127.0.0.1:${center.httpPort}`).login("operator", "wrong-" + i)).status, 401);
    await center.close();
    center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0, now: () => clock });
    try {
      t.is((await new WebClient(`http://127.0.0.1:${center.httpPort}`).login("operator", PASSWORDS.operator)).status, 429);
    } finally {
      await center.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
