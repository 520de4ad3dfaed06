/**
 * What watching the card slot costs: XS meter figures and wall time for guarding period 1 of
 * DESIGN §2 with a card in the slot, at several poll intervals. Prints numbers; asserts nothing.
 *   TG_ONLY=card node scripts/build.mjs && node dist/bench/card-poll.js
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

for (const engine of ["xs", "node"] as const) {
  for (const pollMs of [0, 2000, 10000]) {
    const file = join(dir, `c-${engine}-${pollMs}.json`);
    issueCardFile(file, { uid: Uint8Array.of(1, 2, 3, 4), cardId: 7, counts: 472, keys: parseKeys(DEMO_ISSUER_JSON, "demo"), maxCounts: 100000 });
    const config = pollMs === 0 ? { pn532: { address: 0x25 } } : { card: { ...(JSON.parse(JSON.stringify(DEMO_ISSUER_JSON)) as object), pollMs } };
    if (pollMs !== 0) delete (config.card as Record<string, unknown>).keyB;
    if (pollMs !== 0) delete (config.card as Record<string, unknown>).issuer;
    const sim = await Simulator.start({ engine, startMs: parseTime("2026-04-16T19:00", "t") * 1000, config });
    await sim.command("plan.set", { plan: PLAN });
    if (pollMs !== 0) cardSlot(sim).insert(file);
    const t0 = performance.now();
    await sim.runUntil(parseTime("2026-04-16T23:05", "t") * 1000);
    const ms = performance.now() - t0;
    const snap = await sim.snapshot();
    const m = sim.meter();
    console.log(
      `${engine} ${pollMs === 0 ? "no reader" : `poll ${pollMs} ms`}: ${ms.toFixed(0)} ms wall for 4h05 virtual; card ${snap.card.counts}; ` +
        (m ? `XS compute ${m.compute} over ${m.calls} calls` : ""),
    );
    await sim.close();
  }
}
