import { parseDuration } from "./clock";
import type { Simulator } from "./simulator";
import { parseTime } from "../firmware/core/time";

/**
 * A simulator script: timed actions, run in virtual time. Either a list of actions or
 * `{"start": "2026-04-16T19:00", "actions": [...]}`. Each action has `do` and optionally `at`:
 * `+10m` (after the script's start) or an absolute time like `2026-04-16T20:00`. Actions without
 * `at` run right after the previous one.
 *
 *   wait       {"for": "1h"}              let time pass
 *   snapshot   {"label"?: "…"}            record the firmware's snapshot
 *   power-cut  {"for"?: "10m", "afterBytes"?: n}
 *              cut the power now (or n bytes into the next flash writes), restore it after `for`
 *   plan.set   {"plan": {...}}            the plan, through the firmware's own validation
 *   tariff.set {"tariff": {...}}
 *
 * Later capabilities add their actions to ACTIONS. Sensors (host-sim/devices/sensors.ts, docs/protocols.md):
 *   sensor.add     {"id": "A0001", "type"?, "heartbeat"?: s, "link"?: "radio"|"wifi"}  plug in, or back in
 *   sensor.trip    {"id"}    sensor.remove {"id"}    sensor.battery {"id", "low"}    sensor.tamper {"id", "on"?}
 *   pairing.open   pairing.confirm                    the user's pairing window and OK
 */
export interface ScriptAction {
  at?: string;
  do: string;
  [key: string]: unknown;
}

export interface Script {
  start: number | null;
  actions: ScriptAction[];
}

export interface ScriptResult {
  snapshots: Array<{ label: string | null; at: number; snapshot: Record<string, unknown> }>;
  results: Array<{ index: number; do: string; value: unknown }>;
}

export class ScriptError extends Error {}

type ActionRunner = (sim: Simulator, action: ScriptAction, out: ScriptResult, index: number) => Promise<unknown>;

export const ACTIONS: Record<string, ActionRunner> = {
  async wait(sim, a) {
    if (typeof a.for !== "string") throw new ScriptError("wait needs for, e.g. \"for\": \"1h\"");
    await sim.advance(parseDuration(a.for));
  },
  async snapshot(sim, a, out) {
    const snapshot = await sim.snapshot();
    out.snapshots.push({ label: typeof a.label === "string" ? a.label : null, at: sim.clock.now, snapshot });
  },
  async "power-cut"(sim, a) {
    if (a.afterBytes !== undefined) {
      if (typeof a.afterBytes !== "number" || !Number.isInteger(a.afterBytes) || a.afterBytes < 0) {
        throw new ScriptError("afterBytes must be a non-negative integer");
      }
      sim.armPowerCut(a.afterBytes);
      return;
    }
    await sim.powerCut();
    if (a.for !== undefined) {
      if (typeof a.for !== "string") throw new ScriptError("for must be a duration");
      sim.clock.advanceTo(sim.clock.now + parseDuration(a.for));
    }
    await sim.powerOn();
  },
  async "plan.set"(sim, a) {
    return sim.command("plan.set", { plan: a.plan });
  },
  async "tariff.set"(sim, a) {
    return sim.command("tariff.set", { tariff: a.tariff });
  },
};

export function parseScript(input: unknown, zoneMinutes?: number): Script {
  let start: number | null = null;
  let actions: unknown = input;
  if (input && typeof input === "object" && !Array.isArray(input)) {
    const o = input as Record<string, unknown>;
    if (o.start !== undefined) start = parseTime(o.start, "start", zoneMinutes) * 1000;
    actions = o.actions;
  }
  if (!Array.isArray(actions)) throw new ScriptError("a script is a list of actions, or {start, actions}");
  actions.forEach((a, i) => {
    if (!a || typeof a !== "object" || typeof (a as ScriptAction).do !== "string") throw new ScriptError(`action ${i}: needs "do"`);
    const name = (a as ScriptAction).do;
    if (!ACTIONS[name]) throw new ScriptError(`action ${i}: unknown action ${JSON.stringify(name)} (known: ${Object.keys(ACTIONS).join(", ")})`);
    const at = (a as ScriptAction).at;
    if (at !== undefined && typeof at !== "string") throw new ScriptError(`action ${i}: at must be +duration or a time`);
  });
  return { start, actions: actions as ScriptAction[] };
}

function resolveAt(at: string, scriptStart: number, zoneMinutes?: number): number {
  if (at.startsWith("+")) return scriptStart + parseDuration(at.slice(1));
  return parseTime(at, "at", zoneMinutes) * 1000;
}

/**
 * How much virtual time one run may cover (a CLI run, a script, the page's jump or an action's
 * `for`): a year is minutes of real time under XS; 99999d ran for days and froze the page.
 */
export const MAX_RUN_MS = 366 * 86_400_000;

/**
 * Where a script's virtual time ends, as far as its `at` times, `wait`s and power cuts say (an
 * action that waits for something else, such as an alarm at the center, adds nothing). Actions that
 * do not parse are left to the run, which reports them. For the progress line and the CLI's limit.
 */
export function scriptEndMs(script: Script, startMs: number): number {
  let t = startMs;
  for (const a of script.actions) {
    try {
      if (typeof a.at === "string") {
        t = Math.max(t, resolveAt(a.at, startMs));
      }
      if ((a.do === "wait" || a.do === "power-cut") && typeof a.for === "string") t += parseDuration(a.for);
    } catch {
      // the run says what is wrong with this action
    }
  }
  return t;
}

/** Runs a script against a running simulator; the power is on again at the end if a cut left it off. */
/** Called after each action of every runScript (bench/memory.ts measures the heap there); null: none. */
export const scriptHooks: { afterAction: ((sim: Simulator, index: number, action: ScriptAction) => Promise<void>) | null } = { afterAction: null };

export async function runScript(
  sim: Simulator,
  script: Script,
  zoneMinutes?: number,
  progress?: (done: number, total: number, virtualMs: number) => void,
): Promise<ScriptResult> {
  const out: ScriptResult = { snapshots: [], results: [] };
  const scriptStart = sim.clock.now;
  // TG_TRACE=1 prints each action and the real time it took, to find what makes a script slow.
  const trace = typeof process !== "undefined" && process.env.TG_TRACE ? (line: string) => process.stderr.write(line + "\n") : null;
  for (let i = 0; i < script.actions.length; i++) {
    const action = script.actions[i];
    const began = trace ? performance.now() : 0;
    try {
      if (action.at !== undefined) {
        const when = resolveAt(action.at, scriptStart, zoneMinutes);
        if (when < sim.clock.now) throw new ScriptError(`at ${action.at} is in the past`);
        await sim.runUntil(when);
      }
      if (!sim.powered && action.do !== "power-cut") await sim.powerOn();
      const value = await ACTIONS[action.do](sim, action, out, i);
      if (value !== undefined) out.results.push({ index: i, do: action.do, value });
      if (sim.powered) await sim.settle();
      progress?.(i + 1, script.actions.length, sim.clock.now);
      if (scriptHooks.afterAction && sim.powered) await scriptHooks.afterAction(sim, i, action);
      trace?.(`action ${i} ${action.do}${action.at ? " at " + action.at : ""}: ${Math.round(performance.now() - began)} ms real`);
    } catch (e) {
      throw new ScriptError(`action ${i} (${action.do}): ${(e as Error).message}`);
    }
  }
  if (!sim.powered) await sim.powerOn();
  return out;
}
