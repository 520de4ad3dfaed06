/**
 * XS compute per kind of event while guarding (xsnap's meter: deterministic, independent of the
 * machine's load; real milliseconds beside it, which are not): the seconds of one guarded hour
 * with three PIR sensors supervised (PING and answer every minute), a card collected as it goes
 * and the LCD, keypad and buzzer attached, sorted by what they carried: a card deduction, sensor
 * radio traffic, or neither. What the simulator's week (npm run bench:sim) is made of, measured
 * event by event. Run: npm run build && node dist/bench/xs-events.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTime } from "../firmware/core/time";
import { DEMO_ISSUER_JSON, issueCardFile, parseKeys } from "../host-sim/devices/card-file";
import { cardSlot } from "../host-sim/devices/card-slot";
import { sensorField } from "../host-sim/devices/sensors";
import { attachBuzzer } from "../host-sim/devices/buzzer";
import { attachKeypad } from "../host-sim/devices/keypad-matrix";
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { Simulator } from "../host-sim/simulator";

const at = (s: string) => parseTime(s, "t") * 1000;
const n = (x: number) => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-events-"));
  const sim = await Simulator.start({ engine: "xs", startMs: at("2026-04-16T19:58") });
  try {
    attachLcd(sim);
    attachKeypad(sim);
    attachBuzzer(sim);
    const slot = cardSlot(sim);
    const field = sensorField(sim);
    for (const id of ["A0001", "A0002", "A0003"]) field.add(id);
    await sim.advance(5_000);
    await sim.command("pairing.confirm");
    await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 3, sensors: 3, cameras: 0 }] } });
    const file = join(dir, "card.json");
    issueCardFile(file, { uid: Uint8Array.of(1, 2, 3, 5), cardId: 8, counts: 6000, keys: parseKeys(DEMO_ISSUER_JSON, "demo"), maxCounts: 100000 });
    slot.insert(file);
    await sim.runUntil(at("2026-04-16T20:05:00"));
    const radio = sim.io.uart(2);
    const kinds = new Map<string, { seconds: number; compute: number; ms: number }>();
    let t = at("2026-04-16T20:05:00");
    const started = sim.meter()!.compute;
    for (let i = 0; i < 3600; i++) {
      const ex = slot.reader.exchanges;
      const u = radio.bytesIn + radio.bytesOut;
      const c = sim.meter()!.compute;
      const began = performance.now();
      await sim.runUntil((t += 1_000));
      const ms = performance.now() - began;
      const compute = sim.meter()!.compute - c;
      const kind = slot.reader.exchanges - ex >= 5 ? "a card deduction" : radio.bytesIn + radio.bytesOut > u ? "sensor radio traffic" : "neither";
      const k = kinds.get(kind) ?? { seconds: 0, compute: 0, ms: 0 };
      k.seconds++;
      k.compute += compute;
      k.ms += ms;
      kinds.set(kind, k);
    }
    const snap = await sim.snapshot();
    console.log(`one guarded hour under XS (3 sensors, ${snap.card?.taken ?? "?"} counts taken so far): ${n(sim.meter()!.compute - started)} compute units`);
    console.log(`  ${"second carrying".padEnd(24)} ${"seconds".padStart(8)} ${"compute each".padStart(13)} ${"ms each".padStart(8)}`);
    for (const [kind, k] of kinds) console.log(`  ${kind.padEnd(24)} ${String(k.seconds).padStart(8)} ${n(k.compute / k.seconds).padStart(13)} ${(k.ms / k.seconds).toFixed(2).padStart(8)}`);
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
