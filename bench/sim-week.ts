/**
 * Simulator speed: the routine week of scenarios/routine-week.json (three PIR sensors paired, a
 * card, four nights and a weekend guarded, one intrusion) run against a real center on loopback,
 * timed in real seconds. Prints virtual seconds per real second and the round trips into and out
 * of the engine (what costs real time under XS: each one crosses xsnap's pipe).
 * Run: npm run bench:sim            (XS; TG_ENGINE=node for the Node engine)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { playScenario } from "../cli/scenario";
import { isEngineName } from "../host-sim/engines/engine";
import { projectRoot } from "../host-sim/project";
import { parseScript } from "../host-sim/script";

async function main(): Promise<void> {
  const engine = process.env.TG_ENGINE ?? "xs";
  if (!isEngineName(engine)) throw new Error(`TG_ENGINE must be xs or node, got ${engine}`);
  const script = parseScript(JSON.parse(readFileSync(join(projectRoot(), "scenarios", "routine-week.json"), "utf8")));
  const began = performance.now();
  const result = (await playScenario(script, { engine })) as Record<string, any>;
  const realSeconds = (performance.now() - began) / 1000;
  const last = result.snapshots[result.snapshots.length - 1];
  const virtualSeconds = (last.at - (script.start as number)) / 1000;
  const trips = result.roundTrips as { commands: Record<string, number>; hostCalls: Record<string, number> };
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const top = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  console.log(`routine week under ${engine.toUpperCase()} (3 sensors, ${result.periods.length} periods, ${result.alarms.length} alarm, ${result.totalYen} yen)`);
  console.log(`  virtual ${virtualSeconds} s in ${realSeconds.toFixed(2)} s real: ${Math.round(virtualSeconds / realSeconds).toLocaleString("en")} virtual seconds per real second`);
  console.log(`  commands into the engine: ${sum(trips.commands)} (${top(trips.commands)})`);
  console.log(`  host calls out of it:     ${sum(trips.hostCalls)} (${top(trips.hostCalls)})`);
}

await main();
