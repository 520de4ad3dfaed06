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
  t.is(after.panel.sound, "alarm", "the terminal sounds the alarm (until the PIN or the 3-minute cut-off)");
  t.is(after.buzzerDriver.mode, "alarm");
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

test("[xs] duress PIN: Disarmed on the LCD as with the PIN; a silent duress alarm (121) first in the operators' queue", (t) => {
  const result = scenario("scenarios/duress.json");
  const after = snap(result, "after the duress PIN");
  t.false(after.guarding);
  t.is(after.lcd[3], "Disarmed            ");
  t.false(after.lcd.join("").includes("uress"), "nothing on the LCD gives it away");
  t.deepEqual(after.panel.alarms, [], "no alarm shown");
  t.deepEqual(events(result), [
    [130, "A0001"],
    [121, "keypad"],
    [401, "keypad"],
  ]);
  t.like(result.alarms[1], { event: "duress", time: "2026-04-16T20:31:01" });
  t.deepEqual(
    result.operatorQueue.map((a: any) => a.contactId),
    [121, 130],
    "duress first, although the intrusion came first",
  );
});

test("[xs] a sensor unplugged while guarding: trouble (381) at the center within 3 min, on the LCD, not billed", (t) => {
  const result = scenario("scenarios/sensor-lost.json");
  const later = snap(result, "3 minutes later");
  t.is(later.lcd[3], "Sensor A0001 lost   ");
  t.true(later.guarding, "guarding goes on with the door contact");
  t.deepEqual(events(result), [[381, "A0001"]]);
  const trouble = result.alarms[0];
  t.like(trouble, { event: "trouble", pattern: 3 });
  // the trouble reached the center by the 20:13 snapshot: it is the only outbox item then, and sent
  const sentBy = later.uplink.acked;
  t.true(sentBy > 0 && later.outbox.items === 0, "nothing waiting at 20:13: the trouble event was acknowledged by the center");
  t.true(trouble.time >= "2026-04-16T20:10" && trouble.time <= "2026-04-16T20:13", `trouble at ${trouble.time}`);
  // 40 min at 310 yen/h would be 206 yen; A0001 (5 yen/h) was not billed after it was lost
  const p = result.periods[0];
  t.is(p.sensors, 2);
  t.true(p.baseYen < 206 && p.baseYen >= 203, `base ${p.baseYen}`);
  t.is(p.feeMismatch, null);
});

test("[xs] a dispatch is on the LCD with the operator's note within 60 s; the card line stays; closed clears it", (t) => {
  const result = scenario("scenarios/dispatch.json");
  t.is(snap(result, "seen").lcd[2], "Alarm A0001 seen    ");
  t.deepEqual(snap(result, "dispatched").lcd, ["① ALARM ①           ", "A0001 guards sent   ", "Team 3, ETA 12 min  ", "#=seen  D=disarm    "]);
  const status = snap(result, "status while dispatched");
  t.is(status.lcd[2], "Guards: Team 3, ETA ");
  t.not(status.lcd[3].trim(), "", "line 4 keeps the card or a warning");
  t.is(snap(result, "closed").panel.alarms.length, 0);
  t.regex(snap(result, "closed").lcd[2], /^Fee \d+ yen/);
  t.like(result.terminal.dispatch[0], { alarmId: 1, status: "dispatched", note: "Team 3, ETA 12 min" });
  t.like(result.alarms[0], { contactId: 130, sensor: "A0001", status: "closed" });
});

test("[xs] a fire alarm outside guarding reaches the center with images; the terminal sounds it until the PIN silences it", (t) => {
  const result = scenario("scenarios/fire-unguarded.json");
  t.is(snap(result, "fire").lcd[1], "C0001 FIRE          ");
  t.is(snap(result, "fire").panel.sound, "fire", "the terminal sounds the fire alarm's pattern, guarding or not");
  t.is(snap(result, "fire").lcd[3], "#=seen  D=silence   ");
  const silenced = snap(result, "silenced");
  t.is(silenced.panel.sound, "off", "D, the PIN, # silences it (not guarding: nothing to disarm)");
  t.is(silenced.buzzerDriver.mode, "off");
  t.is(silenced.lcd[3], "#=seen              ", "the alarm stays on the LCD until seen; nothing left to silence");
  t.deepEqual(events(result), [[110, "C0001"]]);
  const jpegs = result.alarms[0].media.filter((m: any) => m.type === "jpeg" && m.complete && m.bytes > 0);
  t.true(jpegs.length >= 3, `images: ${jpegs.length}`);
});

test("[xs] an offline terminal is woken by the center's SMS for a dispatch: the note is on the LCD within a minute", (t) => {
  const result = scenario("scenarios/sms-wake.json");
  const offline = snap(result, "offline");
  t.is(offline.uplink.state, "idle", "the alarm's hold is over: offline");
  t.is(offline.link.sms, 0);
  const woken = snap(result, "woken");
  t.is(woken.link.sms, 1, "the center sent one SMS");
  t.is(woken.uplink.smsWakes, 1);
  t.is(woken.uplink.sessions, offline.uplink.sessions + 1, "one session, dialled for the SMS");
  t.deepEqual(woken.lcd.slice(1, 3), ["A0001 guards sent   ", "Team 5, ETA 8 min   "]);
});
