import test from "ava";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../host-sim/project";

// scenarios/plan-entry.json through the CLI, as CI and a person run it: the key sequence of
// period 1 on the keypad, the LCD in the snapshots, on both engines.

const run = promisify(execFile);

for (const engine of ["xs", "node"]) {
  test(`[${engine}] timeguard sim --script scenarios/plan-entry.json shows 288 yen, 28 counts, 444 left`, async (t) => {
    const root = projectRoot();
    const { stdout } = await run(process.execPath, [
      join(root, "bin", "timeguard.js"),
      "sim",
      "--engine",
      engine,
      "--script",
      join(root, "scenarios", "plan-entry.json"),
      "--json",
    ]);
    const out = JSON.parse(stdout);
    const snaps = Object.fromEntries(out.sim.snapshots.map((s: any) => [s.label, s.snapshot]));
    t.deepEqual(snaps.estimate.lcd, ["04-16 20:00 for 3h  ", "Pattern 1    288 yen", "28 counts, 444 left ", "#=save  *=back      "]);
    t.is(snaps.saved.lcd[3], "Plan saved          ");
    t.deepEqual(snaps.saved.plan.periods, [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }]);
    t.is(snaps.after.owedYen, 288);
    t.is(snaps.after.countsDue, 28);
    t.is(snaps.after.ui.refused, 0);
    t.is(out.lcd.length, 4);
  });
}
