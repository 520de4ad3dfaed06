/**
 * The firmware's XS heap against manifest.json's `creation`, measured in the host XS engine
 * (xsnap) after a forced collection: live slots and live chunk bytes, read from a snapshot of the
 * machine, at boot, at every action of the seed patents' walk-through
 * (scenarios/patent-walkthrough.json: sensors, keypad entry, a 6,000-count card collected as
 * guarding goes, an intrusion, a dispatch), and its peak.
 *
 * What a board keeps in flash is left out: every firmware module is preloaded
 * (manifest.json `preload`), so the built-ins, the modules' code and everything their bodies create
 * are linked into flash by xsl. That is what the heap holds once the bundle is evaluated and
 * before `boot`, measured in a worker of its own; the figures below are the live heap minus it.
 * Slots are counted (16 bytes each on the ESP32, 32 on this host); chunk bytes are this host's,
 * an upper bound for the board's (arrays of slots are twice the size here).
 *
 * Run: npm run bench:memory
 */
import { join } from "node:path";
import { runScenario } from "../cli/scenario";
import { startXsEngine } from "../host-sim/engines/xs-engine";
import type { LiveMemory } from "../host-sim/engines/engine";
import { firmwareBundle } from "../host-sim/project";
import { scriptHooks, type ScriptAction } from "../host-sim/script";
import type { Simulator } from "../host-sim/simulator";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const manifest = JSON.parse(readFileSync("manifest.json", "utf8"));
const heapBudget: number = manifest.creation.heap.initial;
const chunkBudget: number = manifest.creation.chunk.initial;

async function flashResident(): Promise<LiveMemory> {
  const engine = await startXsEngine(firmwareBundle(), () => JSON.stringify({ value: null }));
  try {
    return await engine.liveMemory!();
  } finally {
    await engine.close();
  }
}

interface Row {
  label: string;
  slots: number;
  chunkBytes: number;
}

async function main(): Promise<void> {
  const flash = await flashResident();
  const rows: Row[] = [];
  const measure = async (sim: Simulator, label: string) => {
    const m = await sim.liveMemory();
    if (!m) throw new Error("no XS memory figures");
    const row = { label, slots: m.slots - flash.slots, chunkBytes: m.chunkBytes - flash.chunkBytes };
    rows.push(row);
    if (process.env.TG_TRACE) process.stderr.write(`${label}: ${row.slots} slots, ${row.chunkBytes} chunk bytes\n`);
  };
  scriptHooks.afterAction = async (sim: Simulator, index: number, action: ScriptAction) => {
    const what = typeof action.label === "string" ? `${action.do} "${action.label}"` : `${action.do}${typeof action.seq === "string" ? " " + action.seq : ""}${typeof action.id === "string" ? " " + action.id : ""}`;
    await measure(sim, `${String(index).padStart(2)} ${what}`);
  };
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-memory-"));
  try {
    const code = await runScenario(["scenarios/patent-walkthrough.json", "--engine", "xs", "--out", join(dir, "result.json")]);
    if (code !== 0) throw new Error(`scenario exited ${code}`);
  } finally {
    scriptHooks.afterAction = null;
    rmSync(dir, { recursive: true, force: true });
  }
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(0)}%`.padStart(5);
  const line = (r: Row) =>
    `  ${r.label.slice(0, 44).padEnd(44)} ${String(r.slots).padStart(7)} ${pct(r.slots, heapBudget)} ${String(r.chunkBytes).padStart(9)} ${pct(r.chunkBytes, chunkBudget)}`;
  console.log(`XS heap after a forced GC, RAM only (flash-resident when preloaded: ${flash.slots} slots, ${flash.chunkBytes} chunk bytes, excluded)`);
  console.log(`creation: heap ${heapBudget} slots, chunk ${chunkBudget} bytes; target at most 80% of each`);
  console.log(`  ${"point".padEnd(44)} ${"slots".padStart(7)} ${"heap".padStart(5)} ${"chunks B".padStart(9)} ${"chunk".padStart(5)}`);
  for (const r of rows) console.log(line(r));
  const peakSlots = rows.reduce((a, r) => (r.slots > a.slots ? r : a));
  const peakChunks = rows.reduce((a, r) => (r.chunkBytes > a.chunkBytes ? r : a));
  console.log("summary");
  console.log(line({ ...rows[0], label: "boot (after the first action)" }));
  const guarding = rows.find((r) => r.label.includes("period 1 guarding"));
  if (guarding) console.log(line({ ...guarding, label: "steady guarding, card collected as it goes" }));
  console.log(line({ ...peakSlots, label: `peak slots (${peakSlots.label.trim()})` }));
  console.log(line({ ...peakChunks, label: `peak chunks (${peakChunks.label.trim()})` }));
  const fits = peakSlots.slots <= 0.8 * heapBudget && peakChunks.chunkBytes <= 0.8 * chunkBudget;
  console.log(fits ? "fits: every point within 80% of creation" : "DOES NOT FIT: a point exceeds 80% of creation");
}

await main();
