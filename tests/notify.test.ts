import type { ExecutionContext } from "ava";
import { createHmac } from "node:crypto";
import { type Server, createServer } from "node:http";
import { SMTPServer } from "smtp-server";
import { MediaLinks } from "../center/notify/links";
import { MEDIA_WAIT_MS, signBody } from "../center/notify/notifier";
import { cameraImage, soundClip } from "../host-sim/devices/sensors";
import { PASSWORDS, WebClient, alarmMessages, publishAs, s, withWebCenter } from "./helpers/center-web";
import { type StoreEngine, storeEngines } from "./helpers/stores";

// Notifications run on both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server in process (smtp-server), keeping every message it accepts. */
async function smtpServer(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("latin1") });
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface Part {
  headers: string;
  body: Buffer;
}

/** The leaf parts of a MIME message (enough of RFC 2045/2046 for what nodemailer writes). */
function mimeParts(raw: string): Part[] {
  const split = raw.indexOf("\r\n\r\n");
  const headers = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers.replace(/\r\n\s+/g, " "))?.[1];
  if (!/content-type:\s*multipart\//i.test(headers) || !boundary) {
    const b64 = /content-transfer-encoding:\s*base64/i.test(headers);
    return [{ headers, body: b64 ? Buffer.from(body.replace(/\s+/g, ""), "base64") : Buffer.from(body, "latin1") }];
  }
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .flatMap((p) => mimeParts(p.replace(/^\r\n/, "")));
}

interface Hook {
  path: string;
  body: string;
  signature: string;
  event: string;
}

/** A loopback webhook receiver; `fail(path, n)` makes the next n requests to path answer 500. */
async function hookServer(): Promise<{ port: number; hooks: Hook[]; fail(path: string, n: number): void; close(): Promise<void> }> {
  const hooks: Hook[] = [];
  const failures = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      const left = failures.get(path) ?? 0;
      if (left > 0) {
        failures.set(path, left - 1);
        res.statusCode = 500;
        return res.end("down for maintenance");
      }
      hooks.push({ path, body: Buffer.concat(chunks).toString("utf8"), signature: String(req.headers["x-timeguard-signature"]), event: String(req.headers["x-timeguard-event"]) });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    hooks,
    fail: (path, n) => failures.set(path, n),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function waitFor(what: string, cond: () => boolean, ms = 10_000, state: () => unknown = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const verify = (secret: string, body: string, signature: string) => "sha256=" + createHmac("sha256", secret).update(body).digest("hex") === signature;

each("alarms go by pattern: 1 and 2 to the site's manager, 3 to the operators; emails carry the images, webhooks are signed and link them", async (t, engine) => {
  const smtp = await smtpServer();
  const hooks = await hookServer();
  try {
    await withWebCenter(
      async ({ center, base, site1, site2 }) => {
        const web = center.web;
        const now = Date.now();
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "webhook", address: `http://127.0.0.1:${hooks.port}/tanaka`, secret: "tanaka-webhook-secret-1", createdAt: now });
        web.notify.addDestination({ audience: "site", siteId: site2, kind: "email", address: "suzuki@example.com", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "operators", siteId: null, kind: "email", address: "ops@guard.example", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "operators", siteId: null, kind: "webhook", address: `http://127.0.0.1:${hooks.port}/ops`, secret: "operators-webhook-secret", createdAt: now });
        web.sites.setSiteSettings(site2, { imagesPerEvent: 1 });

        await publishAs(center, "T0001", [
          ...alarmMessages({ alarmId: 1, mediaId: 11, pattern: 1, seq: 1, time: s("2026-04-16T21:00"), images: 2 }),
          ...alarmMessages({ alarmId: 2, mediaId: 12, pattern: 3, seq: 100, time: s("2026-04-28T02:10"), images: 3 }),
        ]);
        await publishAs(center, "T0002", alarmMessages({ alarmId: 1, mediaId: 21, pattern: 2, seq: 1, time: s("2026-04-28T03:00"), images: 2 }));
        await waitFor("every notification sent", () => web.notify.notifications().length === 5 && web.notify.notifications().every((n) => n.status === "sent"), 10_000, () => web.notify.notifications());

        // email: who got what
        const to = (addr: string) => smtp.mails.filter((m) => m.to.includes(addr));
        t.is(to("tanaka@example.com").length, 1);
        t.is(to("suzuki@example.com").length, 1);
        t.is(to("ops@guard.example").length, 1);
        t.is(smtp.mails.length, 3);
        const tanaka = to("tanaka@example.com")[0].raw;
        t.regex(tanaka, /Subject: \[Timeguard\] Pattern 1 alarm: burglary at Tanaka home/);
        const parts = mimeParts(tanaka);
        const jpegs = parts.filter((p) => /content-type:\s*image\/jpeg/i.test(p.headers));
        t.is(jpegs.length, 2);
        t.deepEqual(new Uint8Array(jpegs[0].body), cameraImage(11, 0), "the attachment is the camera's JPEG, byte for byte");
        t.deepEqual(new Uint8Array(jpegs[1].body), cameraImage(11, 1));
        const wav = parts.find((p) => /content-type:\s*audio\/wav/i.test(p.headers));
        t.deepEqual(new Uint8Array(wav?.body ?? []), soundClip(11));
        t.is(mimeParts(to("suzuki@example.com")[0].raw).filter((p) => /image\/jpeg/i.test(p.headers)).length, 1, "Suzuki home sends one image per event");
        t.regex(to("ops@guard.example")[0].raw, /Pattern 3 alarm: burglary at Tanaka home/);
        t.is(mimeParts(to("ops@guard.example")[0].raw).filter((p) => /image\/jpeg/i.test(p.headers)).length, 3);

        // webhooks: pattern 1 to the site's, pattern 3 to the operators'; signatures verify with the right secret only
        t.deepEqual(hooks.hooks.map((h) => h.path).sort(), ["/ops", "/tanaka"]);
        const siteHook = hooks.hooks.find((h) => h.path === "/tanaka") as Hook;
        const opsHook = hooks.hooks.find((h) => h.path === "/ops") as Hook;
        t.true(verify("tanaka-webhook-secret-1", siteHook.body, siteHook.signature));
        t.is(signBody("tanaka-webhook-secret-1", siteHook.body), siteHook.signature);
        t.false(verify("operators-webhook-secret", siteHook.body, siteHook.signature));
        t.true(verify("operators-webhook-secret", opsHook.body, opsHook.signature));
        t.false(verify("operators-webhook-secret", siteHook.body.replace("burglary", "burglarx"), siteHook.signature), "a changed body does not verify");
        const payload = JSON.parse(opsHook.body);
        t.like(payload, { event: "alarm", terminal: "T0001", site: { name: "Tanaka home" }, alarm: { id: 2, pattern: 3, sensor: "A0001", contactId: 130 } });
        t.is(payload.images.length, 3);
        // the links work without a session, and only as signed
        const link = payload.images[1].url as string;
        t.true(link.startsWith(base + "/m/T0001/12/1?exp="));
        const img = await fetch(link);
        t.is(img.status, 200);
        t.is(img.headers.get("content-type"), "image/jpeg");
        t.deepEqual(new Uint8Array(await img.arrayBuffer()), cameraImage(12, 1));
        t.is((await fetch(link.replace("/12/1?", "/12/2?"))).status, 403, "a signature is for one item");
        t.is((await fetch(link.replace(/sig=[0-9a-f]{4}/, "sig=0000"))).status, 403);
        t.is((await fetch(base + "/media/T0001/12/1")).status, 401, "the session route needs a session");
        const expired = await fetch(base + new MediaLinks(web.settings).path("T0001", 12, 1, Math.floor(Date.now() / 1000) - 1));
        t.is(expired.status, 403);
        t.regex(await expired.text(), /link expired/);

        // the log in the UI: the manager sees its site's, the operator the operators'
        const m1 = new WebClient(base);
        await m1.login("manager1", PASSWORDS.manager1);
        const page = await (await m1.get(`/site/${site1}`)).text();
        t.regex(page, /email: tanaka@example\.com \(site\)/);
        t.regex(page, /webhook: http:\/\/127\.0\.0\.1:\d+\/tanaka/);
        t.notRegex(page, /ops@guard|suzuki@/);
        const op = new WebClient(base);
        await op.login("operator", PASSWORDS.operator);
        const opPage = await (await op.get("/operator")).text();
        t.regex(opPage, /email: ops@guard\.example \(operators\)/);
        t.notRegex(opPage, /tanaka@example/);
      },
      { store: engine.fresh(), smtp: { host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "center@timeguard.test" }, notify: { pollMs: 50 } },
    );
  } finally {
    await smtp.close();
    await hooks.close();
  }
});

each("a failing destination is retried with backoff until it answers; one that never does is given up, with its error in the log", async (t, engine) => {
  const hooks = await hookServer();
  hooks.fail("/flaky", 2);
  try {
    await withWebCenter(
      async ({ center, base, site1 }) => {
        const web = center.web;
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "webhook", address: `http://127.0.0.1:${hooks.port}/flaky`, secret: "flaky-webhook-secret-1", createdAt: Date.now() });
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "webhook", address: "http://127.0.0.1:9/closed", secret: "closed-webhook-secret-1", createdAt: Date.now() });
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: Date.now() });
        await publishAs(center, "T0001", [{ name: "alarm", seq: 1, time: s("2026-04-16T21:00"), body: { alarmId: 9, sensor: "A0002", event: "burglary", contactId: 130, pattern: 2 } }]);
        await waitFor("all settled", () => web.notify.notifications().length === 3 && web.notify.notifications().every((n) => n.status === "sent" || n.status === "failed"));
        const byAddress = (a: string) => web.notify.notifications().find((n) => n.address.includes(a));
        const flaky = byAddress("/flaky");
        t.like(flaky, { status: "sent", attempts: 3, lastError: null });
        t.is(hooks.hooks.length, 1, "delivered once, after two 500s");
        t.true(verify("flaky-webhook-secret-1", hooks.hooks[0].body, hooks.hooks[0].signature));
        const closed = byAddress("/closed");
        t.like(closed, { status: "failed", attempts: 4 });
        t.truthy(closed?.lastError);
        const email = byAddress("tanaka@");
        t.like(email, { status: "failed", attempts: 4, lastError: "no SMTP server configured" });
        t.is(center.notifier.counts.retried, 2 + 3 + 3);
        const admin = new WebClient(base);
        await admin.login("admin", PASSWORDS.admin);
        const page = await (await admin.get("/admin")).text();
        t.regex(page, /<tr data-status="failed">[\s\S]*?no SMTP server configured/);
        t.regex(page, /<tr data-status="sent">[\s\S]*?\/flaky/);
      },
      { store: engine.fresh(), notify: { retryBaseMs: 40, maxAttempts: 4, pollMs: 20, timeoutMs: 2000 } },
    );
  } finally {
    await hooks.close();
  }
});

each("an alarm's notification waits for its images, but not for ever", async (t, engine) => {
  const smtp = await smtpServer();
  try {
    await withWebCenter(
      async ({ center, site1 }) => {
        center.web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: Date.now() });
        const [alarm, ...chunks] = alarmMessages({ alarmId: 3, mediaId: 31, pattern: 1, seq: 1, time: s("2026-04-16T21:00"), images: 2 });
        await publishAs(center, "T0001", [alarm]);
        t.is(center.web.notify.notifications()[0].status, "waiting-media");
        await new Promise((r) => setTimeout(r, 200));
        t.is(smtp.mails.length, 0, "nothing sent while the images are on their way");
        await publishAs(center, "T0001", chunks);
        await waitFor("the email", () => smtp.mails.length === 1);
        t.is(mimeParts(smtp.mails[0].raw).filter((p) => /image\/jpeg/i.test(p.headers)).length, 2);
        // An alarm whose media never comes goes out when the wait is over, saying so.
        await publishAs(center, "T0001", [alarmMessages({ alarmId: 4, mediaId: 32, pattern: 1, seq: 500, time: s("2026-04-16T22:00") })[0]]);
        await waitFor("the second email", () => smtp.mails.length === 2, 15_000);
        t.regex(smtp.mails[1].raw, /0 of 3 media items had arrived/);
        t.regex(smtp.mails[1].raw, /Images: 0 attached of 2 expected/);
        t.regex(smtp.mails[1].raw, /Clips: 0 attached of 1 expected/);
      },
      { store: engine.fresh(), smtp: { host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "center@timeguard.test" }, notify: { pollMs: 20, mediaWaitMs: 5000 } },
    );
  } finally {
    await smtp.close();
  }
});

each("an alarm announcing 3 images and 1 clip: the e-mail waits for them, attaches them and says expected and attached", async (t, engine) => {
  const smtp = await smtpServer();
  try {
    await withWebCenter(
      async ({ center, site1 }) => {
        center.web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: Date.now() });
        // as the terminal sends it: mediaId with images 3 and clips 1, then the unit's 4 items
        const [alarm, ...chunks] = alarmMessages({ alarmId: 5, mediaId: 41, pattern: 1, seq: 1, time: s("2026-04-16T21:00"), images: 3 });
        t.like(alarm.body, { images: 3, clips: 1 });
        await publishAs(center, "T0001", [alarm]);
        const waiting = center.web.notify.notifications()[0];
        t.is(waiting.status, "waiting-media");
        t.is(waiting.nextAt - waiting.createdAt, MEDIA_WAIT_MS, "the default wait");
        t.is(MEDIA_WAIT_MS, 120_000);
        await publishAs(center, "T0001", chunks.slice(0, chunks.length - 1));
        await new Promise((r) => setTimeout(r, 300));
        t.is(smtp.mails.length, 0, "one item still missing: nothing sent");
        await publishAs(center, "T0001", chunks.slice(chunks.length - 1));
        await waitFor("the email", () => smtp.mails.length === 1);
        const parts = mimeParts(smtp.mails[0].raw);
        const jpegs = parts.filter((p) => /content-type:\s*image\/jpeg/i.test(p.headers));
        t.is(jpegs.length, 3);
        jpegs.forEach((j, i) => t.deepEqual(new Uint8Array(j.body), cameraImage(41, i)));
        const wav = parts.filter((p) => /content-type:\s*audio\/wav/i.test(p.headers));
        t.is(wav.length, 1);
        t.deepEqual(new Uint8Array(wav[0].body), soundClip(41));
        const text = parts.find((p) => /content-type:\s*text\/plain/i.test(p.headers))?.body.toString("utf8") ?? "";
        t.regex(text, /Images: 3 attached of 3 expected/);
        t.regex(text, /Clips: 1 attached of 1 expected/);
        t.notRegex(text, /had arrived/);
        await waitFor("the row marked sent", () => center.web.notify.notifications()[0].status === "sent");
        t.is(center.web.notify.notifications()[0].attachments, 4);

      },
      { store: engine.fresh(), smtp: { host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "center@timeguard.test" }, notify: { pollMs: 20 } },
    );
  } finally {
    await smtp.close();
  }
});

each("credit ran out while guarding: the site's manager is told (stopped, emergency), never the operators or another site; a card inserted is no news", async (t, engine) => {
  const smtp = await smtpServer();
  try {
    await withWebCenter(
      async ({ center, site1, site2 }) => {
        const web = center.web;
        const now = Date.now();
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "site", siteId: site2, kind: "email", address: "suzuki@example.com", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "operators", siteId: null, kind: "email", address: "ops@guard.example", secret: null, createdAt: now });
        await publishAs(center, "T0001", [
          { name: "card", seq: 1, time: s("2026-04-16T20:05"), body: { event: "inserted", cardId: "7", counts: 0 } },
          { name: "card", seq: 2, time: s("2026-04-16T20:07"), body: { event: "stopped", note: "card 7 is empty: guarding stopped at 2026-04-16T20:07 (planned until 2026-04-16T23:00)" } },
          { name: "card", seq: 3, time: s("2026-04-17T20:07"), body: { event: "emergency", note: "no card: guarding goes on with emergency credit, 20% surcharge" } },
        ]);
        await waitFor("the manager's notifications sent", () => web.notify.notifications().length === 2 && web.notify.notifications().every((n) => n.status === "sent"), 10_000, () => web.notify.notifications());
        t.deepEqual(web.notify.notifications().map((n) => n.event), ["credit", "credit"]);
        t.deepEqual(smtp.mails.map((m) => m.to).flat(), ["tanaka@example.com", "tanaka@example.com"]);
        const stopped = smtp.mails.find((m) => /guarding stopped/.test(m.raw)) as Mail;
        t.regex(stopped.raw, /No credit at Tanaka home \(T0001\): guarding stopped/);
        t.regex(stopped.raw, /Top up the card/);
        t.true(smtp.mails.some((m) => /emergency credit/.test(m.raw)));
      },
      { store: engine.fresh(), smtp: { host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "center@timeguard.test" }, notify: { pollMs: 50 } },
    );
  } finally {
    await smtp.close();
  }
});

each("a manager asks for guards on a pattern 2 alarm: the operators are told (email and signed webhook) with the site, the alarm and the note; the site's own destinations are not", async (t, engine) => {
  const smtp = await smtpServer();
  const hooks = await hookServer();
  try {
    await withWebCenter(
      async ({ center, base, site1 }) => {
        const web = center.web;
        const now = Date.now();
        web.notify.addDestination({ audience: "site", siteId: site1, kind: "email", address: "tanaka@example.com", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "operators", siteId: null, kind: "email", address: "ops@guard.example", secret: null, createdAt: now });
        web.notify.addDestination({ audience: "operators", siteId: null, kind: "webhook", address: `http://127.0.0.1:${hooks.port}/ops`, secret: "operators-webhook-secret", createdAt: now });
        await publishAs(center, "T0001", alarmMessages({ alarmId: 4, mediaId: 14, pattern: 2, seq: 1, time: s("2026-04-28T03:00"), images: 0 }));
        await waitFor("the alarm's notification sent", () => web.notify.notifications().length === 1 && web.notify.notifications()[0].status === "sent", 10_000, () => web.notify.notifications());
        t.is(smtp.mails.length, 1, "pattern 2: only the manager is told of the alarm itself");

        const m = new WebClient(base);
        t.is((await m.login("manager1", PASSWORDS.manager1)).status, 303);
        t.is((await m.post("/alarm/T0001/4/request-guards", { note: "window broken, nobody home" })).status, 303);
        await waitFor("the operators' notifications sent", () => web.notify.notifications().filter((n) => n.event === "guards" && n.status === "sent").length === 2, 10_000, () => web.notify.notifications());
        const guards = web.notify.notifications().filter((n) => n.event === "guards");
        t.deepEqual(guards.map((n) => n.audience), ["operators", "operators"]);
        t.is(web.notify.notifications().length, 3, "nothing more to the site's destinations");
        const mail = smtp.mails.find((x) => x.to.includes("ops@guard.example"));
        t.truthy(mail, "the operators' mailbox got it");
        const raw = (mail as Mail).raw.replace(/=\r\n/g, "").replace(/\r\n\s+/g, " ");
        t.regex(raw, /Subject: \[Timeguard\] Guards asked for by manager1 at Tanaka home \(T0001, alarm 4\): window broken, nobody home/);
        t.regex(raw, /\/operator/);
        t.regex(raw, /\(terminal time\)/);
        t.false(smtp.mails.some((x) => x.to.includes("tanaka@example.com") && /Guards asked/.test(x.raw)));
        const hook = hooks.hooks.find((h) => h.event === "guards");
        t.truthy(hook);
        t.true(verify("operators-webhook-secret", (hook as Hook).body, (hook as Hook).signature));
        const json = JSON.parse((hook as Hook).body) as { event: string; terminal: string; alarmId: number; site: { name: string } };
        t.like(json, { event: "guards", terminal: "T0001", alarmId: 4, site: { name: "Tanaka home" } });
      },
      { store: engine.fresh(), smtp: { host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "center@timeguard.test" }, notify: { pollMs: 50 } },
    );
  } finally {
    await smtp.close();
    await hooks.close();
  }
});
