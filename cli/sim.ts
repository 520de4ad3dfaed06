import { parseArgs } from "node:util";
import { parseDuration } from "../host-sim/clock";
import { isEngineName } from "../host-sim/engines/engine";
import { ScriptError, parseScript, runScript, scriptEndMs, MAX_RUN_MS } from "../host-sim/script";
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
import { days, progressLine } from "./progress";
import { flashFile } from "./args";

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
    throw new UsageError(`--for: ${(e as Error).message}`);
  }
  if (!(duration <= MAX_RUN_MS)) throw new UsageError(`--for must be at most 366d (a year of virtual time), got ${values.for}`);
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

  const span = script ? scriptEndMs(script, startMs) - startMs + duration : 0;
  if (span > MAX_RUN_MS) throw new UsageError(`the script${duration > 0 ? " and --for" : ""} would run ${days(span)} days of virtual time; at most 366`);
  const flashPath = flashFile(values.flash);
  const sim = await Simulator.start({ engine: values.engine, startMs, flashPath });
  attachLcd(sim); // the terminal's LCD and keypad (issue #4), before the firmware's first draw
  attachKeypad(sim);
  try {
    if (values.tariff !== undefined) await applyOrFail(sim, "tariff.set", { tariff: readJsonFile(values.tariff, "tariff") }, values.tariff);
    if (values.plan !== undefined) await applyOrFail(sim, "plan.set", { plan: readJsonFile(values.plan, "plan") }, values.plan);
    // a progress line on a terminal (nothing when piped): cli/progress.ts
    const from = sim.clock.now;
    const progress = progressLine(from, (script ? scriptEndMs(script, from) : from) + duration);
    if (progress) sim.onStep = () => progress.tick(sim.clock.now);
    const result = script ? await runScript(sim, script, undefined, progress ? (i, n, at) => progress.action(i, n, at) : undefined) : { snapshots: [], results: [] };
    if (duration > 0) await sim.advance(duration);
    progress?.done();
    const snapshot = await sim.snapshot();
    const meter = sim.meter();
    if (values.json) {
      process.stdout.write(
        JSON.stringify({ ...snapshot, sim: { engine: sim.engineName, meter, snapshots: result.snapshots, results: result.results } }) + "\n",
      );
    } else {
      const fitted = { card: sim.hasPlugin("card"), modem: sim.hasPlugin("link"), radio: sim.hasPlugin("sensors") };
      process.stdout.write(simSummary(snapshot, sim.engineName, fitted) + "\n");
      for (const s of result.snapshots) process.stdout.write(`snapshot ${s.label ?? ""} at ${s.snapshot.time}\n`);
      if (meter) {
        process.stdout.write(
          `XS meter: compute ${meter.compute} over ${meter.calls} calls, allocate ${meter.allocate} bytes, heap ${meter.heapCount} slots\n`,
        );
      }
      process.stdout.write("(--json prints the whole state)\n");
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

/** What a person reads after `sim` without --json: the state in a few lines; absent parts "not fitted". */
export function simSummary(s: Record<string, any>, engine: string, fitted: { card: boolean; modem: boolean; radio: boolean }): string {
  const out: string[] = [];
  const yes = (b: unknown) => (b ? "yes" : "no");
  out.push(`terminal ${s.terminal} under ${engine.toUpperCase()}, ${s.time} on its clock (+09:00), boot ${s.boots}`);
  const next = s.next ? ` · next change ${typeof s.next === "object" ? (s.next.at ?? JSON.stringify(s.next)) : s.next}` : "";
  const n = (x: unknown) => (typeof x === "number" ? x.toLocaleString("en") : String(x));
  out.push(`guarding: ${yes(s.guarding)}${next} · fee owed ${n(s.owedYen)} yen (${n(s.countsDue)} counts) · periods closed ${n(s.periodsClosed)}`);
  const periods = s.plan?.periods?.length ?? 0;
  out.push(`plan: ${s.plan?.contract ?? "?"}, ${periods} period${periods === 1 ? "" : "s"}`);
  if (Array.isArray(s.lcd)) out.push("LCD:", ...s.lcd.map((l: string) => `  |${l}|`));
  const sensors = Array.isArray(s.sensors) ? s.sensors : [];
  if (!fitted.radio && sensors.length === 0) out.push("sensors: none (no sensors in this run; a script adds them with sensor.add)");
  else out.push(`sensors: ${sensors.map((x: any) => `${x.id} ${x.connected ? (x.armed ? "armed" : "ready") : "lost"}`).join(", ") || "none registered"}`);
  if (!fitted.card) out.push("card reader: not fitted (this run has no card slot; a script adds one with card.insert)");
  else out.push(`card: ${s.card?.present ? `${n(s.card.counts)} counts` : "none in the slot"}${s.card?.reader && s.card.reader !== "ok" ? ` (reader: ${s.card.reader})` : ""}`);
  if (!fitted.modem) out.push(`cellular modem: not fitted (reports wait in the outbox: ${s.outbox?.items ?? 0})`);
  else out.push(`link (${s.uplink?.security === "tls-psk" ? "TLS 1.2 PSK" : "plain TCP"}): ${s.uplink?.registration?.ok ? "registered" : "not registered"}, ${s.uplink?.sessionsOk ?? 0} of ${s.uplink?.sessions ?? 0} sessions ok, outbox ${s.outbox?.items ?? 0}`);
  if (Array.isArray(s.alarms) && s.alarms.length > 0) out.push(`alarms: ${s.alarms.length}`);
  out.push(`flash: ${n(s.storage?.writes ?? 0)} writes`);
  return out.join("\n");
}
