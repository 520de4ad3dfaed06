import { onBothEngines, at } from "./helpers/engines";
import type { LcdPcf8574 } from "../host-sim/devices/lcd-pcf8574";
import { install, keys, lcd, newPeriod, plugKit, ui, withUiSim } from "./helpers/ui-sim";

// Every invalid input of issue #4 shows a message that fits the screen, is counted, and changes
// nothing: 30 February, end before start, overlap, a pattern that does not exist, nothing selected,
// a single contract with two periods; wrong PINs lock the PIN, across a power cut too.

// with the kit paired at setup: sensors 1 and 2, camera 1 picked from the table
const PERIOD_1_KEYS = ["202604162000#", "202604162300#", "1#", "12#", "1#", "3#", "#"];

onBothEngines("invalid plan input: a message on the LCD, counted, nothing changed", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await plugKit(sim, ["A0001"]); // one sensor and no camera in the table: cameras are typed as a count
    await install(sim);
    await newPeriod(sim);
    let refused = 0;
    const expectRefusal = async (typed: string, message: string, screen: string) => {
      const before = JSON.stringify((await sim.snapshot()).plan);
      await keys(sim, typed);
      const rows = lcd(sim);
      t.is(rows[3], message.padEnd(20), `${typed} → ${message}`);
      for (const r of rows) t.is(r.length, 20);
      const u = await ui(sim);
      t.is(u.refused, ++refused, `${typed} is counted`);
      t.is(u.screen, screen, `${typed} stays on ${screen}`);
      t.is(JSON.stringify((await sim.snapshot()).plan), before, `${typed} changes nothing`);
    };
    await expectRefusal("202602301200#", "No Feb 30", "edit.start");
    await expectRefusal("202702291200#", "No Feb 29", "edit.start");
    await expectRefusal("202613011200#", "No month 13", "edit.start");
    await expectRefusal("202604162400#", "No hour 24", "edit.start");
    await expectRefusal("202604162060#", "No minute 60", "edit.start");
    await expectRefusal("20260416#", "Type hhmm (12 digit)", "edit.start");
    await expectRefusal("202604161800#", "Start is past", "edit.start");
    t.is(lcd(sim)[1], "2026-04-16 20:00    ", "the field shows its value again");
    await keys(sim, "202604162000#");
    await expectRefusal("202604161900#", "End not after start", "edit.end");
    await expectRefusal("202604162000#", "End not after start", "edit.end");
    await keys(sim, "202604162300#");
    await expectRefusal("4#", "No pattern 4 (1-3)", "edit.pattern");
    await expectRefusal("0#", "No pattern 0 (1-3)", "edit.pattern");
    await keys(sim, "1#");
    await keys(sim, "#"); // no sensor picked
    await expectRefusal("17#", "At most 16 devices", "edit.cameras");
    await expectRefusal("0#", "Pick sensor/camera", "edit.cameras");
    // a camera the table does not have is not billed: the count is refused at its own field (the
    // core's parsePlan with the sensor table, through the terminal's estimate)
    await expectRefusal("1#", "Too few cameras", "edit.cameras");
    await keys(sim, "*"); // back to the sensors: pick A0001, no camera
    await keys(sim, "1#");
    await keys(sim, "0#");
    await expectRefusal("4#", "Contract is 1-3", "edit.contract");
    await keys(sim, "3#");
    t.is(lcd(sim)[1], "Pattern 1    252 yen", "3 h × 105 yen × 0.8");
    await keys(sim, "#");
    t.is((await sim.snapshot()).plan.periods.length, 1);

    // A second period overlapping the first.
    await keys(sim, "C");
    await keys(sim, "202604162200#");
    await expectRefusal("202604170100#", "Overlaps period 1", "edit.end");
    await expectRefusal("202604162230#", "Overlaps period 1", "edit.end");
    // one that starts before period 1 and runs into it: the refusal names period 1 as well
    await keys(sim, "*");
    await keys(sim, "202604161930#");
    await expectRefusal("202604162030#", "Overlaps period 1", "edit.end");
    // A second period that does not overlap, but under a single contract.
    await keys(sim, "*"); // back to the start
    await keys(sim, "202604170000#202604170100#1#1#0#"); // A0001 picked, no camera
    await expectRefusal("1#", "Single: one period", "edit.contract");
    // * walks back through the fields to the list: nothing was added.
    await keys(sim, "******");
    t.is((await ui(sim)).screen, "plan.list");
    t.is((await sim.snapshot()).plan.periods.length, 1);
  });
});

onBothEngines("keys that mean nothing on a screen are ignored and counted", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await install(sim);
    await newPeriod(sim);
    const before = (await ui(sim)).ignored;
    await keys(sim, "ABD");
    t.is((await ui(sim)).ignored, before + 3);
    t.is(lcd(sim)[0], "Period 1: start     ");
  });
});

onBothEngines("wrong PINs: tries left, then a lockout that a power cut does not lift", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await install(sim, "2468");
    await keys(sim, "A1111#");
    t.is(lcd(sim)[3], "Wrong PIN, 2 left   ");
    await keys(sim, "2222#");
    t.is(lcd(sim)[3], "Wrong PIN, 1 left   ");
    await keys(sim, "3333#");
    t.is(lcd(sim)[3], "Locked 5:00         ");
    await keys(sim, "2468#");
    t.regex(lcd(sim)[3], /^Locked 4:5\d/, "the right PIN is refused while locked");
    t.is((await ui(sim)).screen, "pin.ask");
    t.is(lcd(sim)[0], "② Enter PIN         ", "a padlock, the display's custom character 2");
    t.deepEqual(sim.plugin<LcdPcf8574>("lcd").state().cgram[2], [0x0e, 0x11, 0x11, 0x1f, 0x1b, 0x1b, 0x1f, 0x00]);
    t.is((await sim.snapshot()).ui.pin.set, true);

    await sim.powerCut();
    await sim.powerOn();
    await sim.settle();
    t.is((await ui(sim)).screen, "status", "setup and PIN survive the power cut");
    await keys(sim, "A2468#");
    t.regex(lcd(sim)[3], /^Locked 4:\d\d/);
    // Three more wrong ones after the lockout: the second lockout lasts twice as long.
    await sim.runUntil(at("2026-04-16T19:06"));
    await keys(sim, "*A1111#2222#3333#");
    t.is(lcd(sim)[3], "Locked 10:00        ");
    await sim.runUntil(at("2026-04-16T19:17"));
    await keys(sim, "*A2468#");
    t.is((await ui(sim)).screen, "plan.list", "unlocked once the lockout is over");
  });
});

onBothEngines("the PIN is stored hashed: no trace of it in flash", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await install(sim, "97531864");
    const flash = JSON.stringify(sim.flash);
    t.false(flash.includes("97531864"));
    t.is((await ui(sim)).pin.set, true);
  });
});

onBothEngines("PIN entry refuses a short PIN and a repeat that differs", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await keys(sim, "#");
    await keys(sim, "123#");
    t.is(lcd(sim)[3], "PIN is 4-8 digits   ");
    await keys(sim, "1234#1243#");
    t.is(lcd(sim)[3], "PINs differ: again  ");
    t.is((await ui(sim)).screen, "pin.new");
    t.false((await ui(sim)).pin.set);
  });
});

onBothEngines("idle: back to status after a minute, and the PIN is asked again", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await install(sim);
    await newPeriod(sim);
    await keys(sim, "20260416");
    t.is((await ui(sim)).screen, "edit.start");
    await sim.advance(61_000);
    t.is((await ui(sim)).screen, "status");
    t.is((await sim.snapshot()).plan.periods.length, 0, "the half-typed period is dropped");
    await keys(sim, "A");
    t.is((await ui(sim)).screen, "pin.ask");
  });
});

onBothEngines("disarming while guarding needs the PIN and ends the period now", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await plugKit(sim);
    await install(sim);
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    await keys(sim, "*D"); // from the plan list to status, then D
    t.is(lcd(sim)[3], "Not guarding now    ");
    await sim.runUntil(at("2026-04-16T21:00"));
    t.is(lcd(sim)[0], "GUARDING   pattern 1");
    await keys(sim, "D"); // D, the PIN, #
    t.is((await ui(sim)).screen, "pin.ask");
    t.is(lcd(sim)[2], "to disarm           ");
    await keys(sim, "1234#");
    const snap = await sim.snapshot();
    t.false(snap.guarding);
    t.regex(snap.plan.periods[0].end, /^2026-04-16T21:00/);
    t.is(lcd(sim)[0], "Not guarding  plan 1");
    t.is(lcd(sim)[3], "Disarmed            ");
    t.true(snap.owedYen >= 96 && snap.owedYen <= 97, `1 h × 120 × 0.8 = 96, got ${snap.owedYen}`);
  });
});

onBothEngines("a plan changed elsewhere (the center) while a period is edited: the edit is refused", async (t, engine) => {
  await withUiSim(engine, "2026-04-16T19:00", async (sim) => {
    await plugKit(sim);
    await install(sim);
    await newPeriod(sim);
    for (const k of PERIOD_1_KEYS) await keys(sim, k);
    await keys(sim, "#"); // edit period 1
    await keys(sim, "#202604162330#2####"); // up to the estimate
    t.is((await ui(sim)).screen, "estimate");
    const other = { contract: "continuous", periods: [{ start: "2026-04-18T20:00", end: "2026-04-18T22:00", pattern: 3, sensors: 1, cameras: 0 }] };
    t.true((await sim.command("plan.set", { plan: other })).ok);
    await keys(sim, "#");
    t.is(lcd(sim)[3], "Plan changed: redo  ");
    const stored = { contract: "continuous", periods: [{ ...other.periods[0], sensors: ["A0001"] }] }; // its count took A0001
    t.deepEqual((await sim.snapshot()).plan, stored, "the plan set elsewhere stands");
  });
});
