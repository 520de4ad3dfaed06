import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

// The alarm panel of issue #14, end to end under XS through the real center (timeguard scenario):
// every event the center received is in `alarms` with its Contact ID and sensor.

function scenario(file: string): any {
  const dir = mkdtempSync(join(tmpdir(), "tg-alarm-"));
  try {
    const out = join(dir, "result.json");
    const r = spawnSync(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "scenario", file, "--engine", "xs", "--out", out], {
      cwd: projectRoot(),
      encoding: "utf8",
      timeout: 10 * 60_000,
    });
    if (r.status !== 0) throw new Error(`scenario ${file} failed: ${r.stderr}`);
    return JSON.parse(readFileSync(out, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const snap = (result: any, label: string) => result.snapshots.find((s: any) => s.label === label).snapshot;
const events = (result: any) => result.alarms.map((a: any) => [a.contactId, a.sensor]);

test("[xs] entry delay: disarmed in time → an opening (401), no alarm; not disarmed → 134 after the delay, with images", (t) => {
  const result = scenario("scenarios/entry-delay.json");
  t.is(result.engine, "xs");
  // the exit delay as guarding begins: a countdown and beeps
  const exit = snap(result, "exit delay");
  t.regex(exit.lcd[1], /^Leave now: \d+ s/);
  t.is(exit.panel.sound, "exit");
  // the door opens: the LCD counts down, the buzzer beeps once a second
  const entry = snap(result, "entry delay");
  t.is(entry.lcd[0], "① Door D0001 open   ");
  t.regex(entry.lcd[1], /^Disarm in (19|20|21) s/);
  t.is(entry.lcd[2], "D, PIN, # to disarm ");
  t.true(entry.buzzer.beeps - exit.buzzer.beeps >= 10, `beeps in the delay: ${entry.buzzer.beeps - exit.buzzer.beeps}`);
  const disarmed = snap(result, "disarmed in time");
  t.false(disarmed.guarding);
  t.is(disarmed.lcd[3], "Disarmed            ");
  t.is(disarmed.buzzer.on, false);
  // nobody home the second time: still counting at 20 s, the alarm at 30 s
  t.regex(snap(result, "entry delay, nobody home").lcd[1], /^Disarm in \d+ s/);
  const after = snap(result, "after the delay");
  t.is(after.lcd[0], "① ALARM ①           ");
  t.is(after.lcd[1], "D0001 door alarm    ");
  // the center: the opening (a record, closed) and the entry/exit alarm; the PIR that followed the
  // family in during the delay is no alarm
  t.deepEqual(events(result), [
    [401, "D0001"],
    [134, "D0001"],
  ]);
  t.like(result.alarms[0], { event: "opening", status: "closed", time: "2026-04-16T20:30:11" });
  t.like(result.alarms[1], { event: "entry", status: "new", pattern: 3, time: "2026-04-16T21:30:30" });
  t.true(result.alarms[1].media.filter((m: any) => m.type === "jpeg" && m.complete).length >= 3, "the door alarm's images");
  t.deepEqual(result.operatorQueue.map((a: any) => a.contactId), [134], "an opening is not for the operators");
});
