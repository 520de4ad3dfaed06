import { join } from "node:path";
import { parseTime } from "../firmware/core/time";
import { attachBuzzer } from "../host-sim/devices/buzzer";
import { DEMO_ISSUER_JSON, issueCardFile, parseKeys } from "../host-sim/devices/card-file";
import { cardSlot } from "../host-sim/devices/card-slot";
import { attachKeypad } from "../host-sim/devices/keypad-matrix";
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { sensorField } from "../host-sim/devices/sensors";
import { Simulator } from "../host-sim/simulator";

/** Virtual ms of a local time of DESIGN §2's day. */
export const at = (s: string) => parseTime(s, "t") * 1000;

/**
 * A terminal under XS guarding at 20:05 on DESIGN §2's day: the LCD, keypad and buzzer attached,
 * `sensors` paired, a continuous contract 20:00–23:00 with `pattern`, and a card of `counts` in the
 * slot (its file in `dir`), collected as it goes. The caller closes the simulator.
 */
export async function guardingTerminal(o: { dir: string; sensors: string[]; pattern: number; cameras: number; counts: number }) {
  const sim = await Simulator.start({ engine: "xs", startMs: at("2026-04-16T19:58") });
  try {
    attachLcd(sim);
    attachKeypad(sim);
    attachBuzzer(sim);
    const slot = cardSlot(sim);
    const field = sensorField(sim);
    for (const id of o.sensors) field.add(id);
    await sim.advance(5_000);
    await sim.command("pairing.confirm");
    const sensors = o.sensors.filter((id) => !id.startsWith("B")).length;
    await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: o.pattern, sensors, cameras: o.cameras }] } });
    const file = join(o.dir, "card.json");
    issueCardFile(file, { uid: Uint8Array.of(1, 2, 3, 5), cardId: 8, counts: o.counts, keys: parseKeys(DEMO_ISSUER_JSON, "demo"), maxCounts: 100000 });
    slot.insert(file);
    await sim.runUntil(at("2026-04-16T20:05:00"));
    return { sim, slot, field };
  } catch (e) {
    await sim.close();
    throw e;
  }
}
