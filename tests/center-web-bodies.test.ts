import test from "ava";
import { request } from "node:http";
import { jsonDepth } from "../center/web/http";
import { PASSWORDS, WebClient, withWebCenter } from "./helpers/center-web";

const cookieOf = (c: WebClient) => [...c.jar].map(([k, v]) => `${k}=${v}`).join("; ");

/** A JSON POST with the session's cookie and CSRF token. */
function postJson(c: WebClient, path: string, body: string): Promise<Response> {
  return fetch(c.base + path, { method: "POST", headers: { cookie: cookieOf(c), "content-type": "application/json", "x-csrf-token": c.csrf }, body, redirect: "manual" });
}

/** A raw request: `declared` as Content-Length (or chunked when absent), `bytes` of body sent. */
function rawPost(base: string, path: string, o: { declared?: number; bytes: number }): Promise<{ status: number; connection: string | undefined }> {
  const url = new URL(base + path);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", ...(o.declared !== undefined ? { "content-length": String(o.declared) } : {}) } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      },
    );
    req.on("error", (e) => ((e as NodeJS.ErrnoException).code === "ECONNRESET" || (e as NodeJS.ErrnoException).code === "EPIPE" ? undefined : reject(e)));
    let sent = 0;
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const more = () => {
      while (sent < o.bytes) {
        const n = Math.min(chunk.length, o.bytes - sent);
        sent += n;
        if (!req.write(chunk.subarray(0, n))) return void req.once("drain", more);
      }
      if (o.declared === undefined) req.end();
    };
    more();
  });
}

test("jsonDepth counts nesting without recursion and ignores brackets inside strings", (t) => {
  t.is(jsonDepth('{"a":[1,{"b":2}]}'), 3);
  t.is(jsonDepth('{"note":"[[[[{{{{\\"]]"}'), 1);
  t.is(jsonDepth("[".repeat(1_000_000) + "]".repeat(1_000_000)), 17, "stops past the limit");
  t.is(jsonDepth("7"), 0);
});

test("deeply nested JSON bodies answer 400 naming the limit, never 500, and the center carries on", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    const deep = (n: number) => `{"note":${"[".repeat(n)}${"]".repeat(n)}}`;
    // before login: the login form with a JSON body 100,000 levels deep
    const anon = await fetch(base + "/login", { method: "POST", headers: { "content-type": "application/json" }, body: deep(100_000) });
    t.is(anon.status, 400);
    t.regex(await anon.text(), /nested deeper than 16 levels/);

    const admin = new WebClient(base);
    t.is((await admin.login("admin", PASSWORDS.admin)).status, 303);
    const r = await postJson(admin, "/api/alarms/T0001/1/close", deep(100_000));
    t.is(r.status, 400);
    t.deepEqual(await r.json(), { error: "body: JSON nested deeper than 16 levels" });
    // within the limit, and brackets inside a string, are ordinary bodies (alarm 1 does not exist: 404)
    t.is((await postJson(admin, "/api/alarms/T0001/1/close", deep(15))).status, 404);
    t.is((await postJson(admin, "/api/alarms/T0001/1/close", JSON.stringify({ note: "[".repeat(100_000) }))).status, 404);

    // the admin's tariff field is JSON too
    const tariff = await admin.post("/admin/terminals", { id: "T0009", secret: "sato-secret-1", siteId: "1", tariff: "[".repeat(20_000) + "]".repeat(20_000) });
    t.is(tariff.status, 400);
    t.regex(await tariff.text(), /tariff: JSON nested deeper than 16 levels/);

    t.is((await fetch(base + "/api/health")).status, 200, "the center still answers");
    t.is((await admin.get("/api/me")).status, 200, "and the session still works");
    t.falsy(center.store.terminal("T0009"));
  });
});

test("bodies over 256 KB answer 413: a declared size at once, before its bytes arrive; a chunked one as it passes the limit", async (t) => {
  await withWebCenter(async ({ base }) => {
    // 50 MB declared, 1 KB sent: the answer comes without waiting for the rest, and closes the connection
    const declared = await rawPost(base, "/login", { declared: 50_000_000, bytes: 1024 });
    t.is(declared.status, 413);
    t.is(declared.connection, "close");
    const chunked = await rawPost(base, "/login", { bytes: 400 * 1024 });
    t.is(chunked.status, 413);
    // a body under the limit is read (200 KB of spaces: then refused as not JSON)
    t.is((await rawPost(base, "/login", { declared: 200 * 1024, bytes: 200 * 1024 })).status, 400);
    t.is((await fetch(base + "/api/health")).status, 200);
  });
});

test("webhook secrets are write-only on the admin page: never shown back; blank keeps the stored one; a made one is shown once", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    const admin = new WebClient(base);
    t.is((await admin.login("admin", PASSWORDS.admin)).status, 303);
    const typed = "receiver-typed-secret-0001";
    const added = await admin.post("/admin/destinations", { for: "operators", kind: "webhook", address: "http://127.0.0.1:9/ops", secret: typed });
    t.is(added.status, 303);
    const dest = center.web.notify.destinations().find((d) => d.address === "http://127.0.0.1:9/ops");
    t.is(dest?.secret, typed, "stored");
    t.false((await (await admin.get("/admin")).text()).includes(typed), "the page does not show it");

    // a refused form is shown again without the secret typed into it
    const refused = await admin.post("/admin/destinations", { for: "operators", kind: "webhook", address: "ftp://x", secret: "another-typed-secret-02" });
    t.is(refused.status, 400);
    t.false((await refused.text()).includes("another-typed-secret-02"));

    // blank: the center makes one and shows it in that answer only
    const made = await admin.post("/admin/destinations", { for: "operators", kind: "webhook", address: "http://127.0.0.1:9/made", secret: "" });
    t.is(made.status, 200);
    const madeSecret = center.web.notify.destinations().find((d) => d.address === "http://127.0.0.1:9/made")?.secret as string;
    t.regex(madeSecret, /^[A-Za-z0-9_-]{32}$/);
    t.true((await made.text()).includes(madeSecret), "shown once, to give to the receiver");
    t.false((await (await admin.get("/admin")).text()).includes(madeSecret), "never again");

    // editing: an empty secret field keeps the stored secret; a typed one replaces it, unseen
    const id = (dest as { id: number }).id;
    t.is((await admin.post(`/admin/destinations/${id}`, { address: "http://127.0.0.1:9/ops2", secret: "" })).status, 303);
    t.deepEqual(
      center.web.notify.destinations().filter((d) => d.id === id).map((d) => [d.address, d.secret]),
      [["http://127.0.0.1:9/ops2", typed]],
    );
    t.is((await admin.post(`/admin/destinations/${id}`, { address: "http://127.0.0.1:9/ops2", secret: "short" })).status, 400);
    t.is((await admin.post(`/admin/destinations/${id}`, { address: "http://127.0.0.1:9/ops2", secret: "replaced-secret-000003" })).status, 303);
    t.is(center.web.notify.destinations().find((d) => d.id === id)?.secret, "replaced-secret-000003");
    const page = await (await admin.get("/admin")).text();
    t.false(page.includes("replaced-secret-000003"));
    t.regex(page, /secret set; blank keeps it/);
    t.is((await admin.post("/admin/destinations/999", { address: "http://127.0.0.1:9/x" })).status, 404);
  });
});
