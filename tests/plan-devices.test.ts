import test from "ava";
import { FieldError } from "../firmware/core/errors";
import { estimatePlan } from "../firmware/core/estimate";
import { parsePlan } from "../firmware/core/plan";
import { EXAMPLE_TARIFF_JSON, parseTariff } from "../firmware/core/tariff";
import { sensorField } from "../host-sim/devices/sensors";
import { EXAMPLE_PLAN, PERIOD_1_PLAN, at, installKit, onBothEngines, withSim } from "./helpers/engines";

/**
 * Issue #10 item 3: only operating devices are billed. On the terminal a plan by counts takes that
 * many operating devices of the sensor table (in table order) and is stored as their IDs; a count
 * the table cannot meet is refused naming the field. Without a table (the estimate) counts stay
 * hypothetical.
 */
const tariff = parseTariff(EXAMPLE_TARIFF_JSON);

test("counts against a sensor table: taken in table order from what operates, or refused naming the field", (t) => {
  const table = [
    { id: "A0001", operating: true },
    { id: "A0002", operating: false },
    { id: "C0001", operating: true },
    { id: "B0001", operating: true },
  ];
  const inventory = {
    has: (id: string) => table.some((d) => d.id === id),
    operating: (cameras: boolean) => table.filter((d) => d.operating && (d.id[0] === "B") === cameras).map((d) => d.id),
  };
  const plan = (sensors: unknown, cameras: unknown) => ({ contract: "continuous", periods: [{ ...PERIOD_1_PLAN.periods[0], sensors, cameras }] });
  const ok = parsePlan(plan(2, 1), tariff, { inventory }).periods[0];
  t.deepEqual([ok.sensorIds, ok.cameraIds], [["A0001", "C0001"], ["B0001"]], "A0002 does not operate: skipped");
  t.deepEqual(ok.devices, { sensor: 1, camera: 1, door: 0, smoke: 1 }, "C0001 is a smoke sensor");
  const e = t.throws(() => parsePlan(plan(3, 0), tariff, { inventory }), { instanceOf: FieldError });
  t.is(e?.field, "periods[0].sensors");
  t.regex(e?.message ?? "", /asks for 3 sensors but the sensor table has only 2 operating sensors \(A0001, C0001\)/);
  const c = t.throws(() => parsePlan(plan(0, 2), tariff, { inventory }), { instanceOf: FieldError });
  t.is(c?.field, "periods[0].cameras");
  const empty = { has: () => false, operating: () => [] };
  const none = t.throws(() => parsePlan(plan(2, 1), tariff, { inventory: empty }), { instanceOf: FieldError });
  t.regex(none?.message ?? "", /periods\[0\]\.sensors: asks for 2 sensors but the sensor table has no operating sensors/);
  t.is(parsePlan(plan(0, 0), tariff, { inventory: empty }).periods[0].sensorIds.length, 0, "no devices at all is a plan");
  // the estimate has no table: hypothetical counts are priced
  t.is(estimatePlan(parsePlan(EXAMPLE_PLAN, tariff), tariff).totalYen, 50976);
});

onBothEngines("a plan by counts on an empty sensor table is refused and nothing is billed", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const r = await sim.command("plan.set", { plan: PERIOD_1_PLAN });
    t.like(r, { ok: false, field: "periods[0].sensors" });
    t.regex(r.error, /asks for 2 sensors but the sensor table has no operating sensors/);
    await sim.runUntil(at("2026-04-16T23:30"));
    const s = await sim.snapshot();
    t.deepEqual(s.plan.periods, []);
    t.is(s.owedYen, 0, "2 sensors and 1 camera that do not exist are not billed");
    t.deepEqual(s.periods, []);
  });
});

onBothEngines("counts take operating devices of the table, are stored as IDs, and more than the table has is refused", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    await installKit(sim, ["A0001", "A0002", "B0001"]);
    const more = await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ ...PERIOD_1_PLAN.periods[0], cameras: 2 }] } });
    t.like(more, { ok: false, field: "periods[0].cameras" });
    t.regex(more.error, /asks for 2 cameras but the sensor table has only 1 operating camera \(B0001\)/);
    // A0001 unplugged: once supervision finds it gone it no longer operates and is not taken
    sensorField(sim).get("A0001").unplug();
    await sim.advance(40 * 60_000);
    t.is((await sim.snapshot()).sensors[0].operating, false);
    const two = await sim.command("plan.set", { plan: PERIOD_1_PLAN });
    t.like(two, { ok: false, field: "periods[0].sensors" });
    t.regex(two.error, /only 1 operating sensor \(A0002\)/);
    t.like(await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ ...PERIOD_1_PLAN.periods[0], sensors: 1 }] } }), { ok: true });
    const s = await sim.snapshot();
    t.deepEqual(s.plan.periods[0], { ...PERIOD_1_PLAN.periods[0], sensors: ["A0002"], cameras: ["B0001"] });
    await sim.runUntil(at("2026-04-16T23:30"));
    const after = await sim.snapshot();
    t.is(after.periods[0].yenPerHour, 115, "pattern 1 + A0002 + B0001");
    t.is(after.owedYen, 276, "3 h × 115 yen × 0.8");
  });
});

test("a refusal names its rule for programs (FieldError.reason), the contract checked after the periods", (t) => {
  const p = (start: string, end: string, pattern = 1) => ({ start, end, pattern, sensors: 1, cameras: 0 });
  const reason = (input: unknown) => {
    try {
      parsePlan(input, tariff);
    } catch (e) {
      return e instanceof FieldError ? { field: e.field, reason: e.reason } : null;
    }
    return "accepted";
  };
  t.deepEqual(reason({ contract: "multiple", periods: [p("2026-04-16T20:00", "2026-04-16T19:00")] }), { field: "periods[0].end", reason: { code: "end-before-start" } });
  t.deepEqual(reason({ contract: "multiple", periods: [p("2026-04-16T20:00", "2026-04-16T23:00", 7)] }), { field: "periods[0].pattern", reason: { code: "pattern", value: 7 } });
  t.deepEqual(reason({ contract: "multiple", periods: [{ ...p("2026-04-16T20:00", "2026-04-16T23:00"), sensors: 17 }] }), { field: "periods[0].sensors", reason: { code: "too-many-devices", value: 17 } });
  // the later one is refused and names the one it overlaps, whichever order the list has
  const a = p("2026-04-16T20:00", "2026-04-16T23:00");
  const b = p("2026-04-16T22:00", "2026-04-17T01:00");
  t.deepEqual(reason({ contract: "multiple", periods: [a, b] }), { field: "periods[1]", reason: { code: "overlap", value: 1, other: 0 } });
  t.deepEqual(reason({ contract: "multiple", periods: [b, a] }), { field: "periods[0]", reason: { code: "overlap", value: 0, other: 1 } });
  // a single contract with two overlapping periods: the overlap first (the period editor asks the contract last)
  t.deepEqual(reason({ contract: "single", periods: [a, b] }), { field: "periods[1]", reason: { code: "overlap", value: 1, other: 0 } });
  t.deepEqual(reason({ contract: "single", periods: [a, p("2026-04-17T20:00", "2026-04-17T21:00")] }), { field: "contract", reason: { code: "single-contract" } });
  t.deepEqual(
    reason({ contract: "multiple", rental: { from: "2026-04-16T00:00", to: "2026-04-17T00:00" }, periods: [b] }),
    { field: "periods[0]", reason: { code: "outside-rental", value: 0 } },
  );
  t.deepEqual(reason({ contract: "multiple", periods: [p("2026-02-30T20:00", "2026-03-01T23:00")] }), { field: "periods[0].start", reason: { code: "day", value: 30, other: 2 } });
  t.is(reason({ contract: "multiple", periods: [a] }), "accepted");
});
