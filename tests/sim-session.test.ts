import test from "ava";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { sensorField } from "../host-sim/devices/sensors";
import { captureSession, MAX_SESSION_BYTES, parseSession, restoreSession, SessionError, sessionToJson } from "../host-sim/session";
import type { Simulator } from "../host-sim/simulator";
import { PERIOD_1_PLAN, at, bothEngines, cardConfig, newCard, tempDir, withCardSim } from "./helpers/card-sim";

const SAVE_AT = at("2026-04-16T21:17") + 23_000;
const TRIP_AT = at("2026-04-16T22:00");
const END = at("2026-04-16T23:30");

/** What the evening left: the bill, the card, the sensors and the alarm the trip raised. */
async function outcome(sim: Simulator): Promise<Record<string, unknown>> {
  const s = await sim.snapshot();
  return {
    owedYen: s.owedYen,
    countsDue: s.countsDue,
    periods: s.periods.map((p: any) => ({ start: p.start, end: p.end, feeYen: p.feeYen, guardedSeconds: p.guardedSeconds })),
    taken: s.card.taken,
    onCard: s.cardSlot.counts,
    sensors: s.sensors.map((x: any) => x.id).sort(),
    alarms: s.alarms.map((a: any) => ({ sensor: a.sensor, kind: a.kind })),
  };
}

async function evening(sim: Simulator, from: number): Promise<Record<string, unknown>> {
  if (from < TRIP_AT) {
    await sim.runUntil(TRIP_AT);
    sensorField(sim).get("A0001").trip();
  }
  await sim.runUntil(END);
  return outcome(sim);
}

bothEngines("a session saved mid-period and restored in another simulator (days later on its clock) goes on exactly as the original", async (t, engine) => {
  const dir = tempDir();
  try {
    let saved = "";
    let original: Record<string, unknown> = {};
    await withCardSim(engine, { start: "2026-04-16T19:00", config: cardConfig({}) }, async ({ sim, slot }) => {
      await sim.command("plan.set", { plan: PERIOD_1_PLAN });
      slot.insert(newCard(dir, 472));
      await sim.runUntil(SAVE_AT);
      t.true((await sim.snapshot()).guarding);
      saved = sessionToJson(await captureSession(sim));
      original = await evening(sim, SAVE_AT);
    });
    t.true((original.owedYen as number) > 0);
    t.is((original.alarms as unknown[]).length, 1, "the trip raised one alarm");

    // A second simulator, its clock four days on, with nothing of the first: restored from the file.
    await withCardSim(engine, { start: "2026-04-20T09:00", config: cardConfig({}), kit: false }, async ({ sim }) => {
      await restoreSession(sim, parseSession(saved), join(dir, "restored-card.json"));
      t.is(sim.clock.now, SAVE_AT, "the clock travels with the terminal: back to the saved instant");
      await sim.settle();
      const snap = await sim.snapshot();
      t.true(snap.guarding, "guarding the same period again");
      t.is(snap.cardSlot.counts, 472 - snap.card.taken, "the card in the slot is the saved card");
      t.deepEqual(await evening(sim, SAVE_AT), original, "the same bill, card and alarm as the run that was never saved");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("[node] a restored session replaces the sensors and the card the simulator had; an unplugged sensor stays unplugged", async (t) => {
  const dir = tempDir();
  try {
    let saved = "";
    await withCardSim("node", { start: "2026-04-16T19:00", config: cardConfig({}) }, async ({ sim }) => {
      sensorField(sim).get("B0001").unplug();
      saved = sessionToJson(await captureSession(sim));
    });
    await withCardSim("node", { start: "2026-04-16T19:00", config: cardConfig({}), kit: false }, async ({ sim, slot }) => {
      sensorField(sim).add("C0007");
      slot.insert(newCard(dir, 100));
      await restoreSession(sim, parseSession(saved), join(dir, "restored.json"));
      const ids = sensorField(sim).devices().map((d) => d.id);
      t.false(ids.includes("C0007"), "a sensor the session never had is gone");
      t.true(ids.includes("A0001"));
      t.false(sensorField(sim).get("B0001").powered, "unplugged when saved, unplugged when restored");
      t.is(slot.card, null, "the session had no card: the slot is empty");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a session file from outside is checked field by field, sizes first", (t) => {
  const good = {
    format: "timeguard-sim-session/1",
    clockMs: 1_776_000_000_000,
    flash: [{ domain: "tg", key: "plan", t: "s", v: "{}" }],
    devices: [{ id: "A0001", heartbeatSeconds: 600, wifi: false, key: null, memory: { counter: 5, terminalCounter: 2, eventNumber: 1 }, powered: true, lowBattery: false, tamper: false }],
    card: null,
  };
  t.is(parseSession(JSON.stringify(good)).devices[0].memory.counter, 5);
  const bad = (patch: (o: any) => void, message: RegExp) => {
    const o = structuredClone(good) as any;
    patch(o);
    t.throws(() => parseSession(JSON.stringify(o)), { instanceOf: SessionError, message });
  };
  t.throws(() => parseSession("x".repeat(MAX_SESSION_BYTES + 1)), { instanceOf: SessionError, message: /at most/ });
  t.throws(() => parseSession("{"), { instanceOf: SessionError, message: /not JSON/ });
  bad((o) => (o.format = "other/1"), /format must be/);
  bad((o) => (o.clockMs = -1), /clockMs/);
  bad((o) => o.flash.push({ ...o.flash[0] }), /appears twice/);
  bad((o) => (o.flash[0].t = "x"), /\.t must be/);
  bad((o) => (o.flash[0] = { domain: "tg", key: "n", t: "i", v: 2 ** 40 }), /32-bit integer/);
  bad((o) => (o.flash[0] = { domain: "tg", key: "a", t: "a", v: "zz" }), /hex/);
  bad((o) => (o.flash[0].domain = ""), /domain must be/);
  bad((o) => (o.flash = new Array(5000).fill(o.flash[0])), /at most 4096/);
  bad((o) => (o.devices[0].id = "X1"), /ID code/);
  bad((o) => (o.devices[0].memory.counter = -3), /memory needs/);
  bad((o) => (o.devices[0].wifi = true), /only cameras/);
  bad((o) => (o.devices[0].key = "12"), /key must be/);
  bad((o) => (o.card = { uid: "01020304", memory: "00", issuer: {} }), /card.memory/);
});
