import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_ISSUER_JSON, issueCardFile, parseKeys } from "../../host-sim/devices/card-file";
import { cardSlot } from "../../host-sim/devices/card-slot";
import type { EngineName } from "../../host-sim/engines/engine";
import { attachKeypad, KeypadMatrix } from "../../host-sim/devices/keypad-matrix";
import { attachLcd, LcdPcf8574 } from "../../host-sim/devices/lcd-pcf8574";
import { ACTIONS } from "../../host-sim/script";
import type { Simulator, SimulatorOptions } from "../../host-sim/simulator";
import { KIT, withSim } from "./engines";
import { sensorField } from "../../host-sim/devices/sensors";

/** A simulator with the terminal's LCD and keypad attached (issue #4's tests). */
export async function withUiSim<T>(
  engine: EngineName,
  start: string,
  body: (sim: Simulator) => Promise<T>,
  options: Partial<SimulatorOptions> = {},
): Promise<T> {
  return withSim(
    engine,
    start,
    async (sim) => {
      attachLcd(sim);
      attachKeypad(sim);
      await sim.settle();
      return body(sim);
    },
    options,
  );
}

/** Types on the emulated keypad and lets the keys be scanned, debounced and handled. */
export async function keys(sim: Simulator, seq: string, extra: Record<string, unknown> = {}): Promise<void> {
  await ACTIONS["keys"](sim, { do: "keys", seq, ...extra }, { snapshots: [], results: [] }, 0);
}

export function lcd(sim: Simulator): string[] {
  return sim.plugin<LcdPcf8574>("lcd").lines();
}

export function keypad(sim: Simulator): KeypadMatrix {
  return sim.plugin<KeypadMatrix>("keypad");
}

export async function ui(sim: Simulator): Promise<Record<string, any>> {
  return (await sim.snapshot()).ui;
}

/**
 * Plugs in devices (the kit by default) and lets them announce: the setup screen lists them and
 * `install` confirms them into the sensor table (what a plan then chooses from and bills).
 */
export async function plugKit(sim: Simulator, ids: readonly string[] = KIT): Promise<void> {
  const field = sensorField(sim);
  for (const id of ids) field.add(id);
  await sim.advance(5_000);
}

/** First install: confirm the setup screen (registering what it lists), choose PIN 1234. */
export async function install(sim: Simulator, pin = "1234"): Promise<void> {
  await keys(sim, "#");
  await keys(sim, `${pin}#${pin}#`);
}

/** From the status screen into the period editor of a new period. */
export async function newPeriod(sim: Simulator, pin = "1234"): Promise<void> {
  await keys(sim, `A${pin}#`);
  await keys(sim, "C");
}

/**
 * A real MIFARE card with `counts` in the emulated PN532's field (the card's work, issue #5),
 * issued in a temporary folder; lets the terminal's reader poll it.
 */
export async function insertCard(sim: Simulator, counts: number): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-ui-card-"));
  const file = join(dir, "card.json");
  issueCardFile(file, { uid: Uint8Array.from([1, 2, 3, 4]), cardId: 7, counts, keys: parseKeys(DEMO_ISSUER_JSON, "demo"), maxCounts: 100000 });
  cardSlot(sim).insert(file);
  await sim.advance(5000);
  return () => rmSync(dir, { recursive: true, force: true });
}
