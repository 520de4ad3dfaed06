import test from "ava";
import { onBothEngines, at } from "./helpers/engines";
import { wrapGroups } from "../firmware/ui/setup-screen";
import { install, keys, lcd, newPeriod, ui, withUiSim } from "./helpers/ui-sim";
import { ACTIONS } from "../host-sim/script";
import "../host-sim/devices/sensors";
import type { Simulator } from "../host-sim/simulator";

// The UI with the sensor table of the sensors' work (issue #3): plug and play on the setup
// screen, devices picked by ID in the period editor, the alarm screen.

async function act(sim: Simulator, action: Record<string, unknown>): Promise<void> {
  await ACTIONS[action.do as string](sim, action as any, { snapshots: [], results: [] }, 0);
  await sim.settle();
}

onBothEngines("setup lists the sensors found, OK registers them, the plan picks them by ID", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    for (const id of ["A0001", "A0002", "B0001"]) await act(sim, { do: "sensor.add", id });
    await sim.advance(10_000);
    t.deepEqual(lcd(sim), ["Setup        3 found", "New: A0001 A0002    ", "B0001               ", "#=OK: add new ones  "]);
    await install(sim);
    const table = (await sim.snapshot()).sensors ?? (await sim.snapshot()).sensorTable;
    t.truthy(table, "the hub reports its table");
    await keys(sim, "B");
    t.deepEqual(lcd(sim).slice(0, 2), ["Setup        3 found", "A0001 A0002 B0001   "]);
    await keys(sim, "*");

    await newPeriod(sim);
    await keys(sim, "202604162000#202604162300#1#");
    t.deepEqual(lcd(sim), ["Sensors     0 chosen", "1[ ] A0001          ", "2[ ] A0002          ", "1-3=pick  #=OK      "]);
    await keys(sim, "12");
    t.deepEqual(lcd(sim).slice(0, 3), ["Sensors     2 chosen", "1[x] A0001          ", "2[x] A0002          "]);
    await keys(sim, "#");
    t.deepEqual(lcd(sim).slice(0, 2), ["Cameras     0 chosen", "1[ ] B0001          "]);
    await keys(sim, "1#3#");
    t.deepEqual(lcd(sim).slice(0, 3), ["04-16 20:00 for 3h  ", "Pattern 1    288 yen", "28 counts (no card) "]);
    await keys(sim, "#");
    const plan = (await sim.snapshot()).plan;
    t.deepEqual(plan.periods, [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }]);

    // a sensor gone silent is named on the setup screen in words, apart from those in use
    await act(sim, { do: "sensor.remove", id: "A0002" });
    await sim.advance(40 * 60_000); // supervision: three missed heartbeats of the kit's 10 minutes and the grace
    await keys(sim, "B");
    t.deepEqual(lcd(sim).slice(0, 3), ["Setup        3 found", "Lost: A0002         ", "OK: A0001 B0001     "]);
  });
});

onBothEngines("an intrusion while guarding shows the alarm screen until seen", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    for (const id of ["A0001", "B0001"]) await act(sim, { do: "sensor.add", id });
    await sim.advance(10_000);
    await install(sim);
    await newPeriod(sim);
    await keys(sim, "202604162000#202604162300#1#1#1#3##");
    t.is((await sim.snapshot()).plan.periods.length, 1);
    await sim.runUntil(at("2026-04-16T20:10"));
    await act(sim, { do: "sensor.trip", id: "A0001" });
    await sim.advance(2000);
    t.is((await ui(sim)).screen, "alarm");
    t.is(lcd(sim)[0], "① ALARM ①           ");
    t.is(lcd(sim)[1], "A0001 intrusion     ");
    t.regex(lcd(sim)[2], /^at 04-16 20:1\d/);
    await keys(sim, "#");
    t.is((await ui(sim)).screen, "status");
    t.is(lcd(sim)[0], "GUARDING   pattern 1");
  });
});

onBothEngines("a sensor that stops reporting shows as lost on the status screen", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await act(sim, { do: "sensor.add", id: "A0001", heartbeat: 10 });
    await sim.advance(10_000);
    await install(sim);
    await sim.advance(6000);
    t.not(lcd(sim)[3], "Sensor A0001 lost   ");
    await act(sim, { do: "sensor.remove", id: "A0001" });
    await sim.advance(10 * 60_000);
    t.is(lcd(sim)[3], "Sensor A0001 lost   ");
    await keys(sim, "B");
    t.is(lcd(sim)[1], "Lost: A0001         ", "the setup screen says in words which device is not connected");
  });
});

onBothEngines("bypass: a sensor left out for one period (setup, D, the PIN, its line) trips no alarm; the next period guards it again", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    for (const id of ["A0001", "A0002"]) await act(sim, { do: "sensor.add", id });
    await sim.advance(10_000);
    await install(sim);
    const periods = [
      { start: "2026-04-16T20:00", end: "2026-04-16T21:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: 0 },
      { start: "2026-04-16T22:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: 0 },
    ];
    t.true((await sim.command("plan.set", { plan: { contract: "multiple", periods } })).ok);
    await keys(sim, "BD1234#");
    t.is((await ui(sim)).screen, "bypass");
    await keys(sim, "1");
    t.is(lcd(sim)[1], "1[x] A0001 left out ");
    await keys(sim, "#");
    await sim.runUntil(at("2026-04-16T20:10"));
    await act(sim, { do: "sensor.trip", id: "A0001" });
    await sim.advance(3000);
    t.deepEqual((await sim.snapshot()).alarms, [], "A0001 is left out");
    await act(sim, { do: "sensor.trip", id: "A0002" });
    await sim.advance(3000);
    t.like((await sim.snapshot()).alarms, [{ sensor: "A0002", contactId: 130 }]);
    await sim.runUntil(at("2026-04-16T22:10"));
    t.deepEqual((await sim.snapshot()).panel.bypass, [], "for one period only");
    await act(sim, { do: "sensor.trip", id: "A0001" });
    await sim.advance(3000);
    t.like((await sim.snapshot()).alarms[1], { sensor: "A0001", contactId: 130 });
  });
});

test("the setup screen's two lines: groups in words, a label never last on a line, what does not fit as N more", (t) => {
  const ids = (n: number, letter = "A") => Array.from({ length: n }, (_, i) => `${letter}${String(i + 1).padStart(4, "0")}`);
  t.deepEqual(wrapGroups([["New:", ids(3)], ["Lost:", []], ["", []]]), ["New: A0001 A0002", "A0003"]);
  t.deepEqual(wrapGroups([["New:", []], ["Lost:", ["A0002"]], ["OK:", ["A0001", "B0001"]]]), ["Lost: A0002", "OK: A0001 B0001"]);
  t.deepEqual(wrapGroups([["New:", []], ["Lost:", []], ["", ids(16)]]), ["A0001 A0002 A0003", "A0004 A0005 11 more"]);
  // what does not fit is counted: A0002 (lost) and C0001 (in use)
  t.deepEqual(wrapGroups([["New:", ids(2, "B")], ["Lost:", ids(2)], ["OK:", ["C0001"]]]), ["New: B0001 B0002", "Lost: A0001 2 more"]);
  for (const [a, b] of [wrapGroups([["New:", ids(7, "B")], ["Lost:", ids(5)], ["OK:", ids(4, "C")]])]) {
    t.true(a.length <= 20 && b.length <= 20);
    t.regex(b, /\d+ more$/);
  }
});
