import { RECORD_BLOCK, decodeRecord } from "../firmware/card/layout";
import { PERIOD_1_PLAN, at, bothEngines, cardConfig, newCard, tempDir, withCardSim } from "./helpers/card-sim";

/**
 * Issue #10 item 9: a card pulled in the middle of a deduction comes back with its record's
 * sequence edited (so its MAC no longer matches). The purse must not decide the interrupted
 * deduction from that record (no `debit-assumed`, nothing marked seen); the genuine card, put
 * back as issued, settles it and is billed on as before.
 */
const START = 472;

bothEngines("a forged record on a card pulled mid-deduction settles nothing; the genuine card still works", async (t, engine) => {
  const file = newCard(tempDir(), START);
  await withCardSim(engine, { start: "2026-04-16T19:58", config: cardConfig({ collectMs: 60000 }) }, async ({ sim, slot }) => {
    await sim.command("plan.set", { plan: PERIOD_1_PLAN });
    const card = slot.insert(file);
    await sim.runUntil(at("2026-04-16T20:06:30"));
    t.is((await sim.snapshot()).card.taken, 0, "nothing taken before the first count");
    // pulled right after the value block was read back: 1 count is gone, the record not yet written
    slot.armFault(7, "after", "remove");
    await sim.runUntil(at("2026-04-16T20:07:30"));
    t.is(slot.card, null, "the card was pulled mid-deduction");
    const record = card.block(RECORD_BLOCK);
    const genuine = record.slice();
    const seq = decodeRecord(genuine).seq;
    t.is(slot.physical().inserted, false);

    // the record's sequence is edited (as if the card were used twice elsewhere); its MAC no longer fits
    new DataView(record.buffer, record.byteOffset, 16).setUint32(0, seq + 5, true);
    slot.insertCard(card);
    await sim.advance(30_000);
    let snap = await sim.snapshot();
    t.regex(String(snap.card.refused), /MAC/, "the forged card is refused for its MAC");
    t.is(snap.card.taken, 0, "the forged record commits nothing");
    t.is(snap.card.inDoubt, 1, "the interrupted count stays in doubt");
    const kinds = () => (snap.cardLedger as Array<{ kind: string }>).map((r) => r.kind);
    t.false(kinds().includes("debit-assumed"), `no debit-assumed row (${kinds().join(" ")})`);
    t.false(kinds().includes("rollback"), "nor a rollback");

    // the genuine card comes back as issued: it settles the deduction and collecting goes on
    slot.remove();
    await sim.advance(20_000);
    record.set(genuine);
    slot.insertCard(card);
    await sim.runUntil(at("2026-04-16T20:16:00"));
    snap = await sim.snapshot();
    t.is(snap.card.refused, null, "the genuine card is accepted");
    t.is(snap.card.present, true);
    t.is(snap.card.inDoubt, 0, "nothing left in doubt");
    t.true(kinds().includes("debit-completed"), `the interrupted count completed (${kinds().join(" ")})`);
    t.is(START - (slot.physical().counts as number), snap.card.taken, "counts gone from the card = counts the ledger took");
    t.true(snap.card.taken >= 2, `collecting went on (${snap.card.taken} taken)`);
    t.true(snap.card.taken <= snap.card.due, "never more than due");
  });
});
