import { onBothEngines, PERIOD_1_PLAN, at } from "./helpers/engines";
import { insertCard, install, keys, lcd, plugKit, withUiSim } from "./helpers/ui-sim";
import { cardSlot } from "../host-sim/devices/card-slot";
import type { LcdPcf8574 } from "../host-sim/devices/lcd-pcf8574";

// The status screen's last line carries the other components' warnings (here the card's, issue
// #5) before the return date and the card's counts.

onBothEngines("status: card counts, then the card's low-credit warning, then its removal", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    t.teardown(await insertCard(sim, 20));
    await plugKit(sim);
    await install(sim);
    t.is((await sim.command("plan.set", { plan: PERIOD_1_PLAN })).ok, true);
    await sim.runUntil(at("2026-04-16T20:30"));
    t.is(lcd(sim)[0], "GUARDING   pattern 1");
    t.regex(lcd(sim)[3], /^Card low: \d+ left\s*$/, "20 counts do not cover the 28 the plan needs");
    cardSlot(sim).remove();
    await sim.advance(15_000);
    t.notRegex(lcd(sim)[3], /^Card low/);
    t.is(lcd(sim)[3].length, 20);
  });
});

onBothEngines("status: the return date shows in the last two days of the rental, and never without rental days", async (t, engine) => {
  await withUiSim(engine, "2026-04-10T09:00", async (sim) => {
    await plugKit(sim);
    await install(sim);
    t.is((await sim.command("plan.set", { plan: PERIOD_1_PLAN })).ok, true);
    t.is(lcd(sim)[3], "PIN set             ");
    await sim.runUntil(at("2026-04-14T23:30"));
    t.is(lcd(sim)[3], "No card             ", "a plan without rental days: the card line, no return date");
    t.is((await sim.command("plan.set", { plan: { ...PERIOD_1_PLAN, rental: { from: "2026-04-10T00:00", to: "2026-04-16T23:00" } } })).ok, true);
    await sim.advance(1000);
    t.is(lcd(sim)[3], "Return kit by 04-16 ");
  });
});

onBothEngines("the backlight goes off five minutes after the last key and a key lights it again", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    const lcdPlugin = sim.plugin<LcdPcf8574>("lcd");
    t.true(lcdPlugin.state().backlight);
    await install(sim);
    await sim.advance(299_000);
    t.true(lcdPlugin.state().backlight);
    await sim.advance(2_000);
    t.false(lcdPlugin.state().backlight);
    t.is(lcd(sim)[0], "Not guarding        ", "the text stays");
    await keys(sim, "B");
    t.true(lcdPlugin.state().backlight);
    t.is(lcd(sim)[0].slice(0, 5), "Setup", "the key also does its job");
  });
});
