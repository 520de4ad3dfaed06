import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { bothEngines, DEMO_KEYS, PERIOD_1_PLAN, at, newCard, tempDir, withCardSim } from "./helpers/card-sim";
import { Issuer, openCard, readCardFile, writeCardFile } from "../host-sim/devices/card-file";
import { encodeValueBlock } from "../firmware/card/layout";

/** Inserts a card file, lets the terminal look at it, returns what the terminal says. */
async function look(rig: { sim: any; slot: any }, file: string): Promise<any> {
  rig.slot.insert(file);
  // the slot is polled every 2 s, but the tick after a card left still waits the presence interval (10 s)
  await rig.sim.advance(11_000);
  const snap = await rig.sim.snapshot();
  rig.slot.remove();
  await rig.sim.advance(12_000); // the removal is noticed at the next presence check (10 s)
  return snap.card;
}

bothEngines("wrong key, broken value block, failed MAC, revoked card and an older clone are refused with a clear message", async (t, engine) => {
  const dir = tempDir();
  const wrongKey = newCard(dir, 472, { keys: { ...DEMO_KEYS, keyA: Uint8Array.of(1, 2, 3, 4, 5, 6) } });

  const badInverse = newCard(dir, 472);
  const f1 = readCardFile(badInverse);
  f1.memory[4 * 16 + 4] ^= 0x01; // one bit of the inverse copy of the value
  writeCardFile(badInverse, f1);

  const badMac = newCard(dir, 472);
  const f2 = readCardFile(badMac);
  f2.memory.set(encodeValueBlock(9999, 4), 4 * 16); // a well-formed value block, not vouched for
  f2.memory[6 * 16 + 4] = 9999 & 0xff; // the record's balance too, its MAC left as it was
  f2.memory[6 * 16 + 5] = 9999 >> 8;
  writeCardFile(badMac, f2);

  const otherMacKey = newCard(dir, 472, { keys: { ...DEMO_KEYS, macKey: new Uint8Array(16).fill(7) } });

  const revoked = newCard(dir, 472);
  const { card } = openCard(revoked);
  new Issuer(card, DEMO_KEYS).revoke();

  const original = newCard(dir, 472);
  const clone = join(dir, "clone.json");
  copyFileSync(original, clone); // a copy of the card as issued (transaction 1)

  await withCardSim(engine, { start: "2026-04-16T19:00" }, async (rig) => {
    const { sim, slot } = rig;
    const r1 = await look(rig, wrongKey);
    t.is(r1.present, false);
    t.regex(r1.refused, /key A was refused \(wrong key/);

    const r2 = await look(rig, badInverse);
    t.is(r2.present, false);
    t.regex(r2.refused, /block 4 is not a valid value block: the value's inverse copy does not match/);

    const r3 = await look(rig, badMac);
    t.is(r3.present, false);
    t.regex(r3.refused, /the record's MAC does not match/);

    const r4 = await look(rig, otherMacKey);
    t.regex(r4.refused, /the record's MAC does not match/);

    const r5 = await look(rig, revoked);
    t.regex(r5.refused, /was revoked by the issuer/);

    // The original pays the first counts of period 1 (its transaction sequence moves on)…
    t.deepEqual(await sim.command("plan.set", { plan: PERIOD_1_PLAN }), { ok: true });
    slot.insert(original);
    await sim.runUntil(at("2026-04-16T20:30"));
    const paid = await sim.snapshot();
    t.is(paid.card.present, true);
    t.is(paid.card.counts, 472 - paid.card.taken);
    t.true(paid.card.taken >= 3);
    slot.remove();
    await sim.advance(12_000);
    // …so the copy made before, still showing 472 counts at transaction 1, is refused.
    const r6 = await look(rig, clone);
    t.is(r6.present, false);
    t.regex(r6.refused, /shows transaction 1 but this terminal already saw \d+: a copy of an older state is refused/);

    const snap = await sim.snapshot();
    const refusals = (snap.cardLedger as Array<{ kind: string; note?: string }>).filter((r) => r.kind === "refused");
    t.true(refusals.length >= 3, "refusals are in the ledger");
    // Nothing was taken from any refused card.
    for (const f of [wrongKey, badInverse, badMac, otherMacKey, revoked, clone]) {
      const img = readCardFile(f);
      t.is(new DataView(img.memory.buffer).getInt32(4 * 16, true), f === badMac ? 9999 : 472);
    }
  });
});

bothEngines("a clone swapped in between two presence checks is caught before anything is taken from it", async (t, engine) => {
  const dir = tempDir();
  const original = newCard(dir, 472);
  const clone = join(dir, "clone.json");
  copyFileSync(original, clone);
  await withCardSim(engine, { start: "2026-04-16T19:00" }, async ({ sim, slot }) => {
    t.deepEqual(await sim.command("plan.set", { plan: PERIOD_1_PLAN }), { ok: true });
    slot.insert(original);
    await sim.runUntil(at("2026-04-16T20:30:05"));
    const before = await sim.snapshot();
    t.true(before.card.taken >= 3);
    slot.remove();
    slot.insert(clone); // within a second: the terminal never saw the slot empty
    await sim.runUntil(at("2026-04-16T20:45"));
    const snap = await sim.snapshot();
    t.is(snap.card.present, false);
    t.regex(snap.card.refused, /a copy of an older state is refused/);
    t.is(snap.cardSlot.counts, 472, "nothing was taken from the clone");
    t.is(snap.card.taken, before.card.taken, "the ledger took nothing more");
    t.is(snap.card.inDoubt, 0);
  });
});
