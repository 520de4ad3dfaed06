import { bothEngines, at, cardConfig, newCard, tempDir, withCardSim } from "./helpers/card-sim";
import { readCardConfig } from "../firmware/card/config";
import { manifestConfig } from "../host-sim/project";
import test from "ava";

// The card slot's card-present contact (config.card.detect): the terminal talks to the PN532 when
// the contact moves or a count is to be taken, never to ask whether the card is still there.

type Row = { kind: string; card?: number };

bothEngines("with the card-present contact, a card sitting in the slot costs no PN532 traffic; a removal and a new card are still noticed", async (t, engine) => {
  const dir = tempDir();
  await withCardSim(engine, { start: "2026-04-16T12:00" }, async ({ sim, slot }) => {
    t.deepEqual(slot.detect, { pin: 34, present: 1 }, "the manifest wires the contact");
    const card = newCard(dir, 472);
    slot.insert(card);
    await sim.advance(11_000);
    const first = await sim.snapshot();
    t.is(first.card.present, true);
    t.is(first.card.counts, 472);
    const commands = slot.reader.commands;
    t.true(commands > 0, "the card was read when it went in");
    await sim.advance(3_600_000); // an hour, nothing guarded
    t.is(slot.reader.commands, commands, "not one PN532 command while the card sat in the slot");
    t.is((await sim.snapshot()).card.present, true);

    slot.remove();
    await sim.advance(11_000); // noticed at the next look (presenceMs)
    const gone = await sim.snapshot();
    t.is(gone.card.present, false);
    t.true((gone.cardLedger as Row[]).some((r) => r.kind === "removed"), "the removal is in the ledger");
    const afterRemoval = slot.reader.commands;
    t.true(afterRemoval > commands, "the reader was asked once the contact opened");
    await sim.advance(600_000);
    t.is(slot.reader.commands, afterRemoval, "no polling of an empty slot either");

    slot.insert(newCard(dir, 90));
    await sim.advance(3_000); // an empty slot is looked at every pollMs
    const back = await sim.snapshot();
    t.is(back.card.present, true);
    t.is(back.card.counts, 90);
  });
});

bothEngines("with the contact, a period is still collected as it goes and a card pulled mid-period stops guarding after the grace", async (t, engine) => {
  const dir = tempDir();
  const DAY_PLAN = { contract: "single", periods: [{ start: "2026-04-16T12:00", end: "2026-04-16T15:00", pattern: 1, sensors: 2, cameras: 1 }] };
  await withCardSim(engine, { start: "2026-04-16T11:00", config: cardConfig({ graceSeconds: 120 }) }, async ({ sim, slot }) => {
    t.deepEqual(await sim.command("plan.set", { plan: DAY_PLAN }), { ok: true });
    slot.insert(newCard(dir, 472));
    await sim.runUntil(at("2026-04-16T13:02"));
    const mid = await sim.snapshot();
    t.is(mid.guarding, true);
    // 120 yen/h: 124 yen owed by 13:02, 12 whole counts, taken as they fell due (a look every minute)
    t.is(mid.card.taken, 12);
    t.is(mid.cardSlot.counts, 460, "the card itself holds what the ledger says");
    slot.remove();
    await sim.runUntil(at("2026-04-16T13:06"));
    const snap = await sim.snapshot();
    t.is(snap.card.present, false);
    t.is(snap.guarding, false, "a removed card stops guarding after the grace (by day, stop policy)");
    t.is(snap.card.mode, "stopped");
  });
});

bothEngines("without the contact (detect: null) the reader is polled as before and a removal is noticed", async (t, engine) => {
  const dir = tempDir();
  await withCardSim(engine, { start: "2026-04-16T12:00", config: cardConfig({ detect: null }) }, async ({ sim, slot }) => {
    t.is(slot.detect, null);
    slot.insert(newCard(dir, 472));
    await sim.advance(11_000);
    t.is((await sim.snapshot()).card.present, true);
    const commands = slot.reader.commands;
    await sim.advance(600_000);
    // a presence check (InRelease + InListPassiveTarget) every 10 s: 60 in 10 minutes
    t.true(slot.reader.commands - commands >= 100, `${slot.reader.commands - commands} commands`);
    slot.remove();
    await sim.advance(11_000);
    t.is((await sim.snapshot()).card.present, false);
  });
});

test("config.card.detect: the manifest's contact is read; a bad one is refused with the field named", (t) => {
  t.deepEqual(readCardConfig(manifestConfig()).detect, { pin: 34, present: 1 });
  const base = cardConfig({}) as { card: Record<string, unknown> };
  t.is(readCardConfig({ card: { ...base.card, detect: null } }).detect, null);
  t.throws(() => readCardConfig({ card: { ...base.card, detect: { present: 1 } } }), { message: /config\.card\.detect\.pin/ });
  t.throws(() => readCardConfig({ card: { ...base.card, detect: { pin: 40, present: 1 } } }), { message: /detect\.pin/ });
  t.throws(() => readCardConfig({ card: { ...base.card, detect: { pin: 34, present: 2 } } }), { message: /detect\.present/ });
  t.throws(() => readCardConfig({ card: { ...base.card, detect: 34 } }), { message: /config\.card\.detect/ });
});
