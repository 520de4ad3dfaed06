import { bothEngines, PERIOD_1_PLAN, at, cardConfig, newCard, tempDir, withCardSim } from "./helpers/card-sim";
import { parseTime } from "../firmware/core/time";
import { installKit } from "./helpers/engines";

type Row = { at: string; kind: string; counts?: number; after?: number; fee?: number; surcharge?: number; note?: string };

const P1_START = parseTime("2026-04-16T20:00", "t");
/** Yen owed for period 1 guarded from 20:00 to `t` (120 yen/h, coefficient 0.8), one floor. */
function owedP1(t: number): number {
  return Math.floor((120 * Math.min(t - P1_START, 3 * 3600) * 800) / 3_600_000);
}

bothEngines("collect as you go: after every deduction taken = floor(owed / 10), remainders carry", async (t, engine) => {
  for (const collectMs of [60_000, 600_000]) {
    const dir = tempDir();
    const file = newCard(dir, 472);
    await withCardSim(engine, { start: "2026-04-16T19:00", config: cardConfig({ collectMs }) }, async ({ sim, slot }) => {
      await sim.command("plan.set", { plan: PERIOD_1_PLAN });
      slot.insert(file);
      const debits = new Map<string, Row>();
      for (let m = 60; m <= 245; m += 5) {
        await sim.runUntil(at("2026-04-16T19:00") + m * 60_000);
        const snap = await sim.snapshot();
        for (const r of snap.cardLedger as Row[]) if (r.kind === "debit") debits.set(r.at, r);
        // Never ahead of what is owed, never more than one collection behind.
        t.true(snap.card.taken <= snap.card.due);
        t.is(snap.cardSlot.counts, 472 - snap.card.taken);
      }
      const rows = [...debits.values()];
      let taken = 0;
      for (const r of rows) {
        const when = parseTime(r.at, "at");
        taken += r.counts as number;
        t.is(taken, Math.floor(owedP1(when) / 10), `at ${r.at}: taken so far = floor(owed/10)`);
        t.is(r.after, 472 - taken);
        // Collected within one collection interval (plus a presence poll) of the count falling due.
        const dueAt = P1_START + Math.ceil((taken * 10 * 3_600_000) / (120 * 800));
        t.true(when - dueAt < collectMs / 1000 + 10, `count ${taken} due at ${dueAt}, taken at ${when}`);
      }
      t.is(taken, 28);
      if (collectMs === 60_000) t.true(rows.every((r) => r.counts === 1), "each whole count is taken as it accrues");
      else t.true(rows.some((r) => (r.counts as number) > 1), "a longer interval takes several counts at once");
      const end = await sim.snapshot();
      t.is(end.card.counts, 444);
      t.is(end.owedYen, 288);
    });
  }
});

const DAY_PLAN = { contract: "continuous", periods: [{ start: "2026-04-16T12:00", end: "2026-04-16T15:00", pattern: 1, sensors: 2, cameras: 1 }] };
const FAST = { pollMs: 10_000 };

bothEngines("low credit: warned before the card runs out (default: the next 24 hours of the plan), cleared by a top-up", async (t, engine) => {
  const dir = tempDir();
  const file = newCard(dir, 100);
  const plan = {
    contract: "continuous",
    periods: [PERIOD_1_PLAN.periods[0], { start: "2026-04-17T08:00", end: "2026-04-17T20:00", pattern: 1, sensors: 2, cameras: 1 }],
  };
  await withCardSim(engine, { start: "2026-04-16T19:00", config: cardConfig(FAST) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan });
    slot.insert(file);
    await sim.advance(15_000);
    let snap = await sim.snapshot();
    // 19:00 → 19:00 next day: period 1 (288 yen) and 11 h of period 2 (1056 yen): 134 counts.
    t.is(snap.card.lowThreshold, 134);
    t.is(snap.card.low, true);
    t.is(snap.card.warning, "Card low: 100 left");
    // Queued for the center: in the card's own list, or already taken by the uplink's outbox.
    const queued = snap.card.notices + (snap.outbox?.byKind?.card ?? 0) + (snap.outbox?.acknowledged ?? 0);
    t.true(queued >= 1, "the low-credit notice is queued for the center (the card's list, or the uplink's outbox)");
    const low = (snap.cardLedger as Row[]).find((r) => r.kind === "low");
    t.truthy(low);
    t.regex(low?.note ?? "", /100 counts left, the next 24 hours need 134/);
    // The rest of the plan: 288 + 1152 yen, one floor over the total: 144 counts.
    t.is(snap.card.needed, 144);
    t.is(snap.card.left, 100 - 144);

    const r = slot.topUp(500);
    t.deepEqual(r, { before: 100, after: 600, seq: 2 });
    await sim.advance(45_000); // back in the slot after 30 s, seen at the next poll
    snap = await sim.snapshot();
    t.is(snap.card.counts, 600);
    t.is(snap.card.low, false);
    t.is(snap.card.warning, null);
    const topup = (snap.cardLedger as Row[]).find((r) => r.kind === "topup");
    t.is(topup?.counts, 500);
    await sim.runUntil(at("2026-04-16T23:05"));
    snap = await sim.snapshot();
    t.is(snap.card.counts, 572);
  });
});

bothEngines("empty or absent card, stop policy, by day: guarding stops after the grace; another card in time continues", async (t, engine) => {
  const dir = tempDir();
  // An empty card: 5 counts last until 12:31:15.
  await withCardSim(engine, { start: "2026-04-16T11:00", config: cardConfig(FAST) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan: DAY_PLAN });
    slot.insert(newCard(dir, 5));
    await sim.runUntil(at("2026-04-16T12:45"));
    const snap = await sim.snapshot();
    t.is(snap.card.counts, 0);
    t.is(snap.card.taken, 5);
    t.is(snap.guarding, false);
    t.is(snap.card.mode, "stopped");
    t.is(snap.card.warning, "Stopped: no credit");
    const stopped = (snap.cardLedger as Row[]).find((r) => r.kind === "policy" && /guarding stopped/.test(r.note ?? ""));
    t.truthy(stopped, "the decision is in the ledger");
    const end = parseTime(snap.plan.periods[0].end, "end");
    t.true(end > parseTime("2026-04-16T12:33", "t") && end < parseTime("2026-04-16T12:36", "t"), `stopped ${snap.plan.periods[0].end}`);
    t.is(snap.periods[0].open, false);
    t.is(snap.card.debt, snap.card.due - 5);
    // A card with credit before the planned end: guarding resumes until then, the new card pays.
    slot.remove();
    await sim.runUntil(at("2026-04-16T13:00"));
    slot.insert(newCard(dir, 100));
    await sim.runUntil(at("2026-04-16T13:01"));
    const resumed = await sim.snapshot();
    t.is(resumed.guarding, true);
    t.true((resumed.cardLedger as Row[]).some((r) => /guarding resumes until 2026-04-16T15:00/.test(r.note ?? "")));
    await sim.runUntil(at("2026-04-16T15:05"));
    const after = await sim.snapshot();
    t.is(after.periods.length, 2, "the stopped stretch and the resumed one");
    t.is(after.plan.periods[1].end, "2026-04-16T15:00");
    t.true(after.periods[1].hours > 1.99 && after.periods[1].hours <= 2, `resumed ${after.periods[1].hours} h`);
    t.is(after.card.debt, 0);
    t.is(after.card.taken, after.card.due);
    t.is(after.card.counts, 100 - (after.card.due - 5));
  });
  // No card at all.
  await withCardSim(engine, { start: "2026-04-16T11:00", config: cardConfig(FAST) }, async ({ sim }) => {
    await sim.command("plan.set", { plan: DAY_PLAN });
    await sim.runUntil(at("2026-04-16T12:10"));
    const snap = await sim.snapshot();
    t.is(snap.guarding, false);
    t.is(snap.card.present, false);
    t.is(snap.card.mode, "stopped");
    t.true((snap.cardLedger as Row[]).some((r) => /no card: insert a card within 120 s/.test(r.note ?? "")));
  });
  // The empty card swapped for another within the grace: guarding goes on, the other card pays.
  await withCardSim(engine, { start: "2026-04-16T11:00", config: cardConfig(FAST) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan: DAY_PLAN });
    slot.insert(newCard(dir, 5));
    await sim.runUntil(at("2026-04-16T12:33"));
    t.is((await sim.snapshot()).card.mode, "grace");
    slot.remove();
    await sim.advance(20_000);
    slot.insert(newCard(dir, 100));
    await sim.runUntil(at("2026-04-16T15:05"));
    const snap = await sim.snapshot();
    t.is(snap.periods[0].hours, 3);
    t.is(snap.card.taken, 28);
    t.is(snap.card.counts, 100 - 23);
    t.is(snap.card.debt, 0);
    t.is(snap.card.mode, "ok");
  });
});

bothEngines("night: the stop policy never stops a night period midway; the debt goes to the next card", async (t, engine) => {
  const dir = tempDir();
  const night = (end: string) => ({ contract: "continuous", periods: [{ start: "2026-04-16T22:00", end, pattern: 1, sensors: 2, cameras: 1 }] });
  await withCardSim(engine, { start: "2026-04-16T21:00", config: cardConfig(FAST) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan: night("2026-04-17T02:00") });
    slot.insert(newCard(dir, 5));
    await sim.runUntil(at("2026-04-17T01:00"));
    let snap = await sim.snapshot();
    t.is(snap.guarding, true, "still guarding at 01:00 on an empty card");
    t.is(snap.card.mode, "friendly");
    t.is(snap.card.warning, "No credit: night");
    t.true((snap.cardLedger as Row[]).some((r) => /it is night, guarding goes on until 06:00/.test(r.note ?? "")));
    await sim.runUntil(at("2026-04-17T02:05"));
    snap = await sim.snapshot();
    t.is(snap.periods[0].hours, 4, "the night period ran to its end");
    t.is(snap.owedYen, 384);
    t.is(snap.card.taken, 5);
    t.is(snap.card.debt, 33);
    slot.remove();
    await sim.runUntil(at("2026-04-17T09:00"));
    slot.insert(newCard(dir, 100));
    await sim.advance(15_000);
    snap = await sim.snapshot();
    t.is(snap.card.debt, 0);
    t.is(snap.card.taken, 38);
    t.is(snap.card.counts, 67);
  });
  await withCardSim(engine, { start: "2026-04-16T21:00", config: cardConfig(FAST) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan: night("2026-04-17T08:00") });
    slot.insert(newCard(dir, 5));
    await sim.runUntil(at("2026-04-17T05:55"));
    t.is((await sim.snapshot()).guarding, true);
    await sim.runUntil(at("2026-04-17T06:05"));
    const snap = await sim.snapshot();
    t.is(snap.guarding, false, "stopped once the night is over");
    t.is(snap.card.mode, "stopped");
    const end = parseTime(snap.plan.periods[0].end, "end");
    t.true(end >= parseTime("2026-04-17T06:00", "t") && end < parseTime("2026-04-17T06:01", "t"), `stopped at ${snap.plan.periods[0].end}`);
  });
});

bothEngines("emergency credit: guarding goes on without a card, the surcharge is debt taken from the next card", async (t, engine) => {
  const dir = tempDir();
  await withCardSim(engine, { start: "2026-04-16T11:00", config: cardConfig({ ...FAST, policy: "emergency", surchargePermille: 200 }) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan: DAY_PLAN });
    await sim.runUntil(at("2026-04-16T13:00"));
    let snap = await sim.snapshot();
    t.is(snap.guarding, true);
    t.is(snap.card.mode, "emergency");
    t.regex(snap.card.warning, /^Emergency credit \d+$/);
    await sim.runUntil(at("2026-04-16T15:05"));
    snap = await sim.snapshot();
    t.is(snap.periods[0].hours, 3);
    t.is(snap.card.due, 28);
    t.is(snap.card.debt, 28 + 5, "28 counts guarded on credit, 20% surcharge: 5 more");
    const notes = (snap.cardLedger as Row[]).map((r) => r.note ?? "").join(" | ");
    t.regex(notes, /guarding goes on with emergency credit, 20% surcharge/);
    slot.insert(newCard(dir, 100));
    await sim.advance(15_000);
    snap = await sim.snapshot();
    t.is(snap.card.counts, 67);
    t.is(snap.card.taken, 28);
    t.is(snap.card.surchargeTaken, 5);
    t.is(snap.card.debt, 0);
    const debit = (snap.cardLedger as Row[]).find((r) => r.kind === "debit");
    t.deepEqual([debit?.fee, debit?.surcharge], [28, 5]);
  });
});

bothEngines("no card reader answering: guarding is not stopped for a reader fault, the counts stay due", async (t, engine) => {
  const { Simulator } = await import("../host-sim/simulator");
  const sim = await Simulator.start({ engine, startMs: at("2026-04-16T19:00"), config: cardConfig({}) });
  try {
    await installKit(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PERIOD_1_PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T23:05"));
    const snap = await sim.snapshot();
    t.is(snap.periods[0].hours, 3, "period 1 guarded to its end");
    t.regex(snap.card.reader, /I2C write failed: .*NACK from 0x24/);
    t.is(snap.card.present, false);
    t.is(snap.card.mode, "ok");
    t.is(snap.card.debt, 28);
  } finally {
    await sim.close();
  }
});
