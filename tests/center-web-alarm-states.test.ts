import test from "ava";
import { decode } from "cbor-x";
import { chromium, type Page } from "playwright-core";
import { downTopic, messageFromCbor } from "../firmware/uplink/messages";
import { chromiumPath } from "./helpers/chromium";
import { PASSWORDS, SECRETS, alarmMessages, publishAs, s, withWebCenter } from "./helpers/center-web";
import { RawMqtt } from "./helpers/mqtt-raw";

// Issue #14: the operator's page shows each alarm's own state as the operator works it —
// new → seen (acknowledged) → dispatched with the note and ETA → closed — in headless Chromium
// (Debian's, driven by playwright-core); each step goes down to the terminal as its own message.

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const card = (id: number) => `#alarm-T0001-${id}`;

async function act(page: Page, id: number, action: string, note?: string): Promise<void> {
  if (note !== undefined) await page.fill(`${card(id)} form[action$="/${action}"] input[name="note"]`, note);
  await Promise.all([page.waitForURL(/\/operator\?ok=/), page.click(`${card(id)} button[data-action="${action}"]`)]);
}

async function shown(page: Page, id: number): Promise<{ status: string | null; badge: string; section: string; buttons: string[]; log: string }> {
  return page.$eval(card(id), (el) => ({
    status: el.getAttribute("data-status"),
    badge: el.querySelector(".badge")?.textContent ?? "",
    section: el.closest("section")?.querySelector("h2")?.textContent ?? "",
    buttons: Array.from(el.querySelectorAll("button[data-action]")).map((b) => b.getAttribute("data-action") ?? ""),
    log: el.querySelector(".log")?.textContent?.replace(/\s+/g, " ") ?? "",
  }));
}

test.serial("the operator page shows the per-alarm state: new → seen → dispatched with note and ETA → closed; the other alarm keeps its own", async (t) => {
  await withWebCenter(async ({ center, base }) => {
    const first = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    await first.client.subscribe(downTopic("T0001"));
    first.client.close();
    await publishAs(center, "T0001", [
      ...alarmMessages({ alarmId: 1, mediaId: 1, pattern: 3, seq: 1, time: s("2026-04-28T02:10"), images: 1 }),
      ...alarmMessages({ alarmId: 2, mediaId: 2, pattern: 3, seq: 50, time: s("2026-04-28T02:12"), images: 1, sensor: "A0002" }),
    ]);
    const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ARGS });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(base + "/login");
      await page.fill('input[name="username"]', "operator");
      await page.fill('input[name="password"]', PASSWORDS.operator);
      await Promise.all([page.waitForURL(/\/operator/), page.click('button[type="submit"]')]);

      t.like(await shown(page, 1), { status: "new", badge: "new", section: "Open alarms (2)", buttons: ["acknowledge", "dispatch", "close"] });

      await act(page, 1, "acknowledge");
      const seen = await shown(page, 1);
      t.like(seen, { status: "acknowledged", badge: "acknowledged", section: "Open alarms (2)", buttons: ["dispatch", "close"] });
      t.regex(seen.log, /acknowledge by operator \(operator\) (queued for|delivered to) the terminal/);
      t.like(await shown(page, 2), { status: "new", badge: "new" }, "the other alarm is still new");

      await act(page, 1, "dispatch", "Team 3, ETA 12 min");
      const sent = await shown(page, 1);
      t.like(sent, { status: "dispatched", badge: "dispatched", buttons: ["close"] });
      t.regex(sent.log, /dispatch by operator \(operator\): “Team 3, ETA 12 min”/, "the note with its ETA is on the alarm");
      t.regex((await page.textContent(`${card(1)} .log li:last-child`)) ?? "", /ETA 12 min/, "the newest line of the alarm's log is the dispatch");

      await act(page, 1, "close", "false alarm, cat");
      const closed = await shown(page, 1);
      t.like(closed, { status: "closed", badge: "closed", section: "Recently closed", buttons: [] });
      t.regex(closed.log, /close by operator \(operator\): “false alarm, cat”/);
      t.like(await shown(page, 2), { status: "new", section: "Open alarms (1)" });
      // the page after a reload says the same (the state is the center's, not the page's)
      await page.reload();
      t.like(await shown(page, 1), { status: "closed", section: "Recently closed" });
    } finally {
      await browser.close();
    }
    // each step went down to the terminal as its own message, in order
    const term = await RawMqtt.login(center.mqttPort, "T0001", SECRETS.T0001, false);
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const p = (await term.client.next("publish")) as { payload: Buffer } | null;
      if (!p) break;
      got.push(messageFromCbor(decode(p.payload)).body);
    }
    term.client.close();
    t.is(got.length, 3);
    t.like(got[0], { alarmId: 1, status: "acknowledged" });
    t.like(got[1], { alarmId: 1, status: "dispatched", note: "Team 3, ETA 12 min" });
    t.like(got[2], { alarmId: 1, status: "closed", note: "false alarm, cat" });
  });
});
