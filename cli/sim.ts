import { parseArgs } from "node:util";
import { parseDuration } from "../host-sim/clock";
import { isEngineName } from "../host-sim/engines/engine";
import { ScriptError, parseScript, runScript } from "../host-sim/script";
import "../host-sim/devices/sensors"; // sensor.* and pairing.* script actions
import "../host-sim/devices/card-slot"; // card.insert, card.remove, card.topup script actions
import "../host-sim/devices/modem"; // link.fault and link.dial script actions
import { attachKeypad } from "../host-sim/devices/keypad-matrix"; // keys and ui.card script actions
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { Simulator } from "../host-sim/simulator";
import { parseTime } from "../firmware/core/time";
import { FieldError } from "../firmware/core/errors";
import { readJsonFile } from "./files";
import { UsageError } from "./usage";

export async function runSim(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: "string", default: "xs" },
      for: { type: "string" },
      script: { type: "string" },
      start: { type: "string" },
      flash: { type: "string" },
      plan: { type: "string" },
      tariff: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!isEngineName(values.engine)) throw new UsageError(`--engine must be xs or node, got ${values.engine}`);
  let duration = 0;
  try {
    if (values.for !== undefined) duration = parseDuration(values.for);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let script = null;
  if (values.script !== undefined) {
    try {
      script = parseScript(readJsonFile(values.script, "script"));
    } catch (e) {
      if (e instanceof ScriptError || e instanceof FieldError) throw new UsageError(`script ${values.script}: ${e.message}`);
      throw e;
    }
  }
  let startMs = Math.floor(Date.now() / 60000) * 60000;
  try {
    if (values.start !== undefined) startMs = parseTime(values.start, "--start") * 1000;
    else if (script?.start != null) startMs = script.start;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const sim = await Simulator.start({ engine: values.engine, startMs, flashPath: values.flash ?? null });
  attachLcd(sim); // the terminal's LCD and keypad (issue #4), before the firmware's first draw
  attachKeypad(sim);
  try {
    if (values.tariff !== undefined) await applyOrFail(sim, "tariff.set", { tariff: readJsonFile(values.tariff, "tariff") }, values.tariff);
    if (values.plan !== undefined) await applyOrFail(sim, "plan.set", { plan: readJsonFile(values.plan, "plan") }, values.plan);
    const result = script ? await runScript(sim, script) : { snapshots: [], results: [] };
    if (duration > 0) await sim.advance(duration);
    const snapshot = await sim.snapshot();
    const meter = sim.meter();
    if (values.json) {
      process.stdout.write(
        JSON.stringify({ ...snapshot, sim: { engine: sim.engineName, meter, snapshots: result.snapshots, results: result.results } }) + "\n",
      );
    } else {
      process.stdout.write(`engine ${sim.engineName}\n${JSON.stringify(snapshot, null, 2)}\n`);
      for (const s of result.snapshots) process.stdout.write(`snapshot ${s.label ?? ""} at ${s.snapshot.time}\n`);
      if (meter) {
        process.stdout.write(
          `XS meter: compute ${meter.compute} over ${meter.calls} calls, allocate ${meter.allocate} bytes, heap ${meter.heapCount} slots\n`,
        );
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof ScriptError) throw new UsageError(e.message);
    throw e;
  } finally {
    await sim.close();
  }
}

async function applyOrFail(sim: Simulator, op: string, args: unknown, file: string): Promise<void> {
  const r = await sim.command(op, args);
  if (r && r.ok === false) throw new UsageError(`${file}: ${r.error}`);
}
