/**
 * XS cost of the sensor link, from xsnap's deterministic meter (compute units, not seconds):
 * the firmware's work from a detect frame arriving on the radio UART to the capture command
 * leaving for the camera (frame search, CRC, HMAC-SHA256 check, counter stored, alarm recorded,
 * media unit begun, CAPTURE signed and written), and per heartbeat. Each figure is the meter of
 * the one io.deliver call that carried the frame. Run:
 *   TG_ONLY=sensor-meter node scripts/build.mjs && node dist/bench/sensor-meter.js
 */
import { Simulator } from "../host-sim/simulator";
import { parseTime } from "../firmware/core/time";
import { SimCamera, sensorField } from "../host-sim/devices/sensors";

const PLAN = {
  contract: "continuous",
  periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }],
};

/** TYPE and ID bytes of a frame (offsets 4..7), hex: finds a sensor's frames in delivered events. */
const tag = (type: number, id: string) => type.toString(16).padStart(2, "0") + id.charCodeAt(0).toString(16) + parseInt(id.slice(1), 10).toString(16).padStart(4, "0");

async function main(): Promise<void> {
  // one io.deliver per delivery (the reference stepping), so each frame's cost is that command's meter
  const sim = await Simulator.start({ engine: "xs", startMs: parseTime("2026-04-16T19:00", "start") * 1000, stepping: "per-event" });
  const m = () => sim.meter()!;
  // every io.deliver call, with what it carried and what it cost
  const deliveries: Array<{ data: string; compute: number }> = [];
  const command = sim.command.bind(sim);
  sim.command = async (op: string, args?: any) => {
    const before = m().compute;
    const value = await command(op, args);
    if (op === "io.deliver") deliveries.push({ data: args.events.map((e: any) => e.data ?? "").join(" "), compute: m().compute - before });
    return value;
  };
  const costOf = (t: string) => deliveries.filter((d) => d.data.includes(t)).map((d) => d.compute);
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  const rows: Array<[string, number, string]> = [];
  try {
    const field = sensorField(sim);
    for (const id of ["A0001", "A0002", "B0001"]) field.add(id);
    await sim.advance(5_000);
    rows.push(["STARTUP of a newcomer (pairing window open)", mean(costOf(tag(1, "A0001"))), ""]);
    rows.push(["IDENT of a newcomer", mean(costOf(tag(3, "A0001"))), ""]);
    await sim.command("pairing.confirm");
    await sim.command("plan.set", { plan: PLAN });
    await sim.runUntil(parseTime("2026-04-16T21:01", "t") * 1000);
    const beats = ["A0001", "A0002", "B0001"].flatMap((id) => costOf(tag(4, id)));
    rows.push(["per heartbeat (deliver, verify, counter stored)", mean(beats), `mean of ${beats.length}, min ${Math.min(...beats)}, max ${Math.max(...beats)}`]);

    const cam = field.get("B0001") as SimCamera;
    field.get("A0001").trip();
    await sim.advance(1_000);
    if (cam.commands.indexOf(3) < 0) throw new Error("the camera got no CAPTURE");
    const detect = costOf(tag(5, "A0001"));
    rows.push(["detect frame → capture command (one delivery)", detect[0], "alarm stored, media unit begun, CAPTURE sent"]);
    const before = m().compute;
    await sim.advance(30_000);
    const s = await sim.snapshot();
    const unit = s.media[0];
    const bytes = unit.files.reduce((n: number, f: any) => n + f.size, 0);
    const chunks = costOf(tag(7, "B0001"));
    rows.push(["per media chunk (192 bytes)", mean(chunks), `${chunks.length} chunks`]);
    rows.push(["whole media unit received", m().compute - before, `${unit.files.length} files, ${bytes} bytes, complete ${unit.complete}`]);
    rows.push(["heap after all this", m().heapCount, "slots"]);
  } finally {
    await sim.close();
  }
  console.log("Sensor link, XS meter (xsnap compute units; deterministic)");
  for (const [what, n, note] of rows) console.log(`  ${what.padEnd(50)} ${String(n).padStart(10)}  ${note}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
