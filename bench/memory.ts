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
 * The host simulator's shims (host-sim/shims/*.ts) run in the same engine and keep state a board
 * does not have (the flash values the preference shim caches, mc/config parsed from JSON, the
 * timer queue's and the IO routes' records): each point's slots and chunk bytes are split into
 * the shims' and the board's by a census of the snapshot (host-sim/engines/xs-heap.ts: what each
 * shim's module-level state keeps alive that was made since the bundle was evaluated), and the
 * board's part is the figure set against `creation`. At the board's peak the bench prints who
 * holds the slots: each shim's state, then the firmware's objects by class.
 *
 * Then one card deduction, per deduction: xsnap reports with every call the slots taken since the
 * last collection (currentHeapCount), so after a forced collection the growth over the commands
 * that step the terminal across one collect-as-you-go deduction is what they allocated, transient
 * or kept. It is set beside the cheapest second of the same guarding with no deduction, the
 * difference being the deduction's own. The figure counts what the host's
 * IO bridge allocates in the engine too (each I2C transfer is a JSON and hex round trip through
 * issueCommand, which a board does not have): the bridge's part is measured alone, with the same
 * I2C transfers made by a loop of plain reads and writes, and shown apart. A collection XS runs on
 * its own inside a window would hide allocations: the bench refuses such a window. Chunk bytes
 * per call are not reported by xsnap (its `allocate` is the heap's high water), so only slots are.
 *
 * Run: npm run bench:memory   (TG_MEMORY=deduction: the deduction figure alone; TG_MEMORY_SNAPSHOTS=DIR
 * keeps each point's snapshot there, flash.xss the evaluated bundle's, for a closer look)
 */
import { join } from "node:path";
import { runScenario } from "../cli/scenario";
import { startXsEngine } from "../host-sim/engines/xs-engine";
import type { LiveMemory } from "../host-sim/engines/engine";
import { HeapCensus, HeapGrowth } from "../host-sim/engines/xs-heap";
import { firmwareBundle } from "../host-sim/project";
import { scriptHooks, type ScriptAction } from "../host-sim/script";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Simulator } from "../host-sim/simulator";
import { at, guardingTerminal } from "./guarding-rig";

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

/**
 * What the host simulator's shims keep inside the engine (host-sim/shims/*.ts, bundled with the
 * firmware), which a board does not have: found in the snapshot by the bundle's name for each
 * module-level binding, and counted with what it keeps alive (host-sim/engines/xs-heap.ts) that
 * boot and running made. A callback the firmware handed over (a timer's, an IO object's
 * onReadable) is the firmware's: a board's native timer or IO object keeps it too.
 */
const SHIM_STATE: ReadonlyArray<{ variable: string; shim: string; what: string }> = [
  { variable: "known", shim: "preference", what: "flash values cached in the engine (a board reads its NVS)" },
  { variable: "live", shim: "device", what: "IO handles' event routes (native on a board)" },
  { variable: "entries", shim: "timer", what: "the timer queue's records (native on a board)" },
  { variable: "mc_config_default", shim: "mc/config", what: "the manifest config from the host's JSON (a preloaded module in a board's flash)" },
  { variable: "posted", shim: "bridge", what: "host calls waiting to cross" },
  { variable: "readAhead", shim: "bridge", what: "an I2C read taken ahead" },
];
const HANDED_OVER: ReadonlySet<string> = new Set(["callback", "onReadable"]);

interface ShimShare {
  slots: number;
  chunkBytes: number;
  parts: Array<{ shim: string; variable: string; what: string; slots: number; chunkBytes: number }>;
  /** the slots counted, so the rest can be broken down without them */
  mark: Uint8Array;
}

function shimShare(growth: HeapGrowth): ShimShare {
  const mark = new Uint8Array(growth.now.heap.count + 1);
  const parts = SHIM_STATE.map((s) => {
    const cells = growth.variables(s.variable);
    if (cells.length !== 1) throw new Error(`the ${s.shim} shim's "${s.variable}": ${cells.length} variables of that name in the XS heap (want 1): the bundle's names changed, update SHIM_STATE in bench/memory.ts`);
    return { ...s, ...growth.heldBy(cells[0], HANDED_OVER, mark) };
  });
  return { slots: parts.reduce((a, p) => a + p.slots, 0), chunkBytes: parts.reduce((a, p) => a + p.chunkBytes, 0), parts, mark };
}

interface Row {
  label: string;
  slots: number;
  chunkBytes: number;
  /** of it, the shims' */
  shimSlots: number;
  shimChunkBytes: number;
  /** the board's: the rest */
  boardSlots: number;
  boardChunkBytes: number;
}

/** Slots XS allocated while `run` ran, from a forced collection on; refuses a window XS collected in. */
async function allocatedBy(sim: Simulator, run: () => Promise<void>): Promise<number> {
  const live = await sim.collect();
  if (live === null) throw new Error("no XS meter");
  const before = sim.meter()!.collections;
  await run();
  const m = sim.meter()!;
  if (m.collections !== before) throw new Error("XS collected inside the window: the figure would be low");
  return m.heapCount - live;
}

/**
 * One collect-as-you-go deduction (DESIGN §2, period 1 with a 472-count card, the kit paired, the
 * LCD, keypad and buzzer attached): the slots allocated over the one second of virtual time that
 * carries it, beside the cheapest second of the same guarding with the card in the slot and no
 * deduction (the card-present contact spares presence polls: docs/card.md). Seconds with UART
 * traffic (the link's dial attempts: no modem is fitted here) are left out of both.
 */
async function deduction(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-deduction-"));
  const { sim, slot } = await guardingTerminal({ dir, sensors: ["A0001", "A0002", "B0001", "B0002"], pattern: 1, cameras: 1, counts: 472 });
  try {
    const bus = sim.io.i2c(0);
    const uarts = () => sim.io.uart(1).bytesIn + sim.io.uart(1).bytesOut + sim.io.uart(2).bytesIn + sim.io.uart(2).bytesOut;
    const second = async (to: number) => {
      const tx = bus.transactions;
      const ex = slot.reader.exchanges;
      const u = uarts();
      const taken = (await sim.snapshot()).card.taken;
      const slots = await allocatedBy(sim, () => sim.runUntil(to));
      const s = await sim.snapshot();
      return { slots, transactions: bus.transactions - tx, exchanges: slot.reader.exchanges - ex, counts: s.card.taken - taken, uart: uarts() - u };
    };
    type Second = Awaited<ReturnType<typeof second>>;
    let t = at("2026-04-16T20:05:00");
    let quiet: Second | null = null;
    let deduct: Second | null = null;
    for (let i = 0; i < 3600 && !deduct; i++) {
      const w = await second((t += 1_000));
      if (w.uart > 0) continue;
      if (w.counts > 0) deduct = w;
      else if (!quiet || w.slots < quiet.slots) quiet = w;
    }
    if (!quiet || !deduct) throw new Error("no quiet second and no deduction alone in a second within an hour of guarding");
    const extraTx = deduct.transactions - quiet.transactions;
    const bridge = await bridgeSlots(sim, extraTx);
    const own = deduct.slots - quiet.slots;
    const row = (label: string, n: number, note: string) => console.log(`  ${label.padEnd(44)} ${String(n).padStart(7)}  ${note}`);
    console.log("one card deduction: slots allocated, transient and kept alike (XS, counted from a forced GC)");
    row("the cheapest second with no deduction", quiet.slots, `${quiet.transactions} I2C transfers, ${quiet.exchanges} card exchanges`);
    row(`the second of the deduction (${new Date(t).toISOString().slice(11, 19)} UTC)`, deduct.slots, `${deduct.transactions} I2C transfers, ${deduct.exchanges} card exchanges, ${deduct.counts} count taken`);
    row("the deduction", own, `${extraTx} more I2C transfers (card and LCD)`);
    row("  of it, about, the host's IO bridge", bridge, "as many transfers made by GetFirmwareVersion alone");
    row("  of it, about, the firmware", own - bridge, `${(((own - bridge) * 16) / 1024).toFixed(1)} KB at 16 bytes a slot; heap creation ${heapBudget} slots`);
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the host's IO bridge allocates in the engine for `transfers` I2C transfers: the PN532's
 * own driver sending GetFirmwareVersion (a write, then reads) until that many are done.
 */
async function bridgeSlots(sim: Simulator, transfers: number): Promise<number> {
  const bus = sim.io.i2c(0);
  let done = 0;
  return allocatedBy(sim, async () => {
    while (done < transfers) {
      const tx = bus.transactions;
      await sim.command("pn532.version", { count: Math.max(1, Math.min(20, Math.floor((transfers - done) / 3))) });
      done += bus.transactions - tx;
    }
  });
}

async function main(): Promise<void> {
  if (process.env.TG_MEMORY === "deduction") return deduction();
  const flash = await flashResident();
  const flashCensus = new HeapCensus(flash.snapshot);
  if (process.env.TG_MEMORY_SNAPSHOTS) writeFileSync(join(process.env.TG_MEMORY_SNAPSHOTS, "flash.xss"), flash.snapshot);
  const rows: Row[] = [];
  const peak: { at: { row: Row; growth: HeapGrowth; shims: ShimShare } | null } = { at: null };
  const measure = async (sim: Simulator, label: string) => {
    const m = await sim.liveMemory();
    if (!m) throw new Error("no XS memory figures");
    if (process.env.TG_MEMORY_SNAPSHOTS) writeFileSync(join(process.env.TG_MEMORY_SNAPSHOTS, `${String(rows.length).padStart(2, "0")}.xss`), m.snapshot);
    const growth = new HeapGrowth(flashCensus, new HeapCensus(m.snapshot));
    const shims = shimShare(growth);
    const slots = m.slots - flash.slots;
    const chunkBytes = m.chunkBytes - flash.chunkBytes;
    const row = { label, slots, chunkBytes, shimSlots: shims.slots, shimChunkBytes: shims.chunkBytes, boardSlots: slots - shims.slots, boardChunkBytes: chunkBytes - shims.chunkBytes };
    rows.push(row);
    if (!peak.at || row.boardSlots > peak.at.row.boardSlots) peak.at = { row, growth, shims };
    if (process.env.TG_TRACE) process.stderr.write(`${label}: ${row.slots} slots (shims ${row.shimSlots}), ${row.chunkBytes} chunk bytes (shims ${row.shimChunkBytes})\n`);
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
    `  ${r.label.slice(0, 40).padEnd(40)} ${String(r.slots).padStart(6)} ${String(r.shimSlots).padStart(6)} ${String(r.boardSlots).padStart(6)} ${pct(r.boardSlots, heapBudget)} ${String(r.chunkBytes).padStart(8)} ${String(r.shimChunkBytes).padStart(7)} ${String(r.boardChunkBytes).padStart(8)} ${pct(r.boardChunkBytes, chunkBudget)}`;
  console.log(`XS heap after a forced GC, RAM only (flash-resident when preloaded: ${flash.slots} slots, ${flash.chunkBytes} chunk bytes, excluded)`);
  console.log(`creation: heap ${heapBudget} slots, chunk ${chunkBudget} bytes; target at most 80% of each, for the board's part`);
  console.log(`host: all the engine holds; shims: of it, what the host simulator's shims keep (no board has them); board: the rest`);
  console.log(`  ${"point".padEnd(40)} ${"host".padStart(6)} ${"shims".padStart(6)} ${"board".padStart(6)} ${"heap".padStart(5)} ${"host B".padStart(8)} ${"shims B".padStart(7)} ${"board B".padStart(8)} ${"chunk".padStart(5)}`);
  for (const r of rows) console.log(line(r));
  const peakSlots = rows.reduce((a, r) => (r.boardSlots > a.boardSlots ? r : a));
  const peakChunks = rows.reduce((a, r) => (r.boardChunkBytes > a.boardChunkBytes ? r : a));
  console.log("summary");
  console.log(line({ ...rows[0], label: "boot (after the first action)" }));
  const guarding = rows.find((r) => r.label.includes("period 1 guarding"));
  if (guarding) console.log(line({ ...guarding, label: "steady guarding, card collected" }));
  console.log(line({ ...peakSlots, label: `peak slots (${peakSlots.label.trim()})` }));
  console.log(line({ ...peakChunks, label: `peak chunks (${peakChunks.label.trim()})` }));
  const fits = peakSlots.boardSlots <= 0.8 * heapBudget && peakChunks.boardChunkBytes <= 0.8 * chunkBudget;
  console.log(fits ? "fits: every point's board part within 80% of creation" : "DOES NOT FIT: a point's board part exceeds 80% of creation");
  if (peak.at) breakdown(peak.at.row, peak.at.growth, peak.at.shims);
  await deduction();
}

/** Who holds the slots made since boot at the board's peak: the shims' state, then the rest by holder. */
function breakdown(row: Row, growth: HeapGrowth, shims: ShimShare): void {
  const slotsLine = (label: string, slots: number, note: string) => console.log(`  ${label.slice(0, 44).padEnd(44)} ${String(slots).padStart(6)}  ${note}`);
  console.log(`who holds the slots at the board's peak (${row.label.trim()}): ${growth.made()} made since the bundle was evaluated`);
  for (const p of shims.parts) slotsLine(`shim ${p.shim}: ${p.variable}`, p.slots, `${p.chunkBytes} chunk B; ${p.what}`);
  const rest = growth.byHolder(shims.mark);
  for (const r of rest.slice(0, 16)) slotsLine(r.what, r.slots, `${r.objects} held by older objects or roots`);
  const others = rest.slice(16);
  slotsLine(`${others.length} other holders`, others.reduce((a, r) => a + r.slots, 0), "");
}

await main();
