import test, { ExecutionContext } from "ava";
import { ENGINES, EngineName } from "../../host-sim/engines/engine";
import { Simulator, SimulatorOptions } from "../../host-sim/simulator";
import { parseTime } from "../../firmware/core/time";
import { sensorField } from "../../host-sim/devices/sensors";

/** Registers one test per engine; the title names the engine: `[xs] …`, `[node] …`. */
export function onBothEngines(title: string, body: (t: ExecutionContext, engine: EngineName) => Promise<void>): void {
  for (const engine of ENGINES) test(`[${engine}] ${title}`, (t) => body(t, engine));
}

/** Starts a simulator at a local time (terminal zone), runs `body`, always closes it. */
export async function withSim<T>(
  engine: EngineName,
  start: string,
  body: (sim: Simulator) => Promise<T>,
  options: Partial<SimulatorOptions> = {},
): Promise<T> {
  const sim = await Simulator.start({ engine, startMs: parseTime(start, "start") * 1000, ...options });
  try {
    return await body(sim);
  } finally {
    await sim.close();
  }
}

/** ms since 1970 of a local time like 2026-04-16T20:00 (terminal zone +09:00). */
export function at(local: string): number {
  return parseTime(local, "at") * 1000;
}

export const EXAMPLE_PLAN = {
  contract: "continuous",
  periods: [
    { start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1 },
    { start: "2026-04-27T12:00", end: "2026-05-05T12:00", pattern: 3, sensors: 2, cameras: 2 },
  ],
};

export const PERIOD_1_PLAN = { contract: "continuous", periods: [EXAMPLE_PLAN.periods[0]] };

/** The kit the plans above bill: two PIR sensors and two cameras (a plan by counts takes these). */
export const KIT = ["A0001", "A0002", "B0001", "B0002"];

/** EXAMPLE_PLAN as the terminal stores it once its counts took devices of the kit's table. */
export const EXAMPLE_PLAN_IDS = {
  contract: "continuous",
  periods: [
    { ...EXAMPLE_PLAN.periods[0], sensors: ["A0001", "A0002"], cameras: ["B0001"] },
    { ...EXAMPLE_PLAN.periods[1], sensors: ["A0001", "A0002"], cameras: ["B0001", "B0002"] },
  ],
};

/**
 * Plugs in the kit and confirms it, as a family does at installation (the first boot opens the
 * pairing window): the terminal's sensor table then has devices for a plan to bill.
 */
export async function installKit(sim: Simulator, ids: readonly string[] = KIT): Promise<void> {
  const field = sensorField(sim);
  for (const id of ids) field.add(id);
  await sim.advance(5_000);
  const r = await sim.command("pairing.confirm");
  if (!r || r.ok !== true) throw new Error(`pairing the kit failed: ${JSON.stringify(r)}`);
}
