// The sensor link end to end, on both engines: simulated sensors and cameras on the emulated
// radio, the firmware's sensor hub under XS and under Node.
import { at, onBothEngines, withSim } from "./helpers/engines";
import type { Simulator } from "../host-sim/simulator";
import { LINK, SimCamera, buildFrame, sensorField } from "../host-sim/devices/sensors";
import { Attacker } from "../host-sim/devices/attacker";

const PLAN = {
  contract: "continuous",
  periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }],
};

/** Plugs in the kit and confirms it, as a family does at installation. */
async function install(sim: Simulator, ids = ["A0001", "A0002", "B0001"], heartbeatSeconds?: number) {
  const field = sensorField(sim);
  for (const id of ids) field.add(id, { heartbeatSeconds });
  await sim.advance(5_000);
  const pending = await sim.snapshot();
  const confirmed = await sim.command("pairing.confirm");
  return { field, pending, confirmed };
}

const row = (id: string, type: string, connected = true) => ({ id, type, connected, operating: connected, battery: "ok" });
const table = (s: any) => s.sensors.map((r: any) => ({ id: r.id, type: r.type, connected: r.connected, operating: r.operating, battery: r.battery }));

onBothEngines("plug and play: A0001, A0002, B0001 announce, wait for the OK, then form the sensor table", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { pending, confirmed } = await install(sim);
    t.deepEqual(pending.pairing.pending, ["A0001", "A0002", "B0001"], "all three wait for the user's OK");
    t.deepEqual(pending.sensors, [], "nothing is in the table before the OK");
    t.deepEqual(confirmed, { ok: true, registered: ["A0001", "A0002", "B0001"] });
    const s = await sim.snapshot();
    t.deepEqual(table(s), [row("A0001", "intrusion"), row("A0002", "intrusion"), row("B0001", "camera")]);
    t.false(s.pairing.open, "the OK closes the window");
    t.is(s.sensorLink.rejected.mac + s.sensorLink.rejected.crc + s.sensorLink.rejected.replay, 0);
    // the table survives a power cut
    await sim.powerCut();
    await sim.powerOn();
    t.deepEqual(table(await sim.snapshot()), [row("A0001", "intrusion"), row("A0002", "intrusion"), row("B0001", "camera")]);
    // low battery is reported and shown
    sensorField(sim).get("A0002").setBattery(true);
    await sim.advance(1_000);
    t.is((await sim.snapshot()).sensors[1].battery, "low");
  });
});

onBothEngines("a sensor added later joins only through the pairing window and the user's OK", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim);
    const refused = await sim.command("plan.set", { plan: { contract: "single", periods: [{ ...PLAN.periods[0], sensors: ["A0001", "D0001"] }] } });
    t.like(refused, { ok: false, field: "periods[0].sensors[1]" }, "the plan may only choose devices in the sensor table");
    field.add("D0001", { heartbeatSeconds: 60 });
    await sim.advance(5_000);
    let s = await sim.snapshot();
    t.is(s.sensors.length, 3, "outside the window a newcomer is not heard");
    t.true(s.sensorLink.rejected.unknown >= 1);
    t.deepEqual(await sim.command("pairing.confirm"), { ok: false, field: "pairing", error: "no new sensor is waiting for confirmation" });
    t.like(await sim.command("pairing.open"), { ok: true });
    await sim.advance(61_000); // it announces itself again on its next beat
    s = await sim.snapshot();
    t.deepEqual(s.pairing.pending, ["D0001"]);
    t.is(s.sensors.length, 3, "not before the OK");
    t.deepEqual(await sim.command("pairing.confirm"), { ok: true, registered: ["D0001"] });
    s = await sim.snapshot();
    t.deepEqual(s.sensors[3], { ...row("D0001", "door"), armed: false, tamper: false });
    t.deepEqual(await sim.command("plan.set", { plan: { contract: "single", periods: [{ ...PLAN.periods[0], sensors: ["A0001", "D0001"] }] } }), { ok: true });
  });
});

onBothEngines("supervision while guarding: an unplugged sensor is lost within 3 minutes (a trouble event, 381), billing stops, and it returns", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim, undefined, 120);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:30"));
    field.get("A0002").unplug();
    const unplugged = sim.clock.now;
    // guarding: every armed sensor is asked for a sign of life each minute (guardCheckSeconds);
    // two unanswered + 30 s grace: lost 90 to 150 s after the unplug
    await sim.advance(80_000);
    t.true((await sim.snapshot()).sensors[1].connected, "still within its supervision time");
    await sim.advance(100_000);
    const s = await sim.snapshot();
    t.deepEqual(table(s)[1], row("A0002", "intrusion", false));
    const down = s.sensorLog.find((l: any) => l.id === "A0002" && l.event === "disconnected");
    t.truthy(down, "recorded");
    t.true(sim.clock.now - unplugged <= 180_000);
    t.like(s.alarms[s.alarms.length - 1], { kind: "trouble", sensor: "A0002", contactId: 381, silent: true });
    await sim.runUntil(at("2026-04-16T21:30"));
    field.add("A0002"); // plugged back in
    await sim.advance(5_000);
    const back = await sim.snapshot();
    t.deepEqual(table(back)[1], row("A0002", "intrusion"));
    t.true(back.sensors[1].armed, "re-armed: the period is running");
    t.truthy(back.sensorLog.find((l: any) => l.id === "A0002" && l.event === "connected"));
    await sim.runUntil(at("2026-04-16T23:30"));
    const end = await sim.snapshot();
    const p = end.periods[end.periods.length - 1];
    // 120 yen/h for 3 h is 360; A0002 (5 yen/h) was not billed for about an hour
    t.true(p.baseYen < 360 && p.baseYen >= 354, `base ${p.baseYen}`);
  });
});

function isJpeg(b: Buffer): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b.includes(Buffer.from([0xff, 0xc0])) && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

onBothEngines("a trip in a guarded period: an alarm, a capture, and a media unit with 3 JPEGs and the clip", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:30"));
    field.get("A0001").trip();
    await sim.advance(30_000);
    const s = await sim.snapshot();
    t.is(s.alarms.length, 1);
    t.like(s.alarms[0], { seq: 1, kind: "intrusion", sensor: "A0001", guarded: true, pattern: 1, media: 1, at: "2026-04-16T20:30" });
    t.is(s.media.length, 1);
    const unit = s.media[0];
    t.like(unit, { id: 1, alarm: 1, open: false, complete: true });
    t.deepEqual(unit.files.map((f: any) => [f.name, f.kind]), [
      ["B0001-1.jpg", "jpeg"],
      ["B0001-2.jpg", "jpeg"],
      ["B0001-3.jpg", "jpeg"],
      ["B0001.wav", "wav"],
    ]);
    const cam = field.get("B0001") as SimCamera;
    t.is(cam.stats.captures, 1);
    for (let k = 0; k < 4; k++) {
      const stored = Buffer.from(await sim.command("media.read", { unit: 1, file: k }), "hex");
      t.deepEqual(stored, Buffer.from(cam.sentFiles[k].bytes), `file ${k} arrived whole`);
      if (k < 3) t.true(isJpeg(stored), "a baseline JPEG");
      else t.is(stored.subarray(0, 4).toString("ascii") + stored.subarray(8, 12).toString("ascii"), "RIFFWAVE");
    }
    // the media unit survives a power cut, ready for the link
    await sim.powerCut();
    await sim.powerOn();
    t.like((await sim.snapshot()).media[0], { id: 1, complete: true });
  });
});

onBothEngines("a trip outside a guarded period yields nothing, unless it is a 24-hour zone (with images)", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim, ["A0001", "B0001", "C0001"]);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN.periods && { contract: "single", periods: [{ ...PLAN.periods[0], sensors: ["A0001"] }] } }), { ok: true });
    await sim.advance(60_000);
    field.get("A0001").trip();
    await sim.advance(10_000);
    let s = await sim.snapshot();
    t.deepEqual(s.alarms, []);
    t.deepEqual(s.media, []);
    t.is(s.sensorLink.ignoredDetects, 1);
    t.is((field.get("B0001") as SimCamera).stats.captures, 0);
    field.get("C0001").trip(); // smoke: a 24-hour zone
    await sim.advance(10_000);
    s = await sim.snapshot();
    t.is(s.alarms.length, 1);
    t.like(s.alarms[0], { kind: "fire", sensor: "C0001", guarded: false, media: 1, contactId: 110 });
    t.is((field.get("B0001") as SimCamera).stats.captures, 1, "a 24-hour alarm gets images outside guarding too");
    field.get("A0001").setTamper(true); // tamper: a 24-hour zone too
    await sim.advance(10_000);
    s = await sim.snapshot();
    t.like(s.alarms[1], { kind: "tamper", sensor: "A0001", guarded: false, contactId: 137 });
    t.like(s.media[0], { id: 1, alarm: 1, complete: true });
  });
});

onBothEngines("forged, replayed, truncated, oversized and bad-CRC frames are refused, counted, and change nothing", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim);
    const mallory = new Attacker(field.radio);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:10"));
    field.get("A0002").unplug(); // a real alarm needs a real detect; heartbeats are what we capture
    await sim.advance(2_000);
    const before = await sim.snapshot();
    const heartbeat = mallory.captured("A0001", LINK.MSG.HEARTBEAT).pop() as Uint8Array;
    t.truthy(heartbeat, "the attacker heard a heartbeat");
    const detect = new Uint8Array([LINK.EVENT.DETECT, LINK.STATE.DETECT, 100, 1]);
    const cases: Array<[string, () => void]> = [
      ["mac", () => mallory.forge("A0001", LINK.MSG.EVENT, detect)],
      ["replay", () => mallory.replay(heartbeat)],
      ["truncated", () => mallory.truncate(heartbeat, 9)],
      ["oversized", () => mallory.oversized("A0001")],
      ["crc", () => mallory.corrupt(heartbeat)],
      ["mac", () => mallory.forge("A0002", LINK.MSG.HEARTBEAT, new Uint8Array([0, 100]))], // a silent sensor kept alive by a forger
    ];
    const counts = { ...before.sensorLink.rejected };
    for (const [why, attack] of cases) {
      attack();
      await sim.advance(1_000);
      const s = await sim.snapshot();
      counts[why]++;
      t.deepEqual(s.sensorLink.rejected, counts, `${why} counted once`);
      t.deepEqual(s.alarms, before.alarms, `${why}: no alarm`);
      t.deepEqual(s.media, before.media);
      t.deepEqual(table(s), table(before), `${why}: the table is unchanged`);
      t.is(s.sensorLink.accepted, before.sensorLink.accepted, `${why}: nothing accepted`);
    }
    // the replay guard survives a power cut: counters are in storage
    await sim.powerCut();
    await sim.powerOn();
    mallory.replay(heartbeat);
    await sim.advance(1_000);
    const after = await sim.snapshot();
    t.is(after.sensorLink.rejected.replay, 1, "replayed after a reboot: still refused");
    t.deepEqual(after.alarms, []);
    // the link still works for the real sensor
    field.get("A0001").trip();
    await sim.advance(30_000);
    t.like((await sim.snapshot()).alarms[0], { kind: "intrusion", sensor: "A0001" });
  });
});

onBothEngines("Wi-Fi: a camera on UDP joins the table, and its capture arrives as media over TCP", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const field = sensorField(sim);
    field.add("A0001");
    const cam = field.add("B0002", { wifi: true }) as SimCamera;
    await sim.advance(5_000);
    t.deepEqual((await sim.snapshot()).pairing.pending, ["A0001", "B0002"]);
    t.like(await sim.command("pairing.confirm"), { ok: true });
    const plan = { contract: "single", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 2, sensors: ["A0001"], cameras: ["B0002"] }] };
    t.deepEqual(await sim.command("plan.set", { plan }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:30"));
    t.true((await sim.snapshot()).sensors[1].connected, "its UDP heartbeats keep it connected");
    // someone on the LAN sends a datagram in its name, and an oversized one
    const lan = sim.io.lan;
    const forged = buildFrame({ toSensor: false, type: LINK.MSG.EVENT, id: "A0001", counter: 1 << 30, payload: new Uint8Array([1, 1, 100, 1]) }, new Uint8Array(16));
    lan.sendUdp(["192.168.4.66", 5555], ["192.168.4.1", 47800], forged);
    lan.sendUdp(["192.168.4.66", 5555], ["192.168.4.1", 47800], new Uint8Array(400).fill(0xa5));
    await sim.advance(1_000);
    const s0 = await sim.snapshot();
    t.is(s0.sensorLink.rejected.mac, 1);
    t.is(s0.sensorLink.rejected.oversized, 1);
    t.deepEqual(s0.alarms, []);
    field.get("A0001").trip();
    await sim.advance(30_000);
    const s = await sim.snapshot();
    t.like(s.alarms[0], { kind: "intrusion", sensor: "A0001", guarded: true, pattern: 2, media: 1 });
    t.like(s.media[0], { complete: true });
    t.deepEqual(s.media[0].files.map((f: any) => f.name), ["B0002-1.jpg", "B0002-2.jpg", "B0002-3.jpg", "B0002.wav"]);
    t.is((cam as any).connections, 4, "one TCP connection per file");
    for (let k = 0; k < 4; k++) {
      const stored = Buffer.from(await sim.command("media.read", { unit: 1, file: k }), "hex");
      t.deepEqual(stored, Buffer.from(cam.sentFiles[k].bytes));
    }
  });
});

onBothEngines("a power cut in the middle of a capture: the unit is closed as incomplete, its stray parts deleted, the next capture works", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:30"));
    (field.get("B0001") as SimCamera).clipMs = 500; // 4 KB: two 2 KB parts
    field.get("A0001").trip();
    // the three images are in; the clip is halfway: its first part is written
    await sim.advance(7_000);
    const during = await sim.snapshot();
    t.like(during.media[0], { id: 1, open: true });
    t.is(during.media[0].files.length, 3);
    t.true(sim.flash.keys("timeguard").some((k) => k.startsWith("mp1_3_0")), "a part of the unfinished clip is in flash");
    await sim.powerCut();
    await sim.advance(20_000); // the camera goes on sending into a dead terminal
    await sim.powerOn();
    const after = await sim.snapshot();
    t.like(after.media[0], { id: 1, open: false, complete: false });
    t.is(after.media[0].files.length, during.media[0].files.length, "what was whole is kept");
    const n = after.media[0].files.length;
    const keys = sim.flash.keys("timeguard");
    t.true(keys.some((k) => k.startsWith(`mp1_${n - 1}_`)), "the whole files' parts stay");
    t.false(keys.some((k) => k.startsWith(`mp1_${n}_`)), "the interrupted file's parts are gone");
    const first = Buffer.from(await sim.command("media.read", { unit: 1, file: 0 }), "hex");
    t.deepEqual(first, Buffer.from((field.get("B0001") as SimCamera).sentFiles[0].bytes));
    t.like(after.alarms[0], { seq: 1, media: 1 });
    await sim.advance(300_000); // the sensors have spoken since: supervision is happy
    field.get("A0002").trip();
    await sim.advance(30_000);
    const next = await sim.snapshot();
    t.like(next.alarms[1], { seq: 2, sensor: "A0002", media: 2 });
    t.like(next.media[1], { id: 2, complete: true });
    t.is(next.media[1].files.length, 4);
  });
});

onBothEngines("a detect lost on the air is repeated until answered; a repeat whose answer was lost makes no second alarm", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:30"));
    const a1 = field.get("A0001");
    field.radio.dropToFirmware = 1; // the detect itself is lost
    a1.trip();
    await sim.advance(30_000);
    let s = await sim.snapshot();
    t.is(s.alarms.length, 1, "the repeat got through");
    t.like(s.alarms[0], { kind: "intrusion", sensor: "A0001" });
    t.is(a1.stats.eventRepeats, 1);
    t.is(s.sensorLink.repeatedEvents, 0, "the terminal saw it once");
    // now the terminal hears the detect but its answer is lost: the sensor repeats it
    const a2 = field.get("A0002");
    await sim.advance(60_000);
    field.radio.dropFromFirmware = 1;
    a2.trip();
    await sim.advance(30_000);
    s = await sim.snapshot();
    t.is(s.alarms.length, 2, "one alarm for the one detect");
    t.like(s.alarms[1], { kind: "intrusion", sensor: "A0002", media: 2 });
    t.is(s.sensorLink.repeatedEvents, 1, "the repeat was recognised");
    t.is(a2.stats.eventRepeats, 1);
    t.is(field.radio.dropped, 2);
  });
});

onBothEngines("a CAPTURE lost on the air is sent again; a repeated CAPTURE does not capture twice", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const { field } = await install(sim);
    t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
    await sim.runUntil(at("2026-04-16T20:30"));
    const cam = field.get("B0001") as SimCamera;
    // the terminal's next two transmissions are lost: its answer to the detect, then the CAPTURE
    field.radio.dropFromFirmware = 2;
    field.get("A0001").trip();
    await sim.advance(40_000);
    const s = await sim.snapshot();
    t.is(s.alarms.length, 1);
    t.is(s.sensorLink.captureRepeats, 1, "CAPTURE was sent again");
    t.is(cam.stats.captures, 1);
    t.like(s.media[0], { id: 1, complete: true });
    t.is(s.media[0].files.length, 4);
    // and when only the camera's answer is lost, the repeat is answered but not captured again
    await sim.advance(60_000);
    field.radio.dropToFirmware = 0;
    const before = cam.stats.captures;
    const origTransmit = field.radio.transmit.bind(field.radio);
    let dropAnswer = true;
    field.radio.transmit = (from, bytes) => {
      // the camera's first RESPONSE (to the CAPTURE) vanishes
      if (dropAnswer && from === cam && bytes[4] === LINK.MSG.RESPONSE) {
        dropAnswer = false;
        return;
      }
      origTransmit(from, bytes);
    };
    field.get("A0002").trip();
    await sim.advance(40_000);
    const s2 = await sim.snapshot();
    t.is(s2.sensorLink.captureRepeats, 2);
    t.is(cam.stats.captures, before + 1, "captured once");
    t.like(s2.media[1], { id: 2, complete: true });
    t.is(s2.media[1].files.length, 4);
  });
});
