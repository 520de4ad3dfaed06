import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

/**
 * Issue #10 end to end, on XS through the real center: an admin sets a non-default tariff at the
 * center (the admin form's path); the terminal gets it at its next session and bills three periods
 * of a "multiple" contract across a month end with it; the center checks every period and its
 * totals equal what the card paid.
 */
test("[xs] a tariff set at the center bills a plan across a month end: no mismatch, the center's total is what the card paid", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-tariff-"));
  try {
    const out = join(dir, "result.json");
    const r = spawnSync(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "scenario", "scenarios/tariff-month-end.json", "--engine", "xs", "--out", out], {
      cwd: projectRoot(),
      encoding: "utf8",
      timeout: 20 * 60_000,
    });
    t.is(r.status, 0, r.stderr);
    const result = JSON.parse(readFileSync(out, "utf8"));
    const running = result.snapshots.find((s: any) => s.label === "period 1 running").snapshot;
    t.is(running.tariffVersion, 1, "the terminal has the center's version before the first period");
    t.is(running.coefficient, 0.85);
    // 10 h × 150 + 10 h × 250 + 6 h × 400 = 6,400 yen base; × 0.85, one floor: 5,440 yen
    t.deepEqual(
      result.periods.map((p: any) => [p.start, p.end, p.pattern, p.yenPerHour, p.hours, p.baseYen, p.yen, p.centerYen, p.feeMismatch]),
      [
        ["2026-06-29T20:00", "2026-06-30T06:00", 1, 150, 10, 1500, 1275, 1275, null],
        ["2026-06-30T22:00", "2026-07-01T08:00", 2, 250, 10, 2500, 2125, 2125, null],
        ["2026-07-02T20:00", "2026-07-03T02:00", 3, 400, 6, 2400, 2040, 2040, null],
      ],
    );
    t.is(result.feeMismatches, 0);
    t.is(result.totalYen, 5440);
    t.is(result.countsTaken, 544, "what the card paid: floor(5,440 / 10)");
    t.is(result.terminal.card.taken, 544);
    t.is(result.terminal.owedYen, 5440);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
