import test, { type ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachBuzzer } from "../host-sim/devices/buzzer";
import { cardSlot } from "../host-sim/devices/card-slot";
import { attachKeypad } from "../host-sim/devices/keypad-matrix";
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { sensorField } from "../host-sim/devices/sensors";
import type { EngineName } from "../host-sim/engines/engine";
import { issueDemoCard } from "../host-sim/kit";
import { parseScript, runScript } from "../host-sim/script";
import { Simulator } from "../host-sim/simulator";

// The simulator's batched stepping (one round trip per host event, the firmware running its own
// timers up to the host's next event) against the reference it replaced (a round trip for the
// events and one for the timers at every event): the firmware must see the same host calls, in the
// same order, at the same virtual instants. A key typed right after another action, a door's entry
// delay and the duress PIN are where a firmware clock running past the host's next event lost
// keypad presses (the PIN never stored, the duress alarm never raised).

const PLAN = {
  contract: "multiple",
  periods: [
    { start: "2026-04-16T20:00", end: "2026-04-16T21:00", pattern: 3, sensors: ["D0001", "A0001"], cameras: ["B0001"] },
    { start: "2026-04-16T21:20", end: "2026-04-16T23:00", pattern: 3, sensors: ["D0001", "A0001"], cameras: ["B0001"] },
  ],
};

function script(cardFile: string) {
  return parseScript({
    start: "2026-04-16T19:00",
    actions: [
      { do: "sensor.add", type: "door", id: "D0001" },
      { do: "sensor.add", type: "intrusion", id: "A0001" },
      { do: "sensor.add", type: "camera", id: "B0001" },
      { do: "card.insert", file: cardFile },
      { do: "wait", for: "1m" },
      // the setup's # and the PIN typed at once after it: the PIN must be stored
      { do: "keys", seq: "#" },
      { do: "keys", seq: "1234#1234#" },
      { do: "snapshot", label: "pin set" },
      { do: "plan.set", plan: PLAN },
      { at: "2026-04-16T20:00:20", do: "snapshot", label: "exit delay" },
      { at: "2026-04-16T20:30", do: "sensor.trip", id: "D0001" },
      { do: "wait", for: "10s" },
      { do: "snapshot", label: "entry delay" },
      { do: "keys", seq: "D1234#" },
      { do: "snapshot", label: "disarmed" },
      { at: "2026-04-16T21:30", do: "sensor.trip", id: "A0001" },
      { do: "wait", for: "1m" },
      { do: "keys", seq: "D1235#" },
      { do: "snapshot", label: "duress" },
      { do: "wait", for: "2h" },
      { do: "snapshot", label: "end" },
    ],
  });
}

/** A terminal with only its LCD and keypad: every call to the absent card reader fails (a NACK). */
const BARE = parseScript({
  start: "2026-04-16T19:00",
  actions: [
    { do: "keys", seq: "#" },
    { do: "keys", seq: "97531864#97531864#" },
    { do: "snapshot", label: "pin set" },
    { do: "wait", for: "10m" },
    { do: "snapshot", label: "end" },
  ],
});

/**
 * Three PIR sensors and a door armed for 20 minutes: every minute the terminal PINGs the four and
 * their answers queue on the radio's UART, bytes already on the line that a step carries ahead
 * (host-sim/simulator.ts #step). Two sensors tripped at one instant: the terminal answers the first
 * event (bytes on the air, a host event before the second frame arrives), so the second is handed
 * back to the host and delivered at its instant by a step of its own.
 */
const ROUND = (cardFile: string) =>
  parseScript({
    start: "2026-04-16T19:00",
    actions: [
      { do: "sensor.add", type: "intrusion", id: "A0001" },
      { do: "sensor.add", type: "intrusion", id: "A0002" },
      { do: "sensor.add", type: "intrusion", id: "A0003" },
      { do: "sensor.add", type: "door", id: "D0001" },
      { do: "card.insert", file: cardFile },
      { do: "wait", for: "1m" },
      { do: "keys", seq: "#" },
      { do: "keys", seq: "1234#1234#" },
      {
        do: "plan.set",
        plan: { contract: "single", periods: [{ start: "2026-04-16T19:10", end: "2026-04-16T19:30", pattern: 1, sensors: ["A0001", "A0002", "A0003", "D0001"], cameras: [] }] },
      },
      { at: "2026-04-16T19:21:30", do: "sensor.trip", id: "A0001" },
      { do: "sensor.trip", id: "A0003" },
      { at: "2026-04-16T19:40", do: "snapshot", label: "end" },
    ],
  });

interface Run {
  calls: string[];
  snapshots: Array<{ label: string | null; at: number; snapshot: Record<string, any> }>;
  commands: number;
  ahead: { carried: number; taken: number };
}

/** The same host calls, call by call: the first difference is named, not a 10,000-line diff. */
function sameCalls(t: ExecutionContext, reference: Run, batched: Run): void {
  const n = Math.min(reference.calls.length, batched.calls.length);
  let i = 0;
  while (i < n && reference.calls[i] === batched.calls[i]) i++;
  t.is(i, reference.calls.length, `first difference at call ${i}: ${reference.calls[i]} | batched: ${batched.calls[i]}`);
  t.is(batched.calls.length, reference.calls.length);
}

async function run(engine: EngineName, stepping: "batched" | "per-event", kit: "full" | "bare" | "round" = "full"): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "tg-stepping-"));
  const calls: string[] = [];
  try {
    const cardFile = join(dir, "card.json");
    issueDemoCard(cardFile, 1000, 7001, true);
    const s = kit === "full" ? script(cardFile) : kit === "round" ? ROUND(cardFile) : BARE;
    const sim = await Simulator.start({
      engine,
      startMs: s.start as number,
      stepping,
      // the PIN's salt is random: a stored value may differ, never which call or when
      onHostCall: (op, args, t) => calls.push(`${t} ${op} ${op.startsWith("io.") ? JSON.stringify(args) : ""}`),
    });
    try {
      attachLcd(sim);
      attachKeypad(sim);
      if (kit !== "bare") {
        attachBuzzer(sim);
        sensorField(sim);
        cardSlot(sim);
      }
      await sim.settle();
      const out = await runScript(sim, s);
      const trips = sim.roundTrips();
      // the card's file is in this run's own folder: named alike in both runs' snapshots
      const snapshots = JSON.parse(JSON.stringify(out.snapshots).split(dir).join("<dir>"));
      return { calls, snapshots, commands: Object.values(trips.commands).reduce((a, b) => a + b, 0), ahead: trips.ahead };
    } finally {
      await sim.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const engine of ["node", "xs"] as const) {
  test(`[${engine}] batched stepping: the same host calls at the same virtual instants as one step per event (keys, card, entry delay, duress), in fewer round trips`, async (t) => {
    const reference = await run(engine, "per-event");
    const batched = await run(engine, "batched");
    // the scenario did what it says under the reference: the PIN stored, the door disarmed in time, the duress PIN taken
    const snap = (r: Run, label: string) => (r.snapshots.find((x) => x.label === label) as Run["snapshots"][number]).snapshot;
    t.is(snap(reference, "pin set").ui.pin.set, true);
    t.regex(snap(reference, "entry delay").lcd[1], /^Disarm in \d+ s/);
    t.is(snap(reference, "disarmed").lcd[3], "Disarmed            ");
    t.deepEqual(
      snap(reference, "duress").alarms.map((a: any) => [a.kind, a.at]),
      [
        ["opening", "2026-04-16T20:30:11"],
        ["intrusion", "2026-04-16T21:30"],
        ["duress", "2026-04-16T21:31:01"],
        ["opening", "2026-04-16T21:31:01"],
      ],
    );
    // thousands of calls to compare (4,903 since the card slot's contact spares the PN532 presence polls; 10,000+ before)
    t.true(reference.calls.length > 4_000, `host calls: ${reference.calls.length}`);
    sameCalls(t, reference, batched);
    // the snapshots agree, but for the PIN's salt (not in them) nothing differs
    t.deepEqual(
      batched.snapshots.map((s) => [s.label, s.at, s.snapshot]),
      reference.snapshots.map((s) => [s.label, s.at, s.snapshot]),
    );
    t.true(batched.commands * 2 < reference.commands, `round trips into the engine: batched ${batched.commands}, per event ${reference.commands}`);
  });
}

for (const engine of ["node", "xs"] as const) {
  test(`[${engine}] batched stepping with failing host calls (no card reader: NACKs): the PIN typed at boot is stored, the same calls at the same instants`, async (t) => {
    const reference = await run(engine, "per-event", "bare");
    const batched = await run(engine, "batched", "bare");
    const pinSet = (r: Run) => (r.snapshots.find((x) => x.label === "pin set") as Run["snapshots"][number]).snapshot;
    t.regex(String(pinSet(reference).card.reader), /NACK|not answer|fault|0x24/i, "the reader's calls fail");
    t.is(pinSet(reference).ui.pin.set, true);
    t.is(pinSet(batched).ui.pin.set, true);
    sameCalls(t, reference, batched);
    t.deepEqual(
      batched.snapshots.map((s) => [s.label, s.at, s.snapshot]),
      reference.snapshots.map((s) => [s.label, s.at, s.snapshot]),
    );
  });
}

for (const engine of ["node", "xs"] as const) {
  test(`[${engine}] batched stepping carrying several sensors' answers in one step: the same host calls at the same instants, the instants after the terminal's own answer handed back`, async (t) => {
    const reference = await run(engine, "per-event", "round");
    const batched = await run(engine, "batched", "round");
    const end = (r: Run) => (r.snapshots.find((x) => x.label === "end") as Run["snapshots"][number]).snapshot;
    // both trips raised their alarm, at the instant they happened
    t.deepEqual(
      end(reference).alarms.map((a: any) => [a.kind, a.sensor ?? null, a.at]),
      [
        ["intrusion", "A0001", "2026-04-16T19:21:30"],
        ["intrusion", "A0003", "2026-04-16T19:21:30"],
      ],
    );
    sameCalls(t, reference, batched);
    t.deepEqual(
      batched.snapshots.map((s) => [s.label, s.at, s.snapshot]),
      reference.snapshots.map((s) => [s.label, s.at, s.snapshot]),
    );
    // 20 PING rounds of four answers: at least three of each round's answers taken ahead
    t.true(batched.ahead.taken >= 60, `instants taken ahead: ${batched.ahead.taken}`);
    // the second trip's frame, behind the terminal's answer to the first, went back to the host
    t.true(batched.ahead.carried > batched.ahead.taken, `carried ${batched.ahead.carried}, taken ${batched.ahead.taken}`);
    t.is(reference.ahead.carried, 0);
    t.log(`host calls ${reference.calls.length}; commands per event ${reference.commands}, batched ${batched.commands}; instants carried ahead ${batched.ahead.carried}, taken ${batched.ahead.taken}`);
  });
}
