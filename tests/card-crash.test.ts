import test from "ava";
import type { ExecutionContext } from "ava";
import { ENGINES, PERIOD_1_PLAN, at, cardConfig, newCard, tempDir, withCardSim } from "./helpers/card-sim";
import type { CardRig } from "./helpers/card-sim";
import type { EngineName } from "../host-sim/engines/engine";

/**
 * A deduction is pulled apart at every step: the card leaves, or the power fails, right before
 * and right after each exchange with the card, and inside each flash write of the journal and
 * the ledger. Afterwards card and ledger must agree: the counts gone from the card are exactly
 * the counts the ledger took, nothing is in doubt, and collecting goes on.
 */
const START = 472;
// The first count of period 1 (96 yen/h) is due at 20:06:15; the card component collects each
// minute, so the first deduction runs at 20:07 (polls every 10 s with the card in).
const BEFORE_FIRST = "2026-04-16T20:06:30";
const AFTER_FIRST = "2026-04-16T20:07:30";
const CHECK = "2026-04-16T20:16:00";
const EXCHANGES = ["auth", "read value", "read record", "restore", "transfer→backup", "decrement", "transfer→value", "read back", "write record"];

type Fault = { kind: "remove" | "power"; index: number; when: "before" | "after" } | { kind: "flash"; bytes: number };

async function prepare(rig: CardRig, file: string): Promise<void> {
  const { sim, slot } = rig;
  await sim.command("plan.set", { plan: PERIOD_1_PLAN });
  slot.insert(file);
  await sim.runUntil(at(BEFORE_FIRST));
}

async function consistent(t: ExecutionContext, rig: CardRig, label: string): Promise<void> {
  const snap = await rig.sim.snapshot();
  const card = snap.card;
  t.is(card.present, true, `${label}: the card is seen`);
  t.is(snap.cardSlot.counts, card.counts, `${label}: the terminal's view is the card's memory`);
  t.is(START - snap.cardSlot.counts, card.taken + card.surchargeTaken, `${label}: counts gone from the card = counts the ledger took`);
  t.is(card.inDoubt, 0, `${label}: nothing left in doubt`);
  t.true(card.taken <= card.due, `${label}: never more than due (${card.taken} ≤ ${card.due})`);
  t.true(card.due - card.taken <= 1, `${label}: at most the count accrued since the last collection (${card.due} − ${card.taken})`);
  t.true(card.taken >= 1, `${label}: the interrupted count was taken in the end`);
}

async function run(t: ExecutionContext, engine: EngineName, fault: Fault, label: string): Promise<void> {
  const dir = tempDir();
  const file = newCard(dir, START);
  await withCardSim(engine, { start: "2026-04-16T19:58", config: cardConfig({ collectMs: 60000 }) }, async (rig) => {
    const { sim, slot } = rig;
    await prepare(rig, file);
    t.is((await sim.snapshot()).card.taken, 0, `${label}: nothing taken before the first count`);
    if (fault.kind === "flash") sim.armPowerCut(fault.bytes);
    else slot.armFault(fault.index, fault.when, fault.kind);
    const cutsBefore = sim.powerCuts;
    await sim.runUntil(at(AFTER_FIRST));
    if (fault.kind === "flash" || fault.kind === "power") t.is(sim.powerCuts, cutsBefore + 1, `${label}: the power was cut`);
    if (fault.kind !== "flash") t.is(slot.reader.onExchange, null, `${label}: the fault fired`);
    if (fault.kind === "remove") t.is(slot.card, null, `${label}: the card was pulled`);
    slot.disarm();
    if (!sim.powered) await sim.powerOn();
    if (!slot.card) {
      await sim.advance(20_000);
      slot.insert(file);
    }
    await sim.runUntil(at(CHECK));
    await consistent(t, rig, label);
    const snap = await sim.snapshot();
    const kinds = (snap.cardLedger as Array<{ kind: string }>).map((r) => r.kind).filter((k) => k !== "inserted" && k !== "removed");
    t.log(`${label}: ${kinds.join(" ")}`);
  });
}

/** Sizes of the flash writes of one deduction, measured on a clean run. */
async function deductionWrites(engine: EngineName): Promise<number[]> {
  const sizes: number[] = [];
  const dir = tempDir();
  await withCardSim(engine, { start: "2026-04-16T19:58", config: cardConfig({}) }, async (rig) => {
    await prepare(rig, newCard(dir, START));
    const flash = rig.sim.flash;
    const set = flash.set.bind(flash);
    const del = flash.delete.bind(flash);
    flash.set = (domain, key, value) => {
      sizes.push(value.t === "a" ? value.v.length : 1);
      set(domain, key, value);
    };
    flash.delete = (domain, key) => {
      sizes.push(1);
      del(domain, key);
    };
    await rig.sim.runUntil(at(AFTER_FIRST));
    t_assertTaken((await rig.sim.snapshot()).card.taken);
  });
  return sizes;
}

function t_assertTaken(taken: number): void {
  if (taken !== 1) throw new Error(`the clean run took ${taken} counts, expected 1`);
}

for (const engine of ENGINES) {
  test(`[${engine}] the card pulled before and after every exchange of a deduction`, async (t) => {
    for (let index = 0; index < EXCHANGES.length; index++) {
      for (const when of ["before", "after"] as const) {
        await run(t, engine, { kind: "remove", index, when }, `card pulled ${when} ${EXCHANGES[index]}`);
      }
    }
  });

  test(`[${engine}] the power cut before and after every exchange of a deduction`, async (t) => {
    for (let index = 0; index < EXCHANGES.length; index++) {
      for (const when of ["before", "after"] as const) {
        await run(t, engine, { kind: "power", index, when }, `power cut ${when} ${EXCHANGES[index]}`);
      }
    }
  });

  test(`[${engine}] the power cut inside every flash write of a deduction (journal, ledger, journal delete)`, async (t) => {
    const sizes = await deductionWrites(engine);
    t.log(`flash writes of a deduction: ${sizes.join(", ")} bytes`);
    t.true(sizes.length >= 3, `a deduction writes the journal, the ledger and deletes the journal (${sizes.join(", ")})`);
    let offset = 0;
    const cuts: number[] = [];
    for (const size of sizes) {
      cuts.push(offset, offset + Math.floor(size / 2), offset + size - 1);
      offset += size;
    }
    for (const bytes of [...new Set(cuts)]) await run(t, engine, { kind: "flash", bytes }, `power cut ${bytes} bytes into the deduction's flash writes`);
  });
}

for (const engine of ENGINES) {
  test(`[${engine}] a card pulled mid-deduction, another card used meanwhile, the first settled when it returns`, async (t) => {
    for (const [index, when, outcome] of [
      [5, "before", "rollback"], // pulled before the decrement: nothing was taken from it
      [7, "after", "debit-completed"], // pulled as the value is read back: taken, record not yet written
    ] as const) {
      const dir = tempDir();
      const a = newCard(dir, START);
      const b = newCard(dir, 100);
      await withCardSim(engine, { start: "2026-04-16T19:58", config: cardConfig({}) }, async (rig) => {
        const { sim, slot } = rig;
        await prepare(rig, a);
        slot.armFault(index, when, "remove");
        await sim.runUntil(at(AFTER_FIRST));
        t.is(slot.card, null);
        await sim.advance(20_000);
        slot.insert(b);
        await sim.runUntil(at("2026-04-16T20:40"));
        let snap = await sim.snapshot();
        t.is(snap.card.inDoubt, 1, "the interrupted count waits for its card");
        t.true((snap.cardLedger as Array<{ kind: string }>).some((r) => r.kind === "doubt"));
        const fromB = 100 - snap.cardSlot.counts;
        t.true(fromB >= 3);
        t.is(snap.card.taken, fromB, "card B paid only what was not in doubt");
        slot.remove();
        await sim.advance(15_000);
        slot.insert(a);
        await sim.runUntil(at("2026-04-16T21:00"));
        snap = await sim.snapshot();
        t.is(snap.card.inDoubt, 0);
        t.true((snap.cardLedger as Array<{ kind: string }>).some((r) => r.kind === outcome), `settled as ${outcome}`);
        const fromA = START - snap.cardSlot.counts;
        t.is(fromA + fromB, snap.card.taken, "A and B together paid exactly what the ledger took");
        t.true(snap.card.due - snap.card.taken <= 1);
      });
    }
  });
}
