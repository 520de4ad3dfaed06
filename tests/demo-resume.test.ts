import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO } from "../center/demo";
import { exportData } from "../center/export";
import { parseTime } from "../firmware/core/time";
import { readDemoClock } from "../host-sim/demo-clock";
import { type Demo, DemoDataError, openDemo } from "../host-sim/demo-stack";
import { sensorField } from "../host-sim/devices/sensors";
import "../host-sim/devices/keypad-matrix"; // the keys action
import { parseScript, runScript } from "../host-sim/script";

const at = (s: string) => parseTime(s, "t") * 1000;
const START = at("2026-04-16T19:00");
const SETUP = parseScript([
  { do: "wait", for: "1m" },
  { do: "keys", seq: "#" },
  { do: "keys", seq: "1234#1234#" },
  {
    do: "plan.set",
    plan: { contract: "single", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1 }] },
  },
]);

async function open(dir: string): Promise<Demo> {
  return openDemo({ engine: "node", dataDir: dir, startMs: START, httpPort: 0, mqttPort: 0 });
}

async function billed(demo: Demo): Promise<{ owedYen: number; countsDue: number; center: unknown }> {
  const snap = await demo.stack.sim.snapshot();
  const data = exportData(demo.stack.center.store) as Record<string, any>;
  const totals = data.totals.find((x: any) => x.terminal === DEMO.terminal);
  return { owedYen: snap.owedYen, countsDue: snap.countsDue, center: { totalYen: totals?.totalYen, countsTaken: totals?.countsTaken, mismatches: totals?.mismatches } };
}

test("[node] the demo stopped mid-period and started again: same bill as an unbroken run, its clock never goes back, a trip after the restart reaches the center", async (t) => {
  const dirA = mkdtempSync(join(tmpdir(), "tg-resume-a-"));
  const dirB = mkdtempSync(join(tmpdir(), "tg-resume-b-"));
  try {
    // An unbroken run to after the period.
    const a = await open(dirA);
    await runScript(a.stack.sim, SETUP);
    await a.stack.sim.runUntil(at("2026-04-17T00:00"));
    const unbroken = await billed(a);
    await a.stop();
    t.true(unbroken.owedYen > 0);

    // The same, stopped at 21:17:23 (between two checkpoints) and started again.
    const b1 = await open(dirB);
    t.false(b1.resumed);
    await runScript(b1.stack.sim, SETUP);
    const stopAt = at("2026-04-16T21:17") + 23_000;
    await b1.stack.sim.runUntil(stopAt);
    t.true((await b1.stack.sim.snapshot()).guarding);
    await b1.stop();
    t.is(readDemoClock(join(dirB, "demo.json")), stopAt, "a graceful stop saves the exact instant");

    const b2 = await open(dirB);
    t.true(b2.resumed);
    t.is(b2.stack.sim.clock.now, stopAt, "the clock resumes where it stopped, not at the wall clock");
    await b2.stack.sim.settle();
    const snap = await b2.stack.sim.snapshot();
    t.true(snap.guarding, "still guarding the same period");
    t.true(snap.sensors.filter((s: any) => s.id.startsWith("A")).every((s: any) => s.armed), "the PIR sensors are armed again");
    await b2.stack.sim.runUntil(at("2026-04-16T22:00"));
    sensorField(b2.stack.sim).get("A0001").trip();
    await b2.stack.sim.runUntil(at("2026-04-17T00:00"));
    const alarms = b2.stack.center.store.alarms(DEMO.terminal);
    t.is(alarms.length, 1, "the trip after the restart raised an alarm at the center");
    t.like(alarms[0], { sensor: "A0001" });
    t.deepEqual(await billed(b2), unbroken, "the restart bills exactly what the unbroken run billed");
    await b2.stop();
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test("a demo folder with a terminal but no clock is refused with a way out; --fresh starts over and leaves other files alone", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-resume-c-"));
  try {
    writeFileSync(join(dir, "terminal.flash"), "");
    writeFileSync(join(dir, "notes.txt"), "mine");
    const e = await t.throwsAsync(open(dir), { instanceOf: DemoDataError });
    t.regex(e!.message, /--fresh/);
    const demo = await openDemo({ engine: "node", dataDir: dir, fresh: true, startMs: START, httpPort: 0, mqttPort: 0 });
    t.false(demo.resumed);
    t.is(demo.stack.sim.clock.now, START);
    await demo.stop();
    t.is(readDemoClock(join(dir, "demo.json")), START);
    t.is((await import("node:fs")).readFileSync(join(dir, "notes.txt"), "utf8"), "mine");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("[node] the sensors' own counters resume with the demo, after a crash and after a graceful stop: no frame refused as a replay; a bad sensors.json is refused naming the field", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-resume-d-"));
  const counters = (snap: any) => Object.fromEntries(snap.sensorDevices.map((d: any) => [d.id, d.counter]));
  try {
    const d1 = await open(dir);
    await runScript(d1.stack.sim, SETUP);
    await d1.stack.sim.runUntil(at("2026-04-16T20:30"));
    const before = counters(await d1.stack.sim.snapshot());
    t.true(before.A0001 > 0);
    await d1.stack.close(); // a crash: no checkpoint, no exact files

    const d2 = await open(dir);
    t.true(d2.resumed);
    await d2.stack.sim.runUntil(d2.stack.sim.clock.now + 5 * 60_000);
    const snap = await d2.stack.sim.snapshot();
    t.is(snap.sensorLink.rejected.replay ?? 0, 0, "no frame refused as a replay");
    t.true(snap.sensors.every((s: any) => s.connected), JSON.stringify(snap.sensors));
    for (const [id, n] of Object.entries(counters(snap))) t.true((n as number) > before[id], `${id} counts on from ${before[id]}, not from 0`);
    await d2.stop();
    const saved = JSON.parse((await import("node:fs")).readFileSync(join(dir, "sensors.json"), "utf8"));
    t.deepEqual(Object.fromEntries(Object.entries(saved.devices).map(([id, m]: [string, any]) => [id, m.counter])), counters(snap), "a graceful stop saves the exact counters");

    saved.devices.A0001.counter = -1;
    writeFileSync(join(dir, "sensors.json"), JSON.stringify(saved));
    const e = await t.throwsAsync(open(dir));
    t.regex(e!.message, /A0001\.counter must be an integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
