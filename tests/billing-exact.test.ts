import type { ExecutionContext } from "ava";
import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import type { Simulator } from "../host-sim/simulator";
import { at, bothEngines, cardConfig, newCard, tempDir, withCardSim } from "./helpers/card-sim";

/**
 * Issue #10 on the terminal: a contract change applies from the change on, a tariff version from
 * its arrival on, and the card never gives more than is owed for durable time, whatever the power
 * does. Plans here choose no devices (pattern price only), so they bill on any sensor table.
 */

const plan = (contract: string, periods: Array<[string, string, number]>) => ({
  contract,
  periods: periods.map(([start, end, pattern]) => ({ start, end, pattern, sensors: 0, cameras: 0 })),
});

/** The card's figures and the terminal's owed, checked against each other. */
async function check(t: ExecutionContext, sim: Simulator, label: string): Promise<{ taken: number; due: number; owed: number }> {
  const s = await sim.snapshot();
  const taken = s.card.taken as number;
  const due = Math.floor((s.owedYen as number) / 10);
  t.true(taken <= due, `${label}: the card gave ${taken}, only ${due} owed (${s.owedYen} yen)`);
  return { taken, due, owed: s.owedYen };
}

bothEngines("a contract change never re-prices time already billed (single → continuous, and back)", async (t, engine) => {
  // single (1.0): pattern 3 for 1 h = 300 yen; then continuous (0.8): pattern 1 for 1 h = 80 yen
  for (const [first, second, owed] of [
    ["single", "continuous", 300 + 80],
    ["continuous", "single", 240 + 100],
  ] as const) {
    const dir = tempDir();
    await withCardSim(engine, { start: "2026-06-01T19:00", config: cardConfig({}) }, async ({ sim, slot }) => {
      slot.insert(newCard(dir, 500));
      t.like(await sim.command("plan.set", { plan: plan(first, [["2026-06-01T20:00", "2026-06-01T21:00", 3]]) }), { ok: true });
      await sim.runUntil(at("2026-06-01T21:30"));
      const after1 = await check(t, sim, `${first} period`);
      t.is(after1.owed, first === "single" ? 300 : 240);
      // The second period, under the other contract (a single contract has one period: the first,
      // billed already, leaves the plan).
      const periods: Array<[string, string, number]> = [["2026-06-01T22:00", "2026-06-01T23:00", 1]];
      if (second !== "single") periods.unshift(["2026-06-01T20:00", "2026-06-01T21:00", 3]);
      t.deepEqual(await sim.command("plan.set", { plan: plan(second, periods) }), { ok: true });
      await sim.runUntil(at("2026-06-01T23:30"));
      const end = await check(t, sim, `${first} → ${second}`);
      t.is(end.owed, owed, `owed = Σ segments floor(coefficient × rate-seconds), not one coefficient over everything`);
      t.is(end.taken, Math.floor(owed / 10));
    });
  }
});

bothEngines("a contract change inside a running period applies from the change on", async (t, engine) => {
  const dir = tempDir();
  await withCardSim(engine, { start: "2026-06-01T19:00", config: cardConfig({}) }, async ({ sim, slot }) => {
    slot.insert(newCard(dir, 500));
    await sim.command("plan.set", { plan: plan("continuous", [["2026-06-01T20:00", "2026-06-01T22:00", 1]]) });
    await sim.runUntil(at("2026-06-01T21:00"));
    t.like(await sim.command("plan.set", { plan: plan("single", [["2026-06-01T20:00", "2026-06-01T22:00", 1]]) }), { ok: true });
    await sim.runUntil(at("2026-06-01T22:30"));
    const s = await sim.snapshot();
    // 1 h at 0.8 (80) + 1 h at 1.0 (100)
    t.is(s.owedYen, 180);
    t.is(s.periods.length, 1);
    t.is(s.periods[0].yen, 180);
  });
});

bothEngines("a tariff version applies from its arrival: earlier time keeps its price; old or same versions are ignored", async (t, engine) => {
  const dir = tempDir();
  await withCardSim(engine, { start: "2026-06-01T19:00", config: cardConfig({}) }, async ({ sim, slot }) => {
    slot.insert(newCard(dir, 500));
    await sim.command("plan.set", { plan: plan("single", [["2026-06-01T20:00", "2026-06-01T22:00", 1]]) });
    await sim.runUntil(at("2026-06-01T21:00"));
    const v2 = { ...EXAMPLE_TARIFF_JSON, version: 2, patterns: { "1": 160, "2": 200, "3": 300 } };
    t.like(await sim.command("tariff.set", { tariff: v2 }), { ok: true });
    t.like(await sim.command("tariff.set", { tariff: { ...EXAMPLE_TARIFF_JSON, version: 1, patterns: { "1": 1, "2": 1, "3": 1 } } }), { ok: true });
    const refused = await sim.command("tariff.set", { tariff: { ...v2, version: 3, yenPerCount: 20 } });
    t.is(refused.field, "yenPerCount", "a count's value is fixed by the cards issued");
    await sim.runUntil(at("2026-06-01T22:30"));
    const s = await sim.snapshot();
    t.is(s.tariffVersion, 2);
    t.is(s.owedYen, 100 + 160, "1 h at version 0's 100 yen/h, 1 h at version 2's 160");
  });
});

/** A 20-minute period at 100 yen/h × 0.8: 26 yen, 2 counts (the power-cut case). */
const SHORT = plan("continuous", [["2026-06-01T20:00", "2026-06-01T20:20", 1]]);

async function closeWindow(engine: "xs" | "node", cut: number | null): Promise<{ sizes: number[]; result: { taken: number; due: number; reports: number; cut: boolean; seen: Array<[number, number]> } }> {
  const dir = tempDir();
  const file = newCard(dir, 100);
  const sizes: number[] = [];
  let result = { taken: 0, due: 0, reports: 0, cut: false, seen: [] as Array<[number, number]> };
  await withCardSim(engine, { start: "2026-06-01T19:55", config: cardConfig({ collectMs: 60000 }) }, async ({ sim, slot }) => {
    slot.insert(file);
    await sim.command("plan.set", { plan: SHORT });
    await sim.runUntil(at("2026-06-01T20:19:58"));
    const flash = sim.flash;
    const set = flash.set.bind(flash);
    flash.set = (domain, key, value) => {
      sizes.push(value.t === "a" ? value.v.length : 1);
      return set(domain, key, value);
    };
    if (cut !== null) sim.armPowerCut(cut);
    const cutsBefore = sim.powerCuts;
    const seen: Array<[number, number]> = [];
    // Every 5 s through the close and its deduction: never more taken than owed at any instant.
    for (let ms = at("2026-06-01T20:20:00"); ms <= at("2026-06-01T20:21:00"); ms += 5000) {
      await sim.runUntil(ms);
      if (!sim.powered) break;
      const s = await sim.snapshot();
      seen.push([s.card.taken, Math.floor(s.owedYen / 10)]);
    }
    const wasCut = sim.powerCuts > cutsBefore;
    flash.set = set;
    if (!sim.powered) await sim.powerOn();
    for (let ms = at("2026-06-01T20:21:05"); ms <= at("2026-06-01T20:40"); ms += 60000) {
      await sim.runUntil(ms);
      const s = await sim.snapshot();
      seen.push([s.card.taken, Math.floor(s.owedYen / 10)]);
    }
    const s = await sim.snapshot();
    const reports = (s.outbox.byKind.period ?? 0) as number;
    result = { taken: s.card.taken, due: Math.floor(s.owedYen / 10), reports, cut: wasCut, seen };
  });
  return { sizes, result };
}

bothEngines("power cut at every write of a period's close (deduction, ledger, report, outbox): never over-collected, the report always queued", async (t, engine) => {
  const clean = await closeWindow(engine, null);
  t.is(clean.result.taken, 2);
  t.is(clean.result.reports, 1);
  const sizes = clean.sizes;
  t.true(sizes.length >= 4, `the close writes the ledger, the report, the outbox (${sizes.length} writes)`);
  let offset = 0;
  const cuts: number[] = [];
  for (const size of sizes) {
    // the first byte of each write, one in its middle, its last byte
    for (const k of new Set([0, Math.floor(size / 2), Math.max(0, size - 1)])) cuts.push(offset + k);
    offset += size;
  }
  for (const cut of cuts) {
    const { result } = await closeWindow(engine, cut);
    t.true(result.cut, `cut at byte ${cut} happened`);
    for (const [taken, due] of result.seen) t.true(taken <= due, `cut at byte ${cut}: ${taken} taken, ${due} owed`);
    t.is(result.taken, result.due, `cut at byte ${cut}: once settled the card gave exactly floor(owed / 10)`);
    t.true(result.reports >= 1 && result.reports <= 2, `cut at byte ${cut}: the period's report is queued (${result.reports})`);
  }
});
