import { onBothEngines } from "./helpers/engines";
import { install, keys, lcd, plugKit, ui, withUiSim } from "./helpers/ui-sim";

// Plan entry for the common case in few keys (issue #14): a period from the next full hour for
// N hours, times as hhmm, the end as hours, a plan the card cannot pay confirmed first.

onBothEngines("one period in 9 keys: A, the PIN, #, 3, # (3 hours from the next full hour), # to save", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:10", async (sim) => {
    await plugKit(sim, ["A0001"]); // a plan bills only devices of the sensor table (issue #10)
    await install(sim);
    const before = (await ui(sim)).keys;
    await keys(sim, "A1234#");
    await keys(sim, "3#");
    t.deepEqual(lcd(sim).slice(0, 2), ["04-16 20:00 for 3h  ", "Pattern 1    252 yen"]);
    await keys(sim, "#");
    const used = (await ui(sim)).keys - before;
    t.true(used <= 12, `${used} keys`);
    t.is(used, 9);
    t.deepEqual((await sim.snapshot()).plan.periods, [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001"], cameras: 0 }]);
    t.is(lcd(sim)[3], "Plan saved          ");
  });
});

onBothEngines("hhmm for the start, hours for the end, 1-3 on the estimate choose the pattern; a past 12-digit start is refused", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:10", async (sim) => {
    await plugKit(sim, ["A0001"]); // a plan bills only devices of the sensor table (issue #10)
    await install(sim);
    await keys(sim, "A1234#C");
    await keys(sim, "202604161800#");
    t.is(lcd(sim)[3], "Start is past       ");
    await keys(sim, "2130#"); // today 21:30
    await keys(sim, "2#"); // for 2 hours
    await keys(sim, "#1##3#"); // pattern kept, 1 sensor, cameras kept (0), contract 3
    t.is((await ui(sim)).screen, "estimate");
    await keys(sim, "2");
    t.regex(lcd(sim)[1], /^Pattern 2 /);
    await keys(sim, "#");
    t.deepEqual((await sim.snapshot()).plan.periods, [{ start: "2026-04-16T21:30", end: "2026-04-16T23:30", pattern: 2, sensors: ["A0001"], cameras: 0 }]);
    // 0830 is past today: tomorrow (the end field then offers one hour later)
    await keys(sim, "C0830#");
    t.is((await ui(sim)).screen, "edit.end");
    t.regex(lcd(sim)[1], /^2026-04-17 09:30/);
  });
});

onBothEngines("a plan the card cannot pay: the estimate warns and saves only on a second #", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:10", async (sim) => {
    await plugKit(sim, ["A0001"]); // a plan bills only devices of the sensor table (issue #10)
    await install(sim);
    await sim.command("ui.card", { counts: 10 });
    await keys(sim, "A1234#");
    await keys(sim, "3#");
    await keys(sim, "#");
    t.regex(lcd(sim)[2], /^Card short by \d+ /, "line 3 says by how much");
    t.is(lcd(sim)[3], "Save anyway? #=yes  ");
    t.is((await sim.snapshot()).plan.periods.length, 0, "not saved yet");
    await keys(sim, "#");
    t.is((await sim.snapshot()).plan.periods.length, 1);
  });
});
