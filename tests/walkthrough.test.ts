import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

/**
 * The seed patents' walk-through on XS, end to end through the real center: plug and play, the two
 * periods of DESIGN §2 typed on the keypad, a 6,000-count card, an intrusion in period 2 under
 * pattern 3, an operator's dispatch.
 */
test("[xs] patent walk-through: two rows, 50,976 yen, 5,097 counts, the alarm with its images, the notification, the dispatch on the LCD", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-walk-"));
  try {
    const out = join(dir, "result.json");
    const r = spawnSync(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "scenario", "scenarios/patent-walkthrough.json", "--engine", "xs", "--out", out], {
      cwd: projectRoot(),
      encoding: "utf8",
      timeout: 20 * 60_000,
    });
    t.is(r.status, 0, r.stderr);
    const result = JSON.parse(readFileSync(out, "utf8"));
    t.is(result.engine, "xs");
    t.deepEqual(result.terminal.registration, { ok: true, site: "Demo home" }, "the center answered the initial-setting request");
    t.deepEqual(
      result.periods.map((p: any) => [p.start, p.end, p.pattern, p.sensors, p.cameras, p.yenPerHour, p.hours, p.baseYen, p.yen, p.centerYen]),
      [
        ["2026-04-16T20:00", "2026-04-16T23:00", 1, 2, 1, 120, 3, 360, 288, 288],
        ["2026-04-27T12:00", "2026-05-05T12:00", 3, 2, 2, 330, 192, 63360, 50688, 50688],
      ],
    );
    t.is(result.totalYen, 50976);
    t.is(result.countsTaken, 5097);
    t.is(result.feeMismatches, 0);
    t.is(result.terminal.card.counts, 6000 - 5097);
    // The estimates the family saw before saving, on the LCD.
    const lcd = (label: string) => result.snapshots.find((s: any) => s.label === label).snapshot.lcd.join("\n");
    t.regex(lcd("estimate of period 1"), /for 3h[\s\S]*Pattern 1 +288 yen[\s\S]*28 counts, 5972 left/);
    t.regex(lcd("estimate of period 2"), /50688 yen[\s\S]*5097 counts,? 903 left[\s\S]*All 50976 yen #=save/);
    // The alarm at the center, with whole images.
    t.is(result.alarms.length, 1);
    const alarm = result.alarms[0];
    t.like(alarm, { sensor: "A0001", contactId: 130, pattern: 3, time: "2026-04-28T02:00" });
    const jpegs = alarm.media.filter((m: any) => m.type === "jpeg");
    t.true(jpegs.length >= 3);
    t.true(alarm.media.every((m: any) => m.complete && m.bytes > 0));
    // Pattern 3: the operators are notified; the operator's dispatch reaches the terminal.
    t.true(result.notifications.some((n: any) => n.audience === "operators" && n.status === "sent"));
    t.true(result.mail.some((m: any) => m.to.includes("operators@monitoring.invalid")));
    t.is(result.dispatches.length, 1);
    t.like(result.dispatches[0], { action: "dispatch", role: "operator", sendError: null });
    t.like(result.terminal.dispatch[0], { alarmId: 1, status: "dispatched" });
    t.regex(lcd("after the dispatch"), /[Gg]uards/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
