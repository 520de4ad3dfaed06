import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEMO } from "../center/demo";
import { exportData } from "../center/export";
import { FieldError } from "../firmware/core/errors";
import { CenterUser } from "../host-sim/center-client";
import { parseDuration } from "../host-sim/clock";
import { cardSlot } from "../host-sim/devices/card-slot";
import { type DemoStack, startDemoStack } from "../host-sim/demo-stack";
import { isEngineName } from "../host-sim/engines/engine";
import { issueDemoCard } from "../host-sim/kit";
import { ACTIONS, type Script, type ScriptAction, ScriptError, parseScript, runScript, scriptEndMs, MAX_RUN_MS } from "../host-sim/script";
import type { Simulator } from "../host-sim/simulator";
import { readJsonFile } from "./files";
import { UsageError } from "./usage";
import { outFile } from "./args";
import { days, progressLine } from "./progress";

/** The running scenario's center and its logged-in users (center-side actions need them). */
interface ScenarioContext {
  stack: DemoStack;
  dir: string;
  users: Map<string, CenterUser>;
  cards: number;
}
let context: ScenarioContext | null = null;

function ctx(action: string): ScenarioContext {
  if (!context) throw new ScriptError(`${action} needs a center: run the script with timeguard scenario`);
  return context;
}

const ROLES = ["admin", "operator", "manager"] as const;

async function userFor(c: ScenarioContext, a: ScriptAction, role: (typeof ROLES)[number]): Promise<CenterUser> {
  const username = typeof a.user === "string" ? a.user : DEMO.users[role].username;
  let u = c.users.get(username);
  if (!u) {
    const password = typeof a.password === "string" ? a.password : DEMO.users[role].password;
    u = await CenterUser.login(`http://127.0.0.1:${c.stack.center.httpPort}`, username, password);
    c.users.set(username, u);
  }
  return u;
}

/** Lets virtual time run (in steps, so the link can dial) until the center has the alarm asked for. */
async function alarmAtCenter(c: ScenarioContext, sim: Simulator, a: ScriptAction): Promise<{ terminal: string; alarmId: number }> {
  const limit = sim.clock.now + parseDuration(typeof a.within === "string" ? a.within : "30m");
  for (;;) {
    const alarms = c.stack.center.store.alarms(DEMO.terminal);
    const wanted = typeof a.alarm === "number" ? alarms.find((x) => x.alarmId === a.alarm) : alarms[alarms.length - 1];
    if (wanted) return { terminal: wanted.terminal, alarmId: wanted.alarmId };
    if (sim.clock.now >= limit) throw new ScriptError(`no alarm${typeof a.alarm === "number" ? ` ${a.alarm}` : ""} reached the center in time`);
    await sim.advance(10_000);
  }
}

/*
 * Center-side actions (timeguard scenario only):
 *   center.login            {"role": "admin"|"operator"|"manager"} or {"user", "password"}
 *   operator.dispatch       {"alarm"?: id (default: the newest), "note"?, "within"?: "30m"}
 *   manager.request-guards  {"alarm"?, "note"?, "within"?}
 *   operator.close          {"alarm"?, "note" (how it was resolved), "within"?}
 *   card.new                {"counts": N}  a fresh demo-issuer card into the slot
 *   center.tariff           {"tariff": {...}}  a new tariff version for the demo terminal (admin form)
 */
ACTIONS["center.login"] = async (_sim, a) => {
  const c = ctx("center.login");
  const role = typeof a.role === "string" ? a.role : "operator";
  if (!(ROLES as readonly string[]).includes(role)) throw new ScriptError(`role must be admin, operator or manager, got ${role}`);
  const u = await userFor(c, a, role as (typeof ROLES)[number]);
  return { user: u.username, role };
};

async function alarmAction(sim: Simulator, a: ScriptAction, role: "operator" | "manager", action: string): Promise<unknown> {
  const c = ctx(`${role}.${action}`);
  const { terminal, alarmId } = await alarmAtCenter(c, sim, a);
  const u = await userFor(c, a, role);
  const r = await u.post(`/api/alarms/${terminal}/${alarmId}/${action}`, typeof a.note === "string" ? { note: a.note } : {});
  await sim.advance(60_000); // the downlink reaches the terminal at its next dial-in
  return r;
}

/** The demo terminal's tariff at the center, through the admin form's path; the terminal has it by its next session. */
ACTIONS["center.tariff"] = async (_sim, a) => {
  const c = ctx("center.tariff");
  if (typeof a.tariff !== "object" || a.tariff === null) throw new ScriptError("center.tariff needs tariff: {patterns, devices, contracts, imageYen, yenPerCount}");
  const u = await userFor(c, a, "admin");
  const before = c.stack.center.store.terminal(DEMO.terminal)?.tariffVersion ?? 0;
  const r = await u.submit(`/admin/terminals/${DEMO.terminal}/tariff`, { tariff: JSON.stringify(a.tariff) });
  const after = c.stack.center.store.terminal(DEMO.terminal)?.tariffVersion ?? 0;
  if (r.status !== 303 || after <= before) {
    const why = /class="flash error"[^>]*>([^<]*)</.exec(r.text)?.[1] ?? `HTTP ${r.status}`;
    throw new ScriptError(`center.tariff refused: ${why}`);
  }
  return { version: after };
};
ACTIONS["operator.dispatch"] = (sim, a) => alarmAction(sim, a, "operator", "dispatch");
ACTIONS["manager.request-guards"] = (sim, a) => alarmAction(sim, a, "manager", "request-guards");
ACTIONS["operator.close"] = (sim, a) => alarmAction(sim, a, "operator", "close");
ACTIONS["card.new"] = async (sim, a) => {
  const c = ctx("card.new");
  if (typeof a.counts !== "number" || !Number.isInteger(a.counts) || a.counts < 1) throw new ScriptError("card.new needs counts: a positive integer");
  const file = join(c.dir, `card-${++c.cards}.json`);
  issueDemoCard(file, a.counts, 5000 + c.cards, true);
  cardSlot(sim).insert(file);
  return { file, counts: a.counts };
};

/** `timeguard scenario FILE [--engine xs|node] [--out result.json] [--data DIR]` */
export async function runScenario(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { engine: { type: "string", default: "xs" }, out: { type: "string" }, data: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError("give one scenario file: timeguard scenario FILE");
  if (!isEngineName(values.engine)) throw new UsageError(`--engine must be xs or node, got ${values.engine}`);
  const out = outFile(values.out);
  // a scenario's center starts empty: a folder with data in it (another run's, or the demo's ./var)
  // would mix that data into the result and have the scenario write over it
  if (values.data !== undefined && existsSync(values.data) && readdirSync(values.data).length > 0) {
    throw new UsageError(`--data ${values.data} is not empty: a scenario keeps its center in a new or empty folder (the demo's is var/)`);
  }
  let script;
  try {
    script = parseScript(readJsonFile(positionals[0], "scenario"));
  } catch (e) {
    if (e instanceof ScriptError || e instanceof FieldError) throw new UsageError(`scenario ${positionals[0]}: ${e.message}`);
    throw e;
  }
  const startMs = script.start ?? Date.now();
  const endMs = scriptEndMs(script, startMs);
  if (endMs - startMs > MAX_RUN_MS) throw new UsageError(`scenario ${positionals[0]} would run ${days(endMs - startMs)} days of virtual time; at most 366`);
  const progress = progressLine(startMs, endMs);
  const result = await playScenario(script, {
    engine: values.engine,
    dataDir: values.data,
    startMs,
    progress: progress ? (done, total, virtualMs) => progress.action(done, total, virtualMs) : undefined,
    onStep: progress ? (virtualMs) => progress.tick(virtualMs) : undefined,
  });
  progress?.done();
  process.stdout.write(scenarioOutput(result, out, process.stdout.isTTY === true, writeFileSync));
  return 0;
}

/**
 * What `scenario` prints: with --out, the JSON goes to the file and a summary to stdout; without,
 * the JSON goes to stdout when it is piped (for scripts), and on a terminal the summary (thousands
 * of lines of JSON scrolled past a reader) with how to get the JSON.
 */
export function scenarioOutput(result: Record<string, unknown>, out: string | undefined, tty: boolean, write: (path: string, text: string) => void): string {
  const text = JSON.stringify(result, null, 2) + "\n";
  if (out) {
    write(out, text);
    return `${scenarioSummary(result)}\nwrote ${out} (the whole result, JSON)\n`;
  }
  if (tty) return `${scenarioSummary(result)}\n(the whole result as JSON: --out FILE, or pipe the output)\n`;
  return text;
}

/** What a person reads after `scenario --out`: the bill, the alarms and what the center did, in a few lines. */
export function scenarioSummary(r: Record<string, any>): string {
  const n = (x: unknown) => (typeof x === "number" ? x.toLocaleString("en") : "?");
  const plural = (k: number, word: string) => `${n(k)} ${word}${k === 1 ? "" : "s"}`;
  const periods = Array.isArray(r.periods) ? r.periods.length : 0;
  const alarms = Array.isArray(r.alarms) ? r.alarms : [];
  const images = alarms.reduce((sum: number, a: any) => sum + (Array.isArray(a.media) ? a.media.length : 0), 0);
  const lines = [
    `terminal ${r.terminalId} under ${String(r.engine).toUpperCase()}: ${plural(periods, "period")} closed at the center, ${n(r.totalYen)} yen, ${n(r.countsTaken)} counts taken from the card` +
      (r.feeMismatches ? `, ${plural(r.feeMismatches, "fee mismatch")}` : ""),
    `center: ${plural(alarms.length, "alarm")} (${plural(images, "media item")}), ${plural(Array.isArray(r.notifications) ? r.notifications.length : 0, "notification")}, ${plural(Array.isArray(r.dispatches) ? r.dispatches.length : 0, "operator action")}`,
  ];
  if (Array.isArray(r.terminal?.lcd)) lines.push("LCD at the end:", ...r.terminal.lcd.map((l: string) => `  |${l}|`));
  return lines.join("\n");
}

export interface PlayOptions {
  engine: "xs" | "node";
  /** keep the center's data here (default: a temporary folder, removed after) */
  dataDir?: string;
  /** where the virtual clock starts (default: the script's start, else now) */
  startMs?: number;
  /** called after each action with the virtual time reached and the action's index */
  progress?: (done: number, total: number, virtualMs: number) => void;
  /** called after every simulator step with the virtual time */
  onStep?: (virtualMs: number) => void;
}

/** Runs a scenario against a center of its own and returns what `timeguard scenario` writes. */
export async function playScenario(script: Script, o: PlayOptions): Promise<Record<string, unknown>> {
  const dir = o.dataDir ?? mkdtempSync(join(tmpdir(), "tg-scenario-"));
  const stack = await startDemoStack({ engine: o.engine, dataDir: dir, startMs: o.startMs ?? script.start ?? Date.now(), memoryFlash: true });
  context = { stack, dir, users: new Map(), cards: 0 };
  const onStep = o.onStep;
  if (onStep) stack.sim.onStep = () => onStep(stack.sim.clock.now);
  try {
    let run;
    try {
      run = await runScript(stack.sim, script, undefined, o.progress);
    } catch (e) {
      if (e instanceof ScriptError) throw new UsageError(e.message);
      throw e;
    }
    return await scenarioResult(stack, run);
  } finally {
    context = null;
    await stack.close();
    if (!o.dataDir) rmSync(dir, { recursive: true, force: true });
  }
}

async function scenarioResult(stack: DemoStack, run: Awaited<ReturnType<typeof runScript>>): Promise<Record<string, unknown>> {
  const { center, sim, mail } = stack;
  const data = exportData(center.store) as Record<string, any>;
  const totals = (data.totals as Array<Record<string, unknown>>).find((x) => x.terminal === DEMO.terminal) ?? null;
  const media = data.media as Array<Record<string, any>>;
  const terminal = await sim.snapshot();
  return {
    engine: sim.engineName,
    terminalId: DEMO.terminal,
    periods: (data.periods as Array<Record<string, unknown>>).filter((p) => p.terminal === DEMO.terminal),
    totalYen: totals?.totalYen ?? 0,
    countsTaken: totals?.countsTaken ?? 0,
    feeMismatches: totals?.mismatches ?? 0,
    alarms: (data.alarms as Array<Record<string, any>>).map((a) => ({
      ...a,
      media: media.filter((m) => m.terminal === a.terminal && m.alarmId === a.alarmId).map((m) => ({ item: m.item, type: m.type, bytes: m.bytes, complete: m.complete })),
    })),
    notifications: center.web.notify.notifications().map((n) => ({ ...n })),
    dispatches: center.web.actions.alarmActions(),
    // the operators' queue as their page orders it (duress first)
    operatorQueue: center.web.alarms.operatorAlarms().queue.map((a) => ({ alarmId: a.alarmId, contactId: a.contactId, sensor: a.sensor, status: a.status })),
    mail: mail.received.map((m) => ({ to: m.to, bytes: m.bytes })),
    terminal: {
      lcd: terminal.lcd,
      card: terminal.card ?? null,
      dispatch: terminal.dispatch ?? null,
      registration: terminal.uplink?.registration ?? null,
      owedYen: terminal.owedYen,
      countsDue: terminal.countsDue,
      outbox: terminal.outbox ?? null,
    },
    roundTrips: sim.roundTrips(),
    // XS meter: compute units summed over the run, deterministic (null under Node)
    meter: sim.meter(),
    snapshots: run.snapshots,
    results: run.results,
  };
}
