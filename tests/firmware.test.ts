import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXAMPLE_PLAN, EXAMPLE_PLAN_IDS, PERIOD_1_PLAN, at, installKit, onBothEngines, withSim } from "./helpers/engines";

const HOUR = 3_600_000;

onBothEngines("the worked example: both rows, 50,976 yen, 5,097 counts", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    await installKit(sim); // the plan's counts take devices of the sensor table
    t.deepEqual(await sim.command("plan.set", { plan: EXAMPLE_PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T21:30"));
    const mid = await sim.snapshot();
    t.true(mid.guarding);
    t.is(mid.activePeriod, 0);
    t.deepEqual(mid.next, { at: "2026-04-16T23:00", kind: "end", period: 0 });
    t.is(mid.owedYen, 144, "1.5 h of 120 yen/h × 0.8");
    await sim.runUntil(at("2026-05-06T00:00"));
    const s = await sim.snapshot();
    t.false(s.guarding);
    t.deepEqual(
      s.periods.map((p: any) => [p.start, p.end, p.pattern, p.sensors, p.cameras, p.yenPerHour, p.hours, p.baseYen, p.yen]),
      [
        ["2026-04-16T20:00", "2026-04-16T23:00", 1, 2, 1, 120, 3, 360, 288],
        ["2026-04-27T12:00", "2026-05-05T12:00", 3, 2, 2, 330, 192, 63360, 50688],
      ],
    );
    t.is(s.owedYen, 50976);
    t.is(s.countsDue, 5097);
  });
});

onBothEngines("period 1 alone: estimate 288 yen, 28 counts, 444 left of 472", async (t, engine) => {
  await withSim(engine, "2026-04-16T12:00", async (sim) => {
    await installKit(sim);
    const e = await sim.command("estimate", { plan: PERIOD_1_PLAN, card: 472 });
    t.is(e.totalYen, 288);
    t.is(e.counts, 28);
    t.is(e.countsLeft, 444);
    t.is(e.periods[0].hours, 3);
  });
});

onBothEngines("bad plans are refused by the firmware with the field named, and change nothing", async (t, engine) => {
  await withSim(engine, "2026-04-16T12:00", async (sim) => {
    await installKit(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PERIOD_1_PLAN }), { ok: true });
    const before = await sim.snapshot();
    const r = await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ ...PERIOD_1_PLAN.periods[0], start: "2026-02-30T20:00" }] } });
    t.is(r.ok, false);
    t.is(r.field, "periods[0].start");
    const r2 = await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ ...PERIOD_1_PLAN.periods[0], pattern: 7 }] } });
    t.is(r2.field, "periods[0].pattern");
    const r3 = await sim.command("tariff.set", { tariff: { patterns: { "1": 100 } } });
    t.is(r3.ok, false);
    t.is(r3.field, "devices");
    const after = await sim.snapshot();
    t.deepEqual(after.plan, before.plan);
    t.is(after.storage.writes, before.storage.writes, "nothing was written");
  });
});

/** A simulator whose flash is a file (so a power cut really goes through the file). */
async function withFlashFile(engine: "xs" | "node", start: string, body: Parameters<typeof withSim>[2]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-flash-"));
  try {
    await withSim(engine, start, body, { flashPath: join(dir, "flash.bin") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

onBothEngines("a power cut mid-period: billing stops at the last checkpoint and resumes at power-on", async (t, engine) => {
  await withFlashFile(engine, "2026-04-16T19:00", async (sim) => {
    await installKit(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PERIOD_1_PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T21:02")); // last checkpoint at 21:00 (every 5 min from 20:00)
    await sim.powerCut();
    sim.clock.advanceTo(at("2026-04-16T21:30"));
    await sim.powerOn();
    const back = await sim.snapshot();
    t.is(back.boots, 2);
    t.true(back.guarding);
    t.is(back.periods[0].hours, 1, "20:00-21:00 guarded so far: 21:00-21:30 was lost with the power");
    await sim.runUntil(at("2026-04-17T00:00"));
    const s = await sim.snapshot();
    // 20:00-21:00 and 21:30-23:00: 2.5 h × 120 = 300 yen base, 240 owed.
    t.is(s.periods.length, 1);
    t.is(s.periods[0].hours, 2.5);
    t.is(s.periods[0].intervals, 2);
    t.is(s.periods[0].baseYen, 300);
    t.is(s.owedYen, 240);
  });
});

onBothEngines("state survives a power cut: plan, ledger and boots come back from the flash file", async (t, engine) => {
  await withFlashFile(engine, "2026-04-16T19:00", async (sim) => {
    await installKit(sim);
    t.deepEqual(await sim.command("plan.set", { plan: EXAMPLE_PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-17T00:00"));
    await sim.powerCut();
    await sim.powerOn();
    const s = await sim.snapshot();
    t.is(s.boots, 2);
    t.deepEqual(s.plan, EXAMPLE_PLAN_IDS, "stored with the devices its counts took");
    t.is(s.periods.length, 1);
    t.is(s.owedYen, 288);
    t.deepEqual(s.next, { at: "2026-04-27T12:00", kind: "start", period: 1 });
  });
});

// Plans without devices (no sensor table needed): what matters here is the record's bytes.
const OLD_PLAN = { contract: "continuous", periods: [{ ...PERIOD_1_PLAN.periods[0], sensors: 0, cameras: 0 }] };
const NEW_PLAN = { contract: "continuous", periods: EXAMPLE_PLAN.periods.map((p) => ({ ...p, sensors: 0, cameras: 0 })) };

/** Writes a new plan with the power cut after `cut` bytes; returns the plan read back after reboot. */
async function planAfterCut(engine: "xs" | "node", cut: number): Promise<{ plan: unknown; cutHappened: boolean }> {
  return withSim(engine, "2026-04-16T12:00", async (sim) => {
    await sim.command("plan.set", { plan: OLD_PLAN });
    sim.armPowerCut(cut);
    const r = await sim.command("plan.set", { plan: NEW_PLAN });
    const cutHappened = r === undefined;
    if (sim.powered) await sim.powerCut();
    await sim.powerOn();
    const s = await sim.snapshot();
    t_assertNoTorn(s);
    return { plan: s.plan, cutHappened };
  });
}

function t_assertNoTorn(s: any): void {
  if (s.errors.length) throw new Error(`firmware refused stored state: ${s.errors.join("; ")}`);
}

onBothEngines("a power cut at any byte of a plan write leaves the old plan or the new one, never a torn one", async (t, engine) => {
  // The new plan's record is a few hundred bytes; cut at every byte on Node, every 7th under XS
  // (each cut boots a fresh engine), plus both ends.
  const step = engine === "xs" ? 7 : 1;
  const seen = new Set<string>();
  let cuts = 0;
  for (let cut = 0; ; cut += step) {
    const { plan, cutHappened } = await planAfterCut(engine, cut);
    const which = JSON.stringify(plan) === JSON.stringify(NEW_PLAN) ? "new" : JSON.stringify(plan) === JSON.stringify(OLD_PLAN) ? "old" : "torn";
    t.not(which, "torn", `cut after ${cut} bytes`);
    seen.add(which);
    if (!cutHappened) {
      t.is(which, "new", "a write that completed must be read back");
      break;
    }
    cuts++;
    if (cut > 20000) t.fail("the write never completed");
  }
  t.true(cuts > 20, `cut ${cuts} times`);
  t.deepEqual([...seen].sort(), ["new", "old"]);
});
