import test from "ava";
import { decode } from "cbor-x";
import { chromiumPath } from "./helpers/chromium";
import { type Browser, type Page, chromium } from "playwright-core";
import { downTopic, messageFromCbor } from "../firmware/uplink/messages";
import { PASSWORDS, SECRETS, alarmMessages, publishAs, s, withWebCenter, workedExamplePeriods } from "./helpers/center-web";
import { RawMqtt } from "./helpers/mqtt-raw";
import { keys } from "./helpers/ui-sim";

/**
 * The center's pages in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core).
 * Each launch gets a fresh temporary profile (Playwright's own --user-data-dir); pages are served
 * on 127.0.0.1 only.
 */
async function withBrowser(body: (b: Browser) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

async function login(browser: Browser, base: string, username: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(base + "/login");
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
  await page.waitForSelector(".who", { timeout: 5000 }).catch(async (e) => {
    throw new Error(`login as ${username} failed at ${page.url()}: ${(await page.content()).slice(0, 1500)}`);
  });
  return page;
}

/** Every <img> in `selector` has loaded and decoded (naturalWidth > 0); returns their widths. */
async function imageWidths(page: Page, selector: string): Promise<number[]> {
  await page.waitForFunction((sel) => {
    const imgs = Array.from(document.querySelectorAll(sel)) as HTMLImageElement[];
    return imgs.length > 0 && imgs.every((i) => i.complete);
  }, selector);
  return page.$$eval(selector, (imgs) => (imgs as HTMLImageElement[]).map((i) => i.naturalWidth));
}

test.serial("the operator's queue: images display, the sound plays, a new alarm appears live, a dispatch reaches the terminal", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    const first = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    await first.client.subscribe(downTopic("T0001"));
    first.client.close();
    await publishAs(center, "T0001", alarmMessages({ alarmId: 1, mediaId: 1, pattern: 3, seq: 1, time: s("2026-04-28T02:10"), images: 3 }));
    await withBrowser(async (browser) => {
      const page = await login(browser, base, "operator", PASSWORDS.operator);
      t.true(page.url().endsWith("/operator"));
      const widths = await imageWidths(page, "#alarm-T0001-1 img.shot");
      t.deepEqual(widths, [32, 32, 32], "three camera JPEGs decoded by the browser");
      const duration = await page.$eval("#alarm-T0001-1 audio", (a) => {
        const audio = a as HTMLAudioElement;
        return new Promise<number>((resolve) => {
          audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
          audio.addEventListener("error", () => resolve(-1), { once: true });
          audio.preload = "auto";
          audio.load();
        });
      });
      t.true(duration > 0.2 && duration < 0.3, `the WAV clip decodes (${duration} s)`);
      // live: a new alarm shows without a reload (server-sent events)
      await page.waitForFunction(() => document.body.dataset.stream === "open");
      await publishAs(center, "T0001", alarmMessages({ alarmId: 2, mediaId: 2, pattern: 3, seq: 100, time: s("2026-04-28T02:30"), images: 1 }));
      await page.waitForSelector("#alarm-T0001-2 img.shot", { timeout: 10_000 });
      t.deepEqual(await imageWidths(page, "#alarm-T0001-2 img.shot"), [32]);
      // dispatch
      await page.fill('#alarm-T0001-1 form[action$="/dispatch"] input[name="note"]', "unit 7 on the way");
      await Promise.all([page.waitForURL(/\/operator\?ok=/), page.click('#alarm-T0001-1 button[data-action="dispatch"]')]);
      t.regex((await page.textContent(".flash")) ?? "", /alarm 1: dispatched, (queued for|delivered to) the terminal/);
      t.is(await page.getAttribute("#alarm-T0001-1", "data-status"), "dispatched");
      t.regex((await page.textContent("#alarm-T0001-1 .log")) ?? "", /dispatch by operator \(operator\): “unit 7 on the way” (queued for|delivered to) the terminal/);
    });
    const term = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    const p = (await term.client.next("publish")) as { payload: Buffer } | null;
    term.client.close();
    t.truthy(p, "the terminal gets the dispatch when it dials in");
    const m = messageFromCbor(decode((p as { payload: Buffer }).payload));
    t.is(m.name, "dispatch");
    t.deepEqual(m.body, { alarmId: 1, status: "dispatched", note: "unit 7 on the way" });
  });
});

test.serial("a manager's browser: its site's table, total and images; another site's page, API and images are not found", async (t) => {
  await withWebCenter(async ({ center, base, site1, site2 }) => {
    await publishAs(center, "T0001", [...workedExamplePeriods(1), ...alarmMessages({ alarmId: 1, mediaId: 1, pattern: 2, seq: 10, time: s("2026-04-28T02:10"), images: 2 })]);
    await publishAs(center, "T0002", alarmMessages({ alarmId: 1, mediaId: 5, pattern: 1, seq: 1, time: s("2026-04-28T03:00"), images: 2 }));
    await withBrowser(async (browser) => {
      const page = await login(browser, base, "manager1", PASSWORDS.manager1);
      t.true(page.url().endsWith(`/site/${site1}`));
      t.is(await page.textContent("table.periods tfoot .total"), "50,976 yen");
      t.is(await page.textContent("table.periods tfoot [data-counts]"), "5,097");
      t.is(await page.locator("table.periods tbody tr").count(), 2);
      t.deepEqual(await imageWidths(page, "#alarm-T0001-1 img.shot"), [32, 32]);
      t.is(await page.locator("svg[aria-label='Yen per day'] rect").count(), 7, "one bar per day of the default range (the last 7 days)");
      // another site: by link, by API, by image URL
      const other = await page.goto(`${base}/site/${site2}`);
      t.is(other?.status(), 404);
      t.notRegex(await page.content(), /Suzuki/);
      t.is((await page.goto(`${base}/alarm/T0002/1`))?.status(), 404);
      const answers = await page.evaluate(async (paths) => Promise.all(paths.map(async (p) => (await fetch(p)).status)), [`/api/sites/${site2}`, `/api/sites/${site2}/periods`, "/api/terminals/T0002/periods", "/media/T0002/5/0", "/media/T0002/5/1"]);
      t.deepEqual(answers, [404, 404, 404, 404, 404]);
      // asking for guards under pattern 2, from the page
      await page.goto(`${base}/site/${site1}`);
      await Promise.all([page.waitForURL(/ok=/), page.click('#alarm-T0001-1 button[data-action="request-guards"]')]);
      t.is(await page.getAttribute("#alarm-T0001-1", "data-status"), "dispatched");
      t.is(center.web.actions.alarmActions("T0001", 1)[0].action, "request-guards");
    });
  });
});

test.serial("the admin's browser: a site, a terminal and a user are registered; a bad tariff shows the field", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    await withBrowser(async (browser) => {
      const page = await login(browser, base, "admin", PASSWORDS.admin);
      t.true(page.url().endsWith("/admin"));
      await page.fill('#new-site input[name="name"]', "Sato home");
      await page.fill('#new-site input[name="contact"]', "Sato 090-3333");
      await page.fill('#new-site input[name="manager"]', "sato");
      await page.fill('#new-site input[name="managerPassword"]', "sato-pass-1234");
      await Promise.all([page.waitForURL(/ok=/), page.click('#new-site button[type="submit"]')]);
      t.regex((await page.textContent(".flash")) ?? "", /site Sato home registered/);
      await page.fill('#new-terminal input[name="id"]', "T0003");
      await page.fill('#new-terminal input[name="secret"]', "sato-secret-1");
      await page.selectOption('#new-terminal select[name="siteId"]', { label: "Sato home" });
      // the tariff form: a coefficient finer than per-mille (the browser's own check let through)
      await page.$eval('#new-terminal input[name="continuous"]', (el) => el.setAttribute("step", "any"));
      await page.fill('#new-terminal input[name="continuous"]', "0.8123");
      await page.click('#new-terminal button[type="submit"]');
      await page.waitForSelector(".flash.error");
      t.regex((await page.textContent(".flash.error")) ?? "", /tariff contracts\.continuous: has more than three decimals \(0\.8123\)/);
      t.is(center.store.terminal("T0003"), undefined);
      t.is(await page.inputValue('#new-terminal input[name="id"]'), "T0003", "the form keeps what was typed");
      await page.fill('#new-terminal input[name="secret"]', "sato-secret-1");
      await page.fill('#new-terminal input[name="continuous"]', "0.8");
      await Promise.all([page.waitForURL(/ok=/), page.click('#new-terminal button[type="submit"]')]);
      t.truthy(center.store.terminal("T0003"));
      await page.fill('#new-destination input[name="address"]', "ops@guard.example");
      await Promise.all([page.waitForURL(/ok=/), page.click('#new-destination button[type="submit"]')]);
      t.deepEqual(center.web.notify.destinations({ audience: "operators" }).map((d) => d.address), ["ops@guard.example"]);
      const sato = await login(browser, base, "sato", "sato-pass-1234");
      t.regex(await sato.textContent("h1") ?? "", /Sato home/);
    });
  });
});

// Under the node engine, which keeps this browser test quick; the XS path of the same downlink is
// tests/link-e2e.test.ts.
test.serial("[node] end to end: the simulated terminal dials the center, the operator dispatches in the browser, the terminal's LCD says guards are on the way", async (t) => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { startDemoStack } = await import("../host-sim/demo-stack");
  const { DEMO } = await import("../center/demo");
  const { parseTime } = await import("../firmware/core/time");
  const { encodeMessage, upTopic } = await import("../firmware/uplink/messages");
  const dir = mkdtempSync(join(tmpdir(), "tg-e2e-"));
  const stack = await startDemoStack({ engine: "node", dataDir: dir, startMs: parseTime("2026-04-16T19:00", "t") * 1000, memoryFlash: true });
  const { center, sim } = stack;
  const idle = async () => {
    const snap = (await sim.snapshot()) as any;
    return snap.outbox.items === 0 && snap.outbox.acknowledged > 0 && snap.uplink.state === "idle";
  };
  const until = async (done: () => Promise<boolean> | boolean, maxMs = 900_000, stepMs = 5_000) => {
    for (let ms = 0; ms < maxMs && !(await done()); ms += stepMs) await sim.advance(stepMs);
    return done();
  };
  try {
    t.true(await until(async () => (await idle()) && center.store.terminal(DEMO.terminal)?.registeredAt != null), "the terminal registered and hung up");
    // first install on the keypad: confirm the setup screen, choose a PIN; the status screen shows
    await keys(sim, "#");
    await keys(sim, "1234#1234#");
    // An alarm at the center for T0001 (published with its credentials while it is offline).
    const { client } = await RawMqtt.login(center.mqttPort, DEMO.terminal, DEMO.terminalSecret, false);
    t.true(await client.publish(upTopic(DEMO.terminal), encodeMessage({ name: "alarm", terminal: DEMO.terminal, seq: 900_000, time: Math.floor(sim.clock.now / 1000), body: { alarmId: 77, sensor: "A0001", event: "burglary", contactId: 130, pattern: 3 } }), 1));
    client.close();
    await withBrowser(async (browser) => {
      const page = await login(browser, `http://127.0.0.1:${center.httpPort}`, DEMO.users.operator.username, DEMO.users.operator.password);
      await page.waitForSelector(`#alarm-${DEMO.terminal}-77`);
      await page.fill(`#alarm-${DEMO.terminal}-77 form[action$="/dispatch"] input[name="note"]`, "car 12");
      await Promise.all([page.waitForURL(/ok=/), page.click(`#alarm-${DEMO.terminal}-77 button[data-action="dispatch"]`)]);
      t.regex((await page.textContent(".flash")) ?? "", /dispatched, (queued for|delivered to) the terminal/);
    });
    t.false(((await sim.snapshot()) as any).lcd.some((l: string) => l.includes("Guards on the way")), "not before the terminal has heard");
    // The terminal dials (it would at its next report; here at once) and gets the queued dispatch.
    await sim.command("link.dial");
    t.true(await until(async () => ((await sim.snapshot()) as any).dispatch.length > 0), "the dispatch reached the terminal");
    t.like(((await sim.snapshot()) as any).dispatch[0], { alarmId: 77, status: "dispatched", note: "car 12" });
    await sim.advance(2_000);
    // The LCD shows dispatch state per alarm the terminal raised itself (issue #14: no global
    // "Guards on the way" line); this alarm was published by the test, so the LCD stays as it was
    // (tests/alarm-scenarios.test.ts shows a dispatch with its note on the LCD, end to end).
    const lines = (await sim.snapshot() as any).lcd as string[];
    t.false(lines.some((l) => l.includes("Guards on the way")), `LCD: ${JSON.stringify(lines)}`);
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial("the alarm list in the browser: the filter form narrows the list, the CSV link downloads the same rows; the per-day charts draw each day as its own bar", async (t) => {
  await withWebCenter(async ({ center, base, site1 }) => {
    await publishAs(center, "T0001", [
      ...alarmMessages({ alarmId: 1, mediaId: 11, pattern: 1, seq: 1, time: s("2026-04-16T21:00"), images: 0 }),
      ...alarmMessages({ alarmId: 2, mediaId: 12, pattern: 2, seq: 100, time: s("2026-04-28T02:10"), images: 0, sensor: "A0002" }),
      ...workedExamplePeriods(200),
    ]);
    await withBrowser(async (browser) => {
      const page = await login(browser, base, "manager1", PASSWORDS.manager1);
      await page.setViewportSize({ width: 1200, height: 900 });
      await page.click('a[href="/alarms"]');
      await page.waitForSelector("#alarm-filters");
      t.is(await page.locator("#alarms article.alarm").count(), 2);
      await page.fill('#alarm-filters input[name="from"]', "2026-04-20");
      await page.fill('#alarm-filters input[name="q"]', "a0002");
      await Promise.all([page.waitForURL(/\/alarms\?from=2026-04-20/), page.click('#alarm-filters button[type="submit"]')]);
      t.deepEqual(await page.$$eval("#alarms article.alarm", (els) => els.map((e) => e.id)), ["alarm-T0001-2"]);
      t.regex((await page.textContent("#alarm-count")) ?? "", /^1 alarm\(s\) match/);
      t.regex((await page.textContent("#alarm-T0001-2 time.terminal-clock")) ?? "", /2026-04-28 02:10 terminal time, UTC\+09:00/);
      t.regex((await page.textContent("#alarm-T0001-2 time.center-clock")) ?? "", /center time, UTC\+09:00/);
      if (process.env.TG_SCREENSHOTS) await page.screenshot({ path: `${process.env.TG_SCREENSHOTS}/alarms.png`, fullPage: true });
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#alarms-csv")]);
      t.is(download.suggestedFilename(), "alarms.csv");
      const text = await new Promise<string>((resolve, reject) => {
        void download.createReadStream().then((stream) => {
          let out = "";
          stream.on("data", (c: Buffer) => (out += c.toString("utf8")));
          stream.on("end", () => resolve(out));
          stream.on("error", reject);
        });
      });
      const lines = text.trimEnd().split("\r\n");
      t.is(lines.length, 2, "a header and the one alarm shown");
      t.regex(lines[1], /^Tanaka home,T0001,2,2026-04-28 02:10,/);

      await page.goto(`${base}/site/${site1}?range=month`);
      const rects = await page.$$eval("#charts-T0001 figure:first-of-type rect.bar", (els) => els.map((e) => (e as SVGRectElement).getBoundingClientRect().width));
      t.is(rects.length, 31, "a bar per day of the month");
      t.true(rects.every((w) => w > 0 && w <= 40), `each bar a day wide (${rects[0]} px)`);
      t.is(await page.getAttribute('#charts-T0001 a[aria-current="true"]', "href"), `/site/${site1}?range=month`);
      if (process.env.TG_SCREENSHOTS) await page.screenshot({ path: `${process.env.TG_SCREENSHOTS}/site.png`, fullPage: true });
    });
  });
});
