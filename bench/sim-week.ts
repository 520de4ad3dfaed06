/**
 * Simulator speed: the routine week of scenarios/routine-week.json (three PIR sensors paired, a
 * card, four nights and a weekend guarded, one intrusion) run against a real center on loopback,
 * timed in real seconds, under XS and then under Node. Prints virtual seconds per real second, the
 * round trips into the engine (commands) and out of it (host calls by op, and the requests that
 * crossed: posted calls travel together), and the machine's load average before and after (the
 * figure is only as good as the machine is quiet: 2 cores shared here). Under XS it also prints the
 * floor the firmware's own MACs set: the sensor frames it signed and checked that week, times one
 * MAC's cost measured in an XS worker in the same run (work no change to the simulator removes).
 * Run: npm run bench:sim            (TG_ENGINE=xs or TG_ENGINE=node for one engine only)
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { playScenario } from "../cli/scenario";
import { EngineName, isEngineName } from "../host-sim/engines/engine";
import { bundleForXs, runInXs } from "../host-sim/engines/xs-script";
import { projectRoot } from "../host-sim/project";
import { parseScript } from "../host-sim/script";

/** 12,345, the same whatever the locale */
const n = (x: number) => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const top = (o: Record<string, number>) =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(", ");
/** CPU seconds of this process and of its reaped children (the xsnap worker once it exits), from /proc (Linux; null elsewhere). */
function cpuSeconds(): { host: number; engine: number } | null {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return { host: (f[11] + f[12]) / 100, engine: (f[13] + f[14]) / 100 }; // utime stime cutime cstime, USER_HZ 100
  } catch {
    return null;
  }
}
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

async function week(engine: EngineName): Promise<void> {
  const script = parseScript(JSON.parse(readFileSync(join(projectRoot(), "scenarios", "routine-week.json"), "utf8")));
  const loadBefore = load();
  const cpuBefore = cpuSeconds();
  const began = performance.now();
  const result = (await playScenario(script, { engine })) as Record<string, any>;
  const realSeconds = (performance.now() - began) / 1000;
  const last = result.snapshots[result.snapshots.length - 1];
  const virtualSeconds = (last.at - (script.start as number)) / 1000;
  const trips = result.roundTrips as { commands: Record<string, number>; hostCalls: Record<string, number>; crossings: number; crossed: Record<string, number>; ahead: { carried: number; taken: number }; servingMs: number };
  console.log(`routine week under ${engine.toUpperCase()} (3 sensors, ${result.periods.length} periods, ${result.alarms.length} alarm, ${result.totalYen} yen, ${result.countsTaken ?? "?"} counts)`);
  console.log(`  virtual ${n(virtualSeconds)} s in ${realSeconds.toFixed(2)} s real: ${n(virtualSeconds / realSeconds)} virtual seconds per real second`);
  console.log(`  commands into the engine: ${n(sum(trips.commands))} (${top(trips.commands)}); instants delivered ahead by a step ${n(trips.ahead.taken)} of ${n(trips.ahead.carried)} carried`);
  console.log(`  host calls out of it:     ${n(sum(trips.hostCalls))} (${top(trips.hostCalls)})`);
  console.log(`  requests that crossed:    ${n(trips.crossings)} (${top(trips.crossed)}; posted calls travel together as a batch)`);
  console.log(`  the host serving them:    ${(trips.servingMs / 1000).toFixed(2)} s real (sim.next with the host timers it runs included)`);
  const cpuAfter = cpuSeconds();
  if (cpuBefore && cpuAfter && engine === "xs") {
    console.log(`  CPU:                      engine (xsnap) ${(cpuAfter.engine - cpuBefore.engine).toFixed(2)} s, host (node, center included) ${(cpuAfter.host - cpuBefore.host).toFixed(2)} s`);
  }
  if (engine === "xs") {
    const link = (last.snapshot?.sensorLink ?? {}) as { accepted?: number; sent?: number; rejected?: Record<string, number> };
    const macs = (link.accepted ?? 0) + (link.sent ?? 0) + (link.rejected?.mac ?? 0);
    const us = await xsMacMicroseconds();
    const floor = (macs * us) / 1e6;
    console.log(`  the firmware's frame MACs: ${n(macs)} (${n(link.sent ?? 0)} sent, ${n(link.accepted ?? 0)} accepted) x ${us.toFixed(1)} us each under XS = ${floor.toFixed(2)} s; with nothing else to do the week could run at most ${n(virtualSeconds / floor)} virtual s/s`);
  }
  const meter = result.meter as { compute: number; collections: number } | null;
  if (meter) console.log(`  XS meter compute:         ${n(meter.compute)} units (deterministic, independent of load); ${n(meter.collections)} garbage collections seen`);
  console.log(`  load average (1, 5, 15 min) before ${loadBefore}, after ${load()}`);
}

/** One HMAC-SHA256 of a sensor frame's size with a prepared key (firmware/lib/sha256.ts) in an XS worker, best of 5 loops of 500, in microseconds. */
async function xsMacMicroseconds(): Promise<number> {
  const code = await bundleForXs(
    `import { HmacKey } from "./firmware/lib/sha256";
declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
const key = new HmacKey(new Uint8Array(16).fill(7));
const frame = new Uint8Array(20).map((_, i) => i * 13);
let best = Infinity;
let x = 0;
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) x ^= key.mac(frame)[0];
  best = Math.min(best, ((performance.now() - t0) / 500) * 1000);
}
issueCommand(new TextEncoder().encode(best + " " + x).buffer);`,
    projectRoot(),
  );
  let us = NaN;
  await runInXs("sim-week-mac", code, (m) => {
    us = Number(new TextDecoder().decode(m).split(" ")[0]);
    return new Uint8Array(0);
  });
  if (!Number.isFinite(us) || us <= 0) throw new Error("the XS worker did not report a MAC's time");
  return us;
}

async function main(): Promise<void> {
  const only = process.env.TG_ENGINE;
  if (only !== undefined && !isEngineName(only)) throw new Error(`TG_ENGINE must be xs or node, got ${only}`);
  for (const engine of only ? [only] : (["xs", "node"] as const)) await week(engine);
}

await main();
