/**
 * What the card costs the terminal, as numbers (asserts nothing):
 *  - guarding period 1 of DESIGN §2 (20:00-23:00) with a 472-count card in the slot, from 19:00 to
 *    23:05 of virtual time, against the same run with no reader on the bus: XS meter compute and
 *    commands, host wall time, I2C transactions;
 *  - one deduction: the XS compute of the collection that takes a count, its I2C transactions and
 *    flash bytes.
 *   TG_ONLY=card-poll node scripts/build.mjs && node dist/bench/card-poll.js
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTime } from "../firmware/core/time";
import { DEMO_ISSUER_JSON, issueCardFile, parseKeys } from "../host-sim/devices/card-file";
import { cardSlot } from "../host-sim/devices/card-slot";
import { Simulator } from "../host-sim/simulator";

const PLAN = { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1 }] };
const dir = mkdtempSync(join(tmpdir(), "tg-bench-"));
const at = (s: string) => parseTime(s, "t") * 1000;
const keys = parseKeys(DEMO_ISSUER_JSON, "demo");

for (const engine of ["xs", "node"] as const) {
  for (const withCard of [false, true]) {
    const file = join(dir, `c-${engine}-${withCard}.json`);
    issueCardFile(file, { uid: Uint8Array.of(1, 2, 3, 4), cardId: 7, counts: 472, keys, maxCounts: 100000 });
    const sim = await Simulator.start({ engine, startMs: at("2026-04-16T19:00") });
    await sim.command("plan.set", { plan: PLAN });
    if (withCard) cardSlot(sim).insert(file);
    const bus = sim.io.i2c(0);
    const tx0 = bus.transactions;
    const t0 = performance.now();
    await sim.runUntil(at("2026-04-16T23:05"));
    const ms = performance.now() - t0;
    const snap = await sim.snapshot();
    const m = sim.meter();
    console.log(
      `${engine} ${withCard ? "card in the slot" : "no reader     "}: ${ms.toFixed(0)} ms wall for 4h05 virtual, ${bus.transactions - tx0} I2C transactions, ` +
        `card ${snap.card.counts ?? "-"}` + (m ? `, XS compute ${m.compute} over ${m.calls} commands` : ""),
    );
    await sim.close();
  }
}

// One deduction, measured alone: run to just before the first count is collected, then step over it.
for (const engine of ["xs", "node"] as const) {
  const file = join(dir, `d-${engine}.json`);
  issueCardFile(file, { uid: Uint8Array.of(1, 2, 3, 5), cardId: 8, counts: 472, keys, maxCounts: 100000 });
  const sim = await Simulator.start({ engine, startMs: at("2026-04-16T19:58") });
  await sim.command("plan.set", { plan: PLAN });
  const slot = cardSlot(sim);
  slot.insert(file);
  await sim.runUntil(at("2026-04-16T20:06:55"));
  const flash = sim.flash;
  let bytes = 0;
  const set = flash.set.bind(flash);
  flash.set = (d, k, v) => {
    bytes += v.t === "a" ? v.v.length : 1;
    set(d, k, v);
  };
  const before = { compute: sim.meter()?.compute ?? 0, tx: sim.io.i2c(0).transactions, ex: slot.reader.exchanges };
  await sim.runUntil(at("2026-04-16T20:07:05"));
  const snap = await sim.snapshot();
  const m = sim.meter();
  console.log(
    `${engine} one deduction (${snap.card.taken} count): ${slot.reader.exchanges - before.ex} card exchanges, ${sim.io.i2c(0).transactions - before.tx} I2C transactions, ` +
      `${bytes} flash bytes` + (m ? `, XS compute ${m.compute - before.compute}` : ""),
  );
  await sim.close();
}
