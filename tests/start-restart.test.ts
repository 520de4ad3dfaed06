import test from "ava";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { formatTime, parseTime } from "../firmware/core/time";
import { projectRoot } from "../host-sim/project";
import { chromiumPath } from "./helpers/chromium";
import { CHROMIUM_ARGS } from "./helpers/sim-page";

// The "done when": `npm start`, a stop, a second `npm start` on the same data, and the demo
// still works end to end: the terminal goes on guarding where it was, and a sensor tripped on the
// simulator page (in Chromium) after the restart reaches the center's alarm page (in Chromium).

interface Started {
  child: ChildProcess;
  sim: string;
  center: string;
  exited: Promise<number | null>;
  output: () => string;
}

async function start(dir: string): Promise<Started> {
  const child = spawn(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "start", "--data", dir, "--http-port", "0", "--mqtt-port", "0", "--mqtt-tls-port", "0", "--sim-port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const deadline = Date.now() + 90_000;
  while (!/Ctrl-C stops/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`start did not come up: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const sim = /terminal \(simulator page\): (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
  const center = /center: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
  if (!sim || !center) throw new Error(`no addresses in: ${out}`);
  return { child, sim, center, exited, output: () => out };
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill("SIGINT");
  return s.exited;
}

async function state(s: Started): Promise<any> {
  return (await fetch(`${s.sim}api/state`)).json();
}

async function post(s: Started, path: string, body: unknown): Promise<any> {
  const r = await fetch(`${s.sim}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(`${path}: ${JSON.stringify(j)}`);
  return j;
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ZONE = 540;
const seconds = (time: string) => parseTime(time, "time", ZONE);

test("npm start, stop, start again: the terminal goes on guarding from where it stopped, and a sensor tripped on the page after the restart shows on the center's alarm page", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-restart-"));
  let first: Started | null = null;
  let second: Started | null = null;
  let browser: Browser | null = null;
  try {
    first = await start(dir);
    const a = first;
    await until("the kit's four devices", async () => (await state(a)).lcd.lines[0] === "Setup        4 found");
    // the person confirms the kit and chooses a PIN, then a plan from the next minutes for 3 h
    await post(a, "api/keys", { seq: "#" });
    await until("the PIN screen", async () => /PIN/.test((await state(a)).lcd.lines.join("\n")));
    await post(a, "api/keys", { seq: "1234#1234#" });
    await until("the PIN set", async () => (await state(a)).terminal?.ui?.screen === "status");
    const now = seconds((await state(a)).time);
    const from = Math.ceil((now + 120) / 60) * 60;
    await post(a, "api/action", {
      do: "plan.set",
      plan: { contract: "single", periods: [{ start: formatTime(from, ZONE), end: formatTime(from + 3 * 3600, ZONE), pattern: 1, sensors: 2, cameras: 2 }] },
    });
    // past the period's start and its exit delay
    await post(a, "api/clock", { jump: formatTime(from + 600, ZONE) });
    await until("guarding", async () => (await state(a)).terminal?.guarding === true);
    const stoppedAt = seconds((await state(a)).time);
    t.is(await stop(a), 0, "a graceful stop");
    first = null;

    second = await start(dir);
    const b = second;
    const resumed = await state(b);
    t.true(seconds(resumed.time) >= stoppedAt, `the clock resumed at ${resumed.time}, not before the stop at ${formatTime(stoppedAt, ZONE)}`);
    t.true(seconds(resumed.time) < stoppedAt + 600, "and not at the wall clock either");
    await until("guarding after the restart", async () => (await state(b)).terminal?.guarding === true);

    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const simPage = await (await browser.newContext()).newPage();
    await simPage.goto(b.sim);
    // the sensors are armed again (their counters carried over: the terminal hears them)
    await until("A0001 armed", async () => (await state(b)).terminal?.sensors?.find((s: any) => s.id === "A0001")?.armed === true);
    await post(b, "api/clock", { speed: 60 }); // the entry delay in a second
    await simPage.click('#sensors button[data-s="sensor.trip"][data-id="A0001"]');
    await simPage.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("sensor.trip"), null, { timeout: 30_000 });

    const centerPage = await (await browser.newContext()).newPage();
    await centerPage.goto(`${b.center}login`);
    await centerPage.fill('input[name="username"]', "operator");
    await centerPage.fill('input[name="password"]', "operator-demo-1");
    await Promise.all([centerPage.waitForLoadState("load"), centerPage.click('button[type="submit"]')]);
    await until(
      "the alarm on the center's page",
      async () => {
        await centerPage.goto(`${b.center}alarms`);
        return (await centerPage.locator('#alarms article.alarm[data-terminal="T0001"]').count()) > 0;
      },
      90_000,
    );
    const text = (await centerPage.textContent("#alarms")) ?? "";
    t.regex(text, /A0001/, "the alarm names the tripped sensor");
    if (process.env.TG_SCREENSHOTS) {
      await simPage.screenshot({ path: `${process.env.TG_SCREENSHOTS}/restart-sim.png`, fullPage: true });
      await centerPage.screenshot({ path: `${process.env.TG_SCREENSHOTS}/restart-center-alarms.png`, fullPage: true });
    }
    t.is(await stop(b), 0);
    second = null;
  } catch (e) {
    t.log(first?.output() ?? "", second?.output() ?? "");
    throw e;
  } finally {
    await browser?.close();
    for (const s of [first, second]) if (s && s.child.exitCode === null) s.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
