import { cardSlot } from "../host-sim/devices/card-slot";
import { onBothEngines, at } from "./helpers/engines";
import { insertCard, install, keys, lcd, newPeriod, plugKit, ui, withUiSim } from "./helpers/ui-sim";

// DESIGN §2 period 1 entered by keys on the emulated keypad, read back from the emulated LCD:
// 3 hours, 288 yen, 28 counts; with a 472-count card, 444 left. On XS and on Node.

// The kit (A0001, A0002, B0001, B0002) is paired at setup: sensors 1 and 2 and camera 1 are picked.
const PERIOD_1_KEYS = ["202604162000#", "202604162300#", "1#", "12#", "1#", "3#"];
const PERIOD_1_STORED = {
  contract: "continuous",
  periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }],
};

onBothEngines("period 1 of DESIGN §2 by keys: 3h, 288 yen, 28 counts, 444 left of a 472-count card", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    t.deepEqual(lcd(sim), ["Setup               ", "no sensors yet      ", "                    ", "#=OK  C=search      "]);
    // A real MIFARE card with 472 counts in the emulated PN532's field (the card's work, issue #5).
    t.teardown(await insertCard(sim, 472));
    await plugKit(sim);
    await install(sim);
    t.is(lcd(sim)[3], "PIN set             ");
    t.is((await ui(sim)).screen, "status");
    t.is(lcd(sim)[1], "A=enter a plan      ");
    await newPeriod(sim);
    t.deepEqual(lcd(sim).slice(0, 2), ["Period 1: start     ", "2026-04-16 20:00    "], "the next whole hour is offered");
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    t.deepEqual(lcd(sim), ["04-16 20:00 for 3h  ", "Pattern 1    288 yen", "28 counts, 444 left ", "#=save  *=back      "]);
    t.deepEqual((await sim.snapshot()).plan.periods, [], "nothing is stored before OK");
    await keys(sim, "#");
    t.deepEqual(lcd(sim), ["Plan (1)     288 yen", ">1 04-16 20:00 3h   ", "Pattern 1     #=edit", "Plan saved          "]);
    const snap = await sim.snapshot();
    t.deepEqual(snap.plan, PERIOD_1_STORED);
    t.is(snap.ui.refused, 0);

    // Guarded as planned, billed as estimated.
    await sim.runUntil(at("2026-04-16T21:30"));
    t.is(lcd(sim)[0], "GUARDING   pattern 1");
    t.is(lcd(sim)[1], "Until 04-16 23:00   ");
    t.is(lcd(sim)[2], "Fee 144 yen         ", "1.5 h × 120 yen × 0.8, redrawn while guarding");
    await sim.runUntil(at("2026-04-17T00:00"));
    const after = await sim.snapshot();
    t.is(after.owedYen, 288);
    t.is(after.countsDue, 28);
    t.is(cardSlot(sim).physical().counts, 444, "collected from the card as estimated");
    t.is(lcd(sim)[0], "Not guarding  plan 1");
    t.is(lcd(sim)[2], "Fee 288 yen         ");
  });
});

onBothEngines("without a card the estimate shows the counts needed only", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await plugKit(sim);
    await install(sim); // the card reader is there, its slot empty
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    t.deepEqual(lcd(sim).slice(0, 3), ["04-16 20:00 for 3h  ", "Pattern 1    288 yen", "28 counts (no card) "]);
  });
});

onBothEngines("the second period of the worked example: its own yen and the plan's total", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    t.teardown(await insertCard(sim, 472));
    await plugKit(sim);
    await install(sim);
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    await keys(sim, "#");
    await keys(sim, "C");
    for (const k of ["202604271200#", "202605051200#", "3#", "12#", "12#", "#"]) await keys(sim, k);
    t.deepEqual(lcd(sim), ["04-27 12:00 for 192h", "Pattern 3  50688 yen", "Card short by 4625  ", "All 50976 yen #=save"]);
    await keys(sim, "#"); // the card cannot pay it: a warning first, then # again saves
    t.is(lcd(sim)[3], "Save anyway? #=yes  ");
    t.is((await sim.snapshot()).plan.periods.length, 1);
    await keys(sim, "#");
    t.deepEqual(lcd(sim).slice(0, 3), ["Plan (2)   50976 yen", ">2 04-27 12:00 192h ", "Pattern 3     #=edit"], "the saved period, its pattern in words");
    await keys(sim, "A"); // up: the first period, and every key of the list in words
    t.deepEqual(lcd(sim), ["Plan (2)   50976 yen", ">1 04-16 20:00 3h   ", "Pattern 1     #=edit", "A/B C=add D=delete  "]);
    const snap = await sim.snapshot();
    t.is(snap.plan.periods.length, 2);
  });
});

onBothEngines("editing a period: # keeps each value, the change is saved in place", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await plugKit(sim);
    await install(sim);
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    await keys(sim, "#");
    await keys(sim, "#"); // edit the selected period
    t.deepEqual(lcd(sim).slice(0, 2), ["Period 1: start     ", "2026-04-16 20:00    "]);
    await keys(sim, "#"); // keep the start
    await keys(sim, "202604162330#"); // a new end
    await keys(sim, "2#"); // pattern 2
    await keys(sim, "###"); // sensors, cameras, contract as they were
    t.is(lcd(sim)[1], "Pattern 2    616 yen", "3.5 h × 220 yen × 0.8");
    await keys(sim, "#");
    const p = (await sim.snapshot()).plan.periods;
    t.deepEqual(p, [{ start: "2026-04-16T20:00", end: "2026-04-16T23:30", pattern: 2, sensors: ["A0001", "A0002"], cameras: ["B0001"] }]);
  });
});

onBothEngines("deleting a period asks first; * keeps it", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await plugKit(sim);
    await install(sim);
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    await keys(sim, "#");
    await keys(sim, "D");
    t.is(lcd(sim)[0], "Delete period 1?    ");
    await keys(sim, "*");
    t.is((await sim.snapshot()).plan.periods.length, 1);
    await keys(sim, "D#");
    t.is(lcd(sim)[3], "Period 1 deleted    ");
    t.is((await sim.snapshot()).plan.periods.length, 0);
  });
});

onBothEngines("the ui.card stand-in (runs without a card reader) shows the same counts", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await sim.command("ui.card", { counts: 472 });
    await plugKit(sim);
    await install(sim);
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    t.is(lcd(sim)[2], "28 counts, 444 left ");
    await t.throwsAsync(sim.command("ui.card", { counts: "many" }), { message: /counts must be an integer or null/ });
  });
});
