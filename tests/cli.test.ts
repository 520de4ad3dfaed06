import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

const root = projectRoot();
const bin = join(root, "bin", "timeguard.js");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("timeguard estimate --json reproduces the worked example", (t) => {
  const r = run("estimate", "--tariff", "examples/tariff.json", "--plan", "examples/plan-worked-example.json", "--json");
  t.is(r.code, 0, r.err);
  t.deepEqual(JSON.parse(r.out), {
    periods: [
      { start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120, hours: 3, baseYen: 360, yen: 288 },
      { start: "2026-04-27T12:00", end: "2026-05-05T12:00", pattern: 3, sensors: 2, cameras: 2, yenPerHour: 330, hours: 192, baseYen: 63360, yen: 50688 },
    ],
    coefficient: 0.8,
    totalYen: 50976,
    counts: 5097,
    countsLeft: null,
  });
});

test("timeguard estimate for period 1 with a 472-count card: 288 yen, 28 counts, 444 left (table and JSON)", (t) => {
  const j = run("estimate", "--tariff", "examples/tariff.json", "--plan", "examples/plan-period-1.json", "--card", "472", "--json");
  t.is(j.code, 0, j.err);
  const e = JSON.parse(j.out);
  t.is(e.totalYen, 288);
  t.is(e.counts, 28);
  t.is(e.countsLeft, 444);
  const table = run("estimate", "--tariff", "examples/tariff.json", "--plan", "examples/plan-period-1.json", "--card", "472");
  t.is(table.code, 0);
  t.regex(table.out, /04-16 20:00\s+04-16 23:00\s+1\s+2\s+1\s+120\s+3\s+360\s+288/);
  t.regex(table.out, /total 288 yen = 28 counts at 10 yen a count \(whole counts only: the last 8 yen, under one count, are not taken\)\n/);
  t.regex(table.out, /444 left/);
});

test("timeguard estimate: bad files get a clear message and exit code 2", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-cli-"));
  try {
    const notJson = join(dir, "a.json");
    writeFileSync(notJson, "{ nope");
    const badPlan = join(dir, "plan.json");
    writeFileSync(badPlan, JSON.stringify({ contract: "continuous", periods: [{ start: "2026-04-16T23:00", end: "2026-04-16T20:00", pattern: 1 }] }));
    const badTariff = join(dir, "tariff.json");
    writeFileSync(badTariff, JSON.stringify({ patterns: { "1": 100 }, devices: { sensor: 5, camera: 10 }, contracts: { single: 1, multiple: 0.9, continuous: 0.8 }, yenPerCount: -1 }));
    const cases: Array<[string[], RegExp]> = [
      [["estimate", "--tariff", join(dir, "missing.json"), "--plan", badPlan], /cannot read the tariff file .*ENOENT/],
      [["estimate", "--tariff", notJson, "--plan", badPlan], /tariff file .* is not JSON/],
      [["estimate", "--tariff", "examples/tariff.json", "--plan", badPlan], /plan file .*periods\[0\]\.end: must be after the start/],
      [["estimate", "--tariff", badTariff, "--plan", "examples/plan-period-1.json"], /tariff file .*yenPerCount/],
      [["estimate", "--tariff", "examples/tariff.json"], /--plan FILE is required/],
      [["estimate", "--tariff", "examples/tariff.json", "--plan", badPlan, "--card", "lots"], /--card must be a whole number/],
      [["estimate", "--bogus"], /Unknown option/],
      [["frobnicate"], /unknown command frobnicate/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      t.is(r.code, 2, args.join(" "));
      t.regex(r.err, message, args.join(" "));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("timeguard sim --engine xs --for 1h boots under XS and prints the meter figures", (t) => {
  const r = run("sim", "--engine", "xs", "--for", "1h", "--start", "2026-04-16T19:00");
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^terminal T0001 under XS, 2026-04-16T20:00 on its clock/);
  t.regex(r.out, /XS meter: compute \d+ over \d+ calls, allocate \d+ bytes, heap \d+ slots/);
});

test("timeguard sim --script runs timed actions and prints one JSON object", (t) => {
  const r = run("sim", "--engine", "node", "--script", "scenarios/worked-example.json", "--json");
  t.is(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  t.is(s.sim.engine, "node");
  t.is(s.owedYen, 50976);
  t.is(s.countsDue, 5097);
  t.is(s.boots, 2, "the script cuts the power once");
  const labels = s.sim.snapshots.map((x: any) => x.label);
  t.deepEqual(labels, ["period 1 running", "after period 1", "end"]);
  t.is(s.sim.snapshots[1].snapshot.owedYen, 288);
});

test("timeguard sim: bad scripts and options exit 2 with a clear message", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-cli-"));
  try {
    const bad = join(dir, "s.json");
    writeFileSync(bad, JSON.stringify([{ do: "dance" }]));
    let r = run("sim", "--engine", "node", "--script", bad);
    t.is(r.code, 2);
    t.regex(r.err, /unknown action "dance"/);
    writeFileSync(bad, JSON.stringify([{ at: "+1h", do: "plan.set", plan: { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T19:00", pattern: 1 }] } }]));
    r = run("sim", "--engine", "node", "--start", "2026-04-16T12:00", "--script", bad, "--json");
    t.is(r.code, 0, "a refused plan is the firmware's answer, not a crash");
    t.like(JSON.parse(r.out).sim.results[0].value, { ok: false, field: "periods[0].end" });
    r = run("sim", "--engine", "v8");
    t.is(r.code, 2);
    t.regex(r.err, /--engine must be xs or node/);
    r = run("sim", "--engine", "node", "--for", "ages");
    t.is(r.code, 2);
    t.regex(r.err, /bad duration/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
