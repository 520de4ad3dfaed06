/**
 * XS compute per kind of event while guarding (xsnap's meter: deterministic, independent of the
 * machine's load; real milliseconds beside it, which are not): the seconds of one guarded hour
 * with three PIR sensors supervised (PING and answer every minute), a card collected as it goes
 * and the LCD, keypad and buzzer attached, sorted by what they carried: a card deduction, sensor
 * radio traffic, or neither. What the simulator's week (npm run bench:sim) is made of, measured
 * event by event; the CPU time of the engine's process and of the host's (this one) beside the
 * wall time, which the load moves.
 * Run: npm run build && node dist/bench/xs-events.js
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { at, guardingTerminal } from "./guarding-rig";

/**
 * CPU milliseconds the engine's processes (xsnap workers, children of this one) have used so far,
 * from /proc (Linux; null elsewhere): unlike wall time, hardly moved by the machine's load.
 */
function engineCpuMs(): number | null {
  if (!existsSync(`/proc/${process.pid}/task`)) return null;
  let ticks = 0;
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
    for (const pid of children ? children.split(" ") : []) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      } catch {
        // gone
      }
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

const n = (x: number) => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-events-"));
  const { sim, slot } = await guardingTerminal({ dir, sensors: ["A0001", "A0002", "A0003"], pattern: 3, cameras: 0, counts: 6000 });
  try {
    const radio = sim.io.uart(2);
    const kinds = new Map<string, { seconds: number; compute: number; ms: number; cpu: number; host: number }>();
    let t = at("2026-04-16T20:05:00");
    const started = sim.meter()!.compute;
    for (let i = 0; i < 3600; i++) {
      const ex = slot.reader.exchanges;
      const u = radio.bytesIn + radio.bytesOut;
      const c = sim.meter()!.compute;
      const cpu0 = engineCpuMs() ?? 0;
      const host0 = process.cpuUsage();
      const began = performance.now();
      await sim.runUntil((t += 1_000));
      const ms = performance.now() - began;
      const hostUsage = process.cpuUsage(host0); // before reading /proc, which costs this process
      const cpu = (engineCpuMs() ?? 0) - cpu0;
      const host = (hostUsage.user + hostUsage.system) / 1000;
      const compute = sim.meter()!.compute - c;
      const kind = slot.reader.exchanges - ex >= 5 ? "a card deduction" : radio.bytesIn + radio.bytesOut > u ? "sensor radio traffic" : "neither";
      const k = kinds.get(kind) ?? { seconds: 0, compute: 0, ms: 0, cpu: 0, host: 0 };
      k.cpu += cpu;
      k.host += host;
      k.seconds++;
      k.compute += compute;
      k.ms += ms;
      kinds.set(kind, k);
    }
    const snap = await sim.snapshot();
    console.log(`one guarded hour under XS (3 sensors, ${snap.card?.taken ?? "?"} counts taken so far): ${n(sim.meter()!.compute - started)} compute units`);
    console.log(`  ${"second carrying".padEnd(24)} ${"seconds".padStart(8)} ${"compute each".padStart(13)} ${"ms each".padStart(8)} ${"engine CPU ms".padStart(14)} ${"host CPU ms".padStart(12)}`);
    for (const [kind, k] of kinds) console.log(`  ${kind.padEnd(24)} ${String(k.seconds).padStart(8)} ${n(k.compute / k.seconds).padStart(13)} ${(k.ms / k.seconds).toFixed(2).padStart(8)} ${(k.cpu / k.seconds).toFixed(2).padStart(14)} ${(k.host / k.seconds).toFixed(2).padStart(12)}`);
    console.log(`  load average (1, 5, 15 min) ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
