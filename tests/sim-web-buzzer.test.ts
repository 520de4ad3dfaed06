import test, { type ExecutionContext } from "ava";
import type { Page } from "playwright-core";
import { click, waitForLcd, withSimPage } from "./helpers/sim-page";

// Issue #14: the simulator's page plays the terminal's buzzer. A door opens while guarding: the
// page's lamp blinks and, with sound turned on by a click, Web Audio tones sound once a second;
// disarming with D, the PIN, # silences it. Headless Chromium (Debian's) driven by playwright-core.
//
// Under the node engine: the page only follows the firmware's buzzer driver and the GPIO, which the
// XS engine drives the same way (tests/alarm-scenarios.test.ts hears the beeps under XS).

const tones = async (page: Page) => Number(await page.getAttribute("#buzzer", "data-tones"));

/** Sound on, a door contact, a PIN, and a period guarding it from 19:01: the page past the exit delay. */
async function guardDoor(t: ExecutionContext, page: Page, url: string): Promise<(body: unknown) => Promise<Response>> {
  await waitForLcd(page, 1, "no sensors yet");
  t.is(await page.getAttribute("#buzzer", "data-mode"), "off");
  t.regex((await page.textContent("#buzzerText")) ?? "", /^silent/);
  // sound on: a click, as browsers ask before a page may play audio
  await page.click("#soundBtn");
  t.is(await page.getAttribute("#buzzer", "data-sound"), "on");
  // a door contact, confirmed; a PIN; a period guarding it from 19:01 under pattern 1
  await page.fill("#newId", "D0001");
  await page.click("#addBtn");
  await waitForLcd(page, 1, "New: D0001");
  await click(page, "#");
  await waitForLcd(page, 0, "Choose a PIN");
  await click(page, "1234#1234#");
  await waitForLcd(page, 3, "PIN set");
  const post = (body: unknown) => fetch(url + "api/action", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const plan = { contract: "multiple", periods: [{ start: "2026-04-16T19:01", end: "2026-04-16T21:00", pattern: 1, sensors: ["D0001"], cameras: [] }] };
  t.is((await post({ do: "plan.set", plan })).status, 200);
  // past the exit delay: guarding and silent
  await page.fill("#jumpTo", "2026-04-16T19:05");
  await page.click("#jumpBtn");
  await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("guarding started"), null, { timeout: 30_000 });
  await page.waitForFunction(() => document.getElementById("buzzer")?.dataset.mode === "off" && (document.getElementById("time")?.textContent ?? "") >= "2026-04-16T19:05");
  return post;
}

test("[node] the simulator page beeps in the entry delay (lamp and Web Audio tones) and stops when disarmed", async (t) => {
  await withSimPage(t, "node", async (page, url, errors) => {
    const post = await guardDoor(t, page, url);
    const before = await tones(page);

    // the door opens: the entry delay; the page beeps once a second
    t.is((await post({ do: "sensor.trip", id: "D0001" })).status, 200);
    await page.waitForFunction(() => document.getElementById("buzzer")?.dataset.mode === "entry", null, { timeout: 10_000 });
    t.regex((await page.textContent("#buzzerText")) ?? "", /^beeping: entry delay, a beep each second/);
    await page.waitForFunction((n) => Number(document.getElementById("buzzer")?.dataset.tones) >= n + 3, before, { timeout: 10_000 });
    t.is(await page.getAttribute("#buzzer", "data-audio"), "running", "the tones went to a running AudioContext");
    t.truthy(await page.waitForSelector("#buzzer.beep", { timeout: 2_000 }), "the lamp blinks");
    const state = await (await fetch(url + "api/state")).json();
    t.is(state.buzzer.mode, "entry");
    t.true(state.buzzer.beeps >= 1, `the GPIO beeped (${state.buzzer.beeps})`);

    // disarmed in time: silent, and no more tones
    await click(page, "D1234#");
    await page.waitForFunction(() => document.getElementById("buzzer")?.dataset.mode === "off", null, { timeout: 10_000 });
    t.regex((await page.textContent("#buzzerText")) ?? "", /^silent/);
    const after = await tones(page);
    await page.waitForTimeout(2_500);
    t.is(await tones(page), after, "no tone after disarming");
    t.false(await page.$eval("#buzzer", (el) => el.classList.contains("beep")), "the lamp is dark");
    t.deepEqual(errors, [], "no script errors on the page");
  });
});

test("[node] nobody disarms: the page sounds the alarm (fast beeps, red) until D, the PIN, # silences it", async (t) => {
  await withSimPage(t, "node", async (page, url, errors) => {
    const post = await guardDoor(t, page, url);
    t.is((await post({ do: "sensor.trip", id: "D0001" })).status, 200);
    await page.waitForFunction(() => document.getElementById("buzzer")?.dataset.mode === "entry", null, { timeout: 10_000 });
    // past the 30 s entry delay: the alarm, and the terminal sounds it
    await page.fill("#jumpTo", "2026-04-16T19:07");
    await page.click("#jumpBtn");
    await page.waitForFunction(() => document.getElementById("buzzer")?.dataset.mode === "alarm", null, { timeout: 20_000 });
    t.regex((await page.textContent("#buzzerText")) ?? "", /^beeping: ALARM, until the PIN or the 3-minute cut-off/);
    t.true(await page.$eval("#buzzer", (el) => el.classList.contains("alarm")), "shown as an alarm");
    const before = await tones(page);
    await page.waitForFunction((n) => Number(document.getElementById("buzzer")?.dataset.tones) >= n + 6, before, { timeout: 10_000 });
    const state = await (await fetch(url + "api/state")).json();
    t.is(state.buzzer.mode, "alarm", "the firmware's buzzer driver plays the alarm");
    await click(page, "D1234#");
    await page.waitForFunction(() => document.getElementById("buzzer")?.dataset.mode === "off", null, { timeout: 10_000 });
    const after = await tones(page);
    await page.waitForTimeout(1_500);
    t.is(await tones(page), after, "silent after the PIN");
    t.false(await page.$eval("#buzzer", (el) => el.classList.contains("alarm")));
    t.deepEqual(errors, [], "no script errors on the page");
  });
});
