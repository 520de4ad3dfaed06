/**
 * XS cost figures for the terminal UI, from xsnap's deterministic meter (compute units, not
 * seconds): one key press (the keypad's edge wake, its 10 ms row scans and debounce, the screen's
 * redraw on the LCD), the whole plan entry of DESIGN §2 period 1, one status redraw while guarding;
 * plus the bus traffic it takes. Run: node scripts/build.mjs && node dist/bench/ui-keys.js
 */
import { attachKeypad } from "../host-sim/devices/keypad-matrix";
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { ACTIONS } from "../host-sim/script";
import { Simulator } from "../host-sim/simulator";
import { parseTime } from "../firmware/core/time";

async function main(): Promise<void> {
  const sim = await Simulator.start({ engine: "xs", startMs: parseTime("2026-04-16T19:00", "start") * 1000 });
  const lcd = attachLcd(sim);
  const keypad = attachKeypad(sim);
  await sim.settle();
  const m = () => sim.meter()!;
  const i2c = sim.io.i2c(0);
  const type = (seq: string) => ACTIONS["keys"](sim, { do: "keys", seq }, { snapshots: [], results: [] }, 0);
  const rows: Array<[string, number, string]> = [];

  await type("#1234#1234#A1234#C");
  let before = m().compute;
  let calls = m().calls;
  let tx = i2c.transactions;
  await type("2026041620"); // digits of the start field: each one redraws the field's row
  rows.push(["one key press, a digit (mean of 10)", Math.round((m().compute - before) / 10), `${(m().calls - calls) / 10} engine calls, ${(i2c.transactions - tx) / 10} I2C writes a key`]);
  await type("**********************"); // back out to the status screen

  before = m().compute;
  calls = m().calls;
  tx = i2c.transactions;
  const chars = lcd.characters;
  const seq = "A1234#C202604162000#202604162300#1#2#1#3##";
  await type(seq);
  rows.push([
    `plan entry of period 1 (${seq.length} keys)`,
    m().compute - before,
    `${m().calls - calls} engine calls, ${i2c.transactions - tx} I2C writes, ${lcd.characters - chars} characters drawn`,
  ]);

  await sim.runUntil(parseTime("2026-04-16T20:10", "t") * 1000);
  before = m().compute;
  calls = m().calls;
  await sim.runUntil(parseTime("2026-04-16T22:10", "t") * 1000);
  rows.push(["two guarded hours on the status screen", m().compute - before, `${m().calls - calls} engine calls (status redrawn each minute, card polled, checkpoints)`]);

  const snap = await sim.snapshot();
  rows.push(["total", m().compute, `heap ${m().heapCount} slots; keys ${snap.ui.keys}, refused ${snap.ui.refused}; LCD busy violations ${lcd.busyViolations}; presses ${keypad.pressed}`]);
  await sim.close();
  console.log("XS meter for the terminal UI (xsnap compute units; deterministic)");
  for (const [what, compute, note] of rows) console.log(`${what.padEnd(42)} ${String(compute).padStart(10)}  ${note}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
