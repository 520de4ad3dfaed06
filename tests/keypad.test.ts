import { onBothEngines } from "./helpers/engines";
import { keypad, keys, ui, withUiSim } from "./helpers/ui-sim";

// The 4x4 keypad driver (row scan on a Timer, debounce) against the pin-level matrix emulation,
// through the whole firmware on both engines: one event per press, whatever the contacts do.

onBothEngines("all sixteen keys arrive once each, in order, with contact bounce", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await keys(sim, "123A456B789C*0#D");
    const u = await ui(sim);
    t.is(u.recent, "123A456B789C*0#D");
    t.is(u.keys, 16);
    t.is(keypad(sim).pressed, 16);
    t.deepEqual((await sim.snapshot()).keypadDriver, { presses: 16, ghosts: 0 });
  });
});

onBothEngines("heavy bounce (9 flips at each edge) still makes one event per press", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    keypad(sim).timing = { ...keypad(sim).timing, bounces: 9 };
    await keys(sim, "5555");
    t.is((await ui(sim)).recent, "5555");
  });
});

onBothEngines("a key held for three seconds is one press", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    keypad(sim).hold("7");
    await sim.advance(3000);
    keypad(sim).release("7");
    await sim.advance(200);
    t.is((await ui(sim)).recent, "7");
    await keys(sim, "8");
    t.is((await ui(sim)).recent, "78", "the keypad goes back to waiting for the next press");
  });
});

onBothEngines("a touch shorter than the debounce time is not a press", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await keys(sim, "3", { holdMs: 12 });
    t.is((await ui(sim)).keys, 0);
    await keys(sim, "3");
    t.is((await ui(sim)).recent, "3");
  });
});

onBothEngines("two keys down at once report nothing; the one left down then counts", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    keypad(sim).hold("1");
    keypad(sim).hold("6");
    await sim.advance(300);
    t.is((await ui(sim)).keys, 0);
    t.true((await sim.snapshot()).keypadDriver.ghosts > 0);
    keypad(sim).release("6");
    await sim.advance(300);
    keypad(sim).release("1");
    await sim.advance(200);
    t.is((await ui(sim)).recent, "1");
  });
});
