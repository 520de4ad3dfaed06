/**
 * XS cost figures for the foundation, from xsnap's deterministic meter (compute units, not
 * seconds): boot, pairing the kit, a plan change, an estimate, 170 minutes of guarding, and the
 * rest of the worked example's contract; plus the heap slots in use. Run: npm run bench
 */
import { Simulator } from "../host-sim/simulator";
import { parseTime } from "../firmware/core/time";
import "../host-sim/devices/sensors"; // sensor.add and pairing.confirm
import { parseScript, runScript } from "../host-sim/script";

/** The kit, paired first: a plan by counts takes real devices (an empty table refuses it). */
const KIT = parseScript([
  { do: "sensor.add", type: "intrusion", id: "A0001" },
  { do: "sensor.add", type: "intrusion", id: "A0002" },
  { do: "sensor.add", type: "camera", id: "B0001" },
  { do: "sensor.add", type: "camera", id: "B0002" },
  { do: "wait", for: "5s" },
  { do: "pairing.confirm" },
]);

const EXAMPLE_PLAN = {
  contract: "continuous",
  periods: [
    { start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1 },
    { start: "2026-04-27T12:00", end: "2026-05-05T12:00", pattern: 3, sensors: 2, cameras: 2 },
  ],
};

async function main(): Promise<void> {
  const sim = await Simulator.start({ engine: "xs", startMs: parseTime("2026-04-16T19:00", "start") * 1000 });
  const rows: Array<[string, number, string]> = [];
  const m = () => sim.meter()!;
  rows.push(["boot (evaluate bundle + boot)", m().compute, `heap ${m().heapCount} slots`]);
  let before = m().compute;
  await runScript(sim, KIT);
  rows.push(["four devices found and paired", m().compute - before, ""]);
  before = m().compute;
  const set = await sim.command("plan.set", { plan: EXAMPLE_PLAN });
  if (set && set.ok === false) throw new Error(`plan.set refused: ${set.error}`);
  rows.push(["plan.set (validate + store)", m().compute - before, ""]);
  before = m().compute;
  await sim.command("estimate", { plan: EXAMPLE_PLAN, card: 6000 });
  rows.push(["estimate of the worked example", m().compute - before, ""]);
  await sim.runUntil(parseTime("2026-04-16T20:06", "t") * 1000);
  before = m().compute;
  const calls = m().calls;
  await sim.runUntil(parseTime("2026-04-16T22:56", "t") * 1000);
  // the simulator hands the engine long stretches of time in one call, so this is per stretch, not per checkpoint
  rows.push(["guarding 20:06-22:56 (170 min)", m().compute - before, `${m().calls - calls} engine call(s)`]);
  before = m().compute;
  await sim.runUntil(parseTime("2026-05-06T00:00", "t") * 1000);
  rows.push(["rest of the contract (8-day period)", m().compute - before, `${m().calls} engine calls in all`]);
  const snap = await sim.snapshot();
  rows.push(["total", m().compute, `owed ${snap.owedYen} yen, ${snap.countsDue} counts, ${snap.storage.writes} flash writes`]);
  await sim.close();
  console.log("XS meter (xsnap compute units; deterministic)");
  for (const [what, compute, note] of rows) console.log(`  ${what.padEnd(40)} ${String(compute).padStart(11)}  ${note}`);
}

await main();
