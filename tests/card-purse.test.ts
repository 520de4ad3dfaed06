import { bothEngines, PERIOD_1_PLAN, at, newCard, tempDir, withCardSim } from "./helpers/card-sim";
import { readCardFile } from "../host-sim/devices/card-file";
import { decodeValueBlock } from "../firmware/card/layout";

bothEngines("a 472-count card pays period 1 of DESIGN §2 (288 yen, 28 counts) and ends at 444", async (t, engine) => {
  const dir = tempDir();
  const file = newCard(dir, 472);
  await withCardSim(engine, { start: "2026-04-16T19:00" }, async ({ sim, slot }) => {
    t.deepEqual(await sim.command("plan.set", { plan: PERIOD_1_PLAN }), { ok: true });
    slot.insert(file);
    await sim.advance(10_000);
    let snap = await sim.snapshot();
    t.is(snap.card.present, true);
    t.is(snap.card.counts, 472);
    t.is(snap.card.needed, 28);
    t.is(snap.card.left, 444);
    await sim.runUntil(at("2026-04-16T23:05"));
    snap = await sim.snapshot();
    t.is(snap.owedYen, 288);
    t.is(snap.countsDue, 28);
    t.is(snap.card.counts, 444);
    t.is(snap.card.taken, 28);
    t.is(snap.card.debt, 0);
    t.is(snap.cardSlot.counts, 444);
    t.deepEqual(snap.errors, []);
    t.deepEqual(snap.card.errors, []);
  });
  const after = readCardFile(file);
  const v = decodeValueBlock(after.memory.subarray(64, 80));
  t.deepEqual(typeof v === "string" ? v : v.value, 444);
});
