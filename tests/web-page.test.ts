import test from "ava";
import { chromiumPath } from "./helpers/chromium";
import { click, lcdText, waitForLcd, withSimPage } from "./helpers/sim-page";
import { SimWebServer } from "../host-sim/web/server";
import { attachKeypad } from "../host-sim/devices/keypad-matrix";
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { Simulator } from "../host-sim/simulator";
import { at } from "./helpers/engines";
import { ROM_A00, UNKNOWN_GLYPH } from "../host-sim/web/hd44780-rom";
import { parseSession } from "../host-sim/session";
import { formatTime } from "../firmware/core/time";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The simulator's web page in headless Chromium (Debian's chromium, driven by playwright-core):
// a person's path through the page alone — power up the sensors, confirm them on the setup screen,
// choose a PIN, type period 1 of DESIGN §2 on the page's keypad picking the sensors by ID — read
// back from the page's LCD.

// `timeguard sim-web` runs in its own process (as a person starts it; withSimPage): the XS worker's
// hardened promises and playwright's async hooks do not share a process well, and this way the CLI
// is tested too.

const engines = ["xs", "node"] as const;
for (const engine of engines) {
  test.serial(`[${engine}] a person enters period 1 through the web page alone: 3h, 288 yen, 28 counts`, async (t) => {
    try {
      chromiumPath();
    } catch (e) {
      t.fail((e as Error).message);
      return;
    }
    // Keys are typed at real speed (×1): each press ~0.2 s, well inside the minute of idle time.
    // A fresh Chromium profile directory each run (playwright passes it as --user-data-dir).
    await withSimPage(t, engine, async (page, url, errors) => {
      await waitForLcd(page, 1, "no sensors yet");
      t.is((await lcdText(page))[0].trimEnd(), "Setup");
      t.regex((await page.textContent("#engine")) ?? "", new RegExp(engine));
      t.is(await page.inputValue("#speedSel"), "1", "the speed menu shows the speed in force");
      // The event log's filters: unticking a kind hides its lines, ticking it shows them again.
      await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("simulator started"), null, { timeout: 30_000 });
      await page.uncheck('#logFilters input[data-kind="simulator"]');
      t.false(((await page.textContent("#log")) ?? "").includes("simulator started"));
      await page.check('#logFilters input[data-kind="simulator"]');
      t.true(((await page.textContent("#log")) ?? "").includes("simulator started"));

      // The card: the page offers what the simulator has (a reader's actions, or the UI's card view).
      await page.fill("#cardCounts", "472");
      const issue = await page.$("#cardIssue");
      if (issue) {
        // The card reader's emulation is there: a real MIFARE card with 472 counts goes in the slot.
        await issue.click();
        await page.waitForFunction(() => (document.getElementById("card")?.textContent ?? "").includes("472 counts"), null, { timeout: 30_000 });
      } else {
        const cardButton = await page.$("button[data-ui-card=set]");
        t.truthy(cardButton, "the page has a way to put a 472-count card in the slot");
        await cardButton!.click();
      }

      // Install the kit: power up two sensors and a camera from the page; plug and play finds them.
      for (const id of ["A0001", "A0002", "B0001"]) {
        await page.fill("#newId", id);
        await page.click("#addBtn");
        await page.waitForFunction((x) => (document.getElementById("sensors")?.textContent ?? "").includes(x), id, { timeout: 30_000 });
      }
      await waitForLcd(page, 1, "New: A0001 A0002");
      await waitForLcd(page, 2, "B0001");
      await click(page, "#"); // confirm the sensors
      await waitForLcd(page, 0, "Choose a PIN");
      await click(page, "1234#1234#");
      await waitForLcd(page, 3, "PIN set");
      await click(page, "A1234#");
      await waitForLcd(page, 0, "Plan: no periods");
      await click(page, "C");
      await waitForLcd(page, 0, "Period 1: start");
      // Typed on the computer's keyboard this time: the page maps Enter to #.
      await page.keyboard.type("202604162000");
      await page.keyboard.press("Enter");
      await waitForLcd(page, 0, "Period 1: end");
      await click(page, "202604162300#");
      await waitForLcd(page, 0, "Period 1: pattern");
      await click(page, "1#");
      // Sensors and cameras picked from the sensor table by ID.
      await waitForLcd(page, 0, "Sensors     0 chosen");
      await click(page, "12");
      await waitForLcd(page, 0, "Sensors     2 chosen");
      await click(page, "#");
      await waitForLcd(page, 1, "1[ ] B0001");
      await click(page, "1");
      await waitForLcd(page, 1, "1[x] B0001");
      await click(page, "#");
      await waitForLcd(page, 0, "Contract (all plan)");
      await click(page, "3#");
      await waitForLcd(page, 1, "Pattern 1    288 yen");
      t.deepEqual((await lcdText(page)).map((l) => l.trimEnd()), ["04-16 20:00 for 3h", "Pattern 1    288 yen", "28 counts, 444 left", "#=save  *=back"]);
      await click(page, "#");
      await waitForLcd(page, 3, "Plan saved");
      t.is((await lcdText(page))[1].trimEnd(), ">1 04-16 20:00 3h");

      // The clock: jump to 20:30, the page shows the terminal guarding and the log says so.
      await page.fill("#jumpTo", "2026-04-16T20:30");
      await page.click("#jumpBtn");
      await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("guarding started"), null, { timeout: 30_000 });
      await page.click("#keypad button[data-key='*']"); // back to status
      await waitForLcd(page, 0, "GUARDING   pattern 1");
      const log = (await page.textContent("#log")) ?? "";
      t.true(log.includes("keys 1"), "key presses are in the event log");
      t.true(log.includes("plan changed: 1 period(s), continuous"));
      t.true((await page.textContent("#time"))!.startsWith("2026-04-16T20:3"));
      t.deepEqual(errors, [], "no script errors on the page");
      const state = await (await fetch(url + "api/state")).json();
      t.deepEqual(state.terminal.plan.periods, [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }]);
      t.true(state.terminal.guarding);
    });
  });
}

test.serial("the server answers on loopback names only and refuses bad requests", async (t) => {
  const sim = await Simulator.start({ engine: "node", startMs: at("2026-04-16T19:00") });
  attachLcd(sim);
  attachKeypad(sim);
  const web = await SimWebServer.start(sim, { speed: 1 });
  try {
    t.true(web.url.startsWith("http://127.0.0.1:"));
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(web.url + path.slice(1), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    t.is((await post("/api/keys", { seq: "X" })).status, 400);
    t.is((await post("/api/keys", { seq: "" })).status, 400);
    t.is((await post("/api/clock", { jump: "2026-04-16T18:00" })).status, 400, "the clock does not go back");
    t.is((await post("/api/clock", { jump: "2026-02-30T18:00" })).status, 400);
    t.is((await post("/api/clock", { speed: -1 })).status, 400);
    // a mistyped year would run decades minute by minute: refused at once, the clock where it was
    const far = await post("/api/clock", { jump: "2062-04-16T19:00" });
    t.is(far.status, 400);
    t.regex((await far.json()).error, /a jump goes at most 366 days ahead .* got 2062-04-16T19:00/);
    const cut = await post("/api/action", { do: "power-cut", for: "99999d" });
    t.is(cut.status, 400);
    t.regex((await cut.json()).error, /power-cut: for is at most 366d/);
    t.true(web.sim.clock.now < at("2026-04-17T00:00"), "the clock did not run off");
    t.is((await post("/api/action", { do: "wait", for: "1h" })).status, 400, "no batch actions from the page");
    t.is((await post("/api/action", { do: "nothing" })).status, 400);
    t.is((await post("/api/session/new", { confirm: true })).status, 409, "no new session unless the server offers it (the demo's terminal keeps its memory)");
    t.is((await post("/api/session/restore", { format: "timeguard-sim-session/1" })).status, 409, "nor a restored one");
    // the clock runs at real speed here: the saved instant lies between the two readings around the save
    const before = web.sim.clock.now;
    const saved = await post("/api/session/save", {});
    const after = web.sim.clock.now;
    t.is(saved.status, 200, "a session can always be saved");
    const clockMs = parseSession(await saved.text()).clockMs;
    t.true(clockMs >= before && clockMs <= after, `saved clock ${clockMs} within ${before}..${after}`);
    t.is((await fetch(web.url + "api/keys", { method: "POST", headers: { "content-type": "text/plain" }, body: "1" })).status, 415);
    // A page elsewhere reaching us through a rebound DNS name is refused.
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(web.url + "api/state", { headers: { host: "evil.example:80" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    t.is(status, 403);
    const ok = await post("/api/clock", { speed: 60 });
    t.is(ok.status, 200);
    t.is((await ok.json()).speed, 60);
    const state = await (await fetch(web.url + "api/state")).json();
    t.is(state.lcd.lines.length, 4);
    t.is(state.speed, 60);
  } finally {
    await web.close();
    await sim.close();
  }
});

test.serial("[node] the page saves the session to a file and restores it after a new session: PIN, sensors, clock and card come back", async (t) => {
  await withSimPage(t, "node", async (page, url, errors) => {
    await waitForLcd(page, 1, "no sensors yet");
    await page.fill("#newId", "A0001");
    await page.click("#addBtn");
    await waitForLcd(page, 1, "New: A0001");
    await click(page, "#");
    await waitForLcd(page, 0, "Choose a PIN");
    await click(page, "1234#1234#");
    await waitForLcd(page, 3, "PIN set");
    await page.fill("#cardCounts", "300");
    await page.click("#cardIssue");
    await page.waitForFunction(() => /Card in the slot: 300 counts/.test(document.getElementById("card")?.textContent ?? ""), null, { timeout: 30_000 });
    page.on("dialog", (d) => void d.accept());
    const before = (await (await fetch(url + "api/state")).json()) as any;
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#saveSessionBtn")]);
    const dir = mkdtempSync(join(tmpdir(), "tg-session-"));
    try {
      const file = join(dir, download.suggestedFilename());
      await download.saveAs(file);
      const session = parseSession(readFileSync(file, "utf8"));
      t.deepEqual(session.devices.map((d) => d.id), ["A0001"]);
      t.true(session.flash.length > 0, "the terminal's memory is in the file");

      await page.click("#newSessionBtn");
      await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("new session"), null, { timeout: 30_000 });
      t.is(((await (await fetch(url + "api/state")).json()) as any).terminal.ui.screen, "setup");
      await page.click("#cardRemove");
      await page.waitForFunction(() => /slot is empty/.test(document.getElementById("card")?.textContent ?? ""), null, { timeout: 30_000 });

      const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#restoreSessionBtn")]);
      await chooser.setFiles(file);
      await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("session restored"), null, { timeout: 30_000 });
      const after = (await (await fetch(url + "api/state")).json()) as any;
      t.not(after.terminal.ui.screen, "setup", "the PIN and the sensors are back: no set-up");
      t.deepEqual(after.terminal.sensors.map((s: any) => s.id), before.terminal.sensors.map((s: any) => s.id));
      t.like(after.card.cardSlot, { inserted: true, counts: 300 }, "the card is back in the slot with its counts");
      await page.waitForFunction(() => /Card in the slot: 300 counts/.test(document.getElementById("card")?.textContent ?? ""), null, { timeout: 30_000 });
      const log = (await page.textContent("#log")) ?? "";
      t.true(log.includes(`session restored at ${formatTime(Math.floor(session.clockMs / 1000), 540)}`), log);
      t.is((await page.textContent("#terminalErr"))?.trim(), "");
      if (process.env.TG_SCREENSHOTS) await page.screenshot({ path: `${process.env.TG_SCREENSHOTS}/sim-session.png`, fullPage: true });

      // a file that is not a session is refused on the page, with the reason
      const junk = join(dir, "junk.json");
      writeFileSync(junk, JSON.stringify({ format: "timeguard-card/1" }));
      const [again] = await Promise.all([page.waitForEvent("filechooser"), page.click("#restoreSessionBtn")]);
      await again.setFiles(junk);
      await page.waitForFunction(() => (document.getElementById("terminalErr")?.textContent ?? "").includes("not a session file"), null, { timeout: 30_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    t.deepEqual(errors, [], "no script errors on the page");
  });
});

test("the page's script is valid JavaScript (the page is one template string)", async (t) => {
  const { PAGE } = await import("../host-sim/web/page");
  const script = PAGE.split("<script>")[1].split("</script>")[0];
  t.notThrows(() => new Function(script));
});

test("the ROM A00 table: 96 characters of 8 rows, 5 dots wide, the eighth row blank; ¥ → ← where the ROM has them", (t) => {
  const chars = Object.keys(ROM_A00);
  t.is(chars.length, 96);
  for (let c = 0x20; c < 0x7e; c++) if (c !== 0x5c) t.true(chars.includes(String.fromCharCode(c)), String.fromCharCode(c));
  for (const ch of ["¥", "→", "←"]) t.true(chars.includes(ch));
  for (const [ch, rows] of Object.entries(ROM_A00)) {
    t.is(rows.length, 8, ch);
    t.true(rows.every((r) => Number.isInteger(r) && r >= 0 && r < 32), ch);
    t.is(rows[7], 0, ch);
    t.is(rows.some((r) => r !== 0), ch !== " ", `${ch} has dots (only space is blank)`);
  }
  // no two characters drawn alike
  t.is(new Set(Object.values(ROM_A00).map((r) => r.join(","))).size, 96);
  t.is(UNKNOWN_GLYPH.length, 8);
});

test.serial("[node] the page draws the LCD as 5x8 dots from the ROM table, sensors as readable rows, and restarts or starts a new session only once confirmed", async (t) => {
  await withSimPage(t, "node", async (page, url, errors) => {
    await waitForLcd(page, 1, "no sensors yet");
    // every cell of every row: the dots drawn (lit rects) are the ROM's for the row's character
    const cells = await page.$$eval("#lcd .row", (rows) =>
      rows.map((r) => ({
        text: (r as HTMLElement).dataset.text ?? "",
        cells: Array.from(r.querySelectorAll(".cell")).map((c) => {
          const lit = [0, 0, 0, 0, 0, 0, 0, 0];
          c.querySelectorAll("rect").forEach((rect: Element) => {
            if (rect.getAttribute("class") !== "on") return;
            const x = Math.floor(Number(rect.getAttribute("x")));
            const y = Math.floor(Number(rect.getAttribute("y")));
            lit[y] |= 1 << (4 - x);
          });
          return { lit, rects: c.querySelectorAll("rect").length, cursor: c.classList.contains("cursor") };
        }),
      })),
    );
    t.is(cells.length, 4);
    for (const row of cells) {
      t.is(row.cells.length, 20);
      [...row.text].forEach((ch, i) => {
        const want = [...(ROM_A00[ch] ?? UNKNOWN_GLYPH)];
        if (row.cells[i].cursor) want[7] = 31;
        t.is(row.cells[i].rects, 40, "all 40 dots of the matrix drawn, lit or not");
        t.deepEqual(row.cells[i].lit, want, `'${ch}' in "${row.text}"`);
      });
    }
    t.true(cells.some((r) => r.text.trim().length > 0), "something is on the screen");

    // sensors: plain words, not key=value strings
    await page.fill("#newId", "A0001");
    await page.click("#addBtn");
    await page.fill("#newId", "B0001");
    await page.click("#addBtn");
    await page.waitForSelector('#sensors tr[data-sensor="B0001"]', { timeout: 30_000 });
    const rows = await page.$$eval("#sensors tr[data-sensor]", (trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td")).slice(0, 5).map((td) => td.textContent?.trim() ?? "")));
    t.deepEqual(
      rows.map((r) => r.slice(0, 5).map((x) => x.replace(/^\S+\s+(?=motion|camera)/u, ""))),
      [
        ["A0001", "motion sensor", "on", "not armed", "ok"],
        ["B0001", "camera", "on", "not armed", "ok"],
      ],
    );
    const text = (await page.textContent("#sensors")) ?? "";
    t.false(/\w+=/.test(text), `no key=value left: ${text}`);
    // what the device did this run, not its frame counter called "events"; buttons for its state
    const reports = await page.$$eval("#sensors tr[data-sensor]", (trs) => trs.map((tr) => tr.querySelectorAll("td")[5]?.textContent?.trim() ?? ""));
    t.regex(reports[0], /^\d+ message\(s\) sent, \d+ command\(s\) heard$/);
    t.regex(reports[1], /^\d+ message\(s\) sent, \d+ command\(s\) heard, 0 capture\(s\)$/);
    const buttons = async (id: string) => page.$$eval(`#sensors tr[data-sensor="${id}"] button`, (bs) => bs.map((b) => b.textContent));
    t.deepEqual(await buttons("A0001"), ["trip", "unplug"], "a powered device: trip or unplug, not plug in");
    await page.click('#sensors tr[data-sensor="A0001"] button[data-s="sensor.remove"]');
    await page.waitForFunction(() => document.querySelector('#sensors tr[data-sensor="A0001"] td:nth-child(3)')?.textContent === "unplugged", null, { timeout: 30_000 });
    t.deepEqual(await buttons("A0001"), ["plug in"], "an unplugged one: plug in");
    await page.click('#sensors tr[data-sensor="A0001"] button[data-s="sensor.add"]');
    await page.waitForFunction(() => document.querySelector('#sensors tr[data-sensor="A0001"] td:nth-child(3)')?.textContent === "on", null, { timeout: 30_000 });

    // restart and new session, each behind a confirmation
    const lcdStarts = (prefix: string) =>
      page.waitForFunction((p) => ((document.querySelectorAll("#lcd .row")[0] as HTMLElement | undefined)?.dataset.text ?? "").startsWith(p), prefix, { timeout: 30_000 });
    await waitForLcd(page, 1, "New: A0001 B0001");
    await click(page, "#"); // the sensors confirmed: kept in the terminal's flash
    await waitForLcd(page, 0, "Choose a PIN");
    await click(page, "1234#1234#");
    await waitForLcd(page, 3, "PIN set");
    const dialogs: string[] = [];
    let answer = false;
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void (answer ? d.accept() : d.dismiss());
    });
    await page.click("#restartBtn");
    await page.waitForTimeout(300);
    t.false(((await page.textContent("#log")) ?? "").includes("power-cut"), "dismissed: nothing happens");
    answer = true;
    await page.click("#restartBtn");
    await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("power-cut"), null, { timeout: 30_000 });
    const afterRestart = (await (await fetch(url + "api/state")).json()) as { terminal: { ui: { screen: string } } };
    t.not(afterRestart.terminal.ui.screen, "setup", "a restart keeps the flash: the sensors and the PIN are still there");
    t.false(await page.isHidden("#newSessionBtn"), "sim-web offers a new session");
    await page.click("#newSessionBtn");
    await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("new session"), null, { timeout: 30_000 });
    await lcdStarts("Setup");
    const afterNew = (await (await fetch(url + "api/state")).json()) as { terminal: { ui: { screen: string } } };
    t.is(afterNew.terminal.ui.screen, "setup", "a new session boots the terminal as new");
    t.is(dialogs.length, 3);
    t.regex(dialogs[2], /memory .* is erased/);
    if (process.env.TG_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.TG_SCREENSHOTS}/sim-page.png`, fullPage: true });
      await page.locator("#lcd").screenshot({ path: `${process.env.TG_SCREENSHOTS}/sim-lcd.png` });
    }
    t.deepEqual(errors, [], "no script errors on the page");
  });
});

test.serial("[node] with no page open, the log still follows the terminal: a page opened later shows what happened", async (t) => {
  const sim = await Simulator.start({ engine: "node", startMs: at("2026-04-16T19:00") });
  attachLcd(sim);
  attachKeypad(sim);
  const web = await SimWebServer.start(sim, { speed: 1 });
  try {
    const post = (path: string, body: unknown) => fetch(web.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    await new Promise((r) => setTimeout(r, 1500)); // the log has seen the first screen
    t.is((await post("api/keys", { seq: "#" })).status, 200); // setup → choose a PIN
    const deadline = Date.now() + 20_000;
    let log: Array<{ text: string; kind: string }> = [];
    while (Date.now() < deadline) {
      log = (await (await fetch(web.url + "api/state")).json()).log;
      if (log.some((l) => l.kind === "terminal")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.true(log.some((l) => l.kind === "terminal" && /^screen /.test(l.text)), JSON.stringify(log));
  } finally {
    await web.close();
    await sim.close();
  }
});
