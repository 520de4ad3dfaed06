import test from "ava";
import { FieldError } from "../firmware/core/errors";
import { yenOwed } from "../firmware/core/fee";
import { parsePlan } from "../firmware/core/plan";
import { EXAMPLE_TARIFF_JSON, MAX_DEVICE_YEN, MAX_PATTERN_YEN, MAX_PERMILLE, parseTariff } from "../firmware/core/tariff";
import { parseTime } from "../firmware/core/time";
import { Store } from "../firmware/platform/store";
import type { FlashFile } from "../host-sim/storage/flash-file";
import { at, onBothEngines, withSim } from "./helpers/engines";

/**
 * Issue #10 item 8: a tariff or plan the terminal accepts is one it can bill with for a whole
 * rental and store and boot with; what it cannot is refused at entry, naming the field.
 */
const contracts = (single: number) => ({ single, multiple: 0.9, continuous: 0.8 });

test("tariff bounds: absurd prices and coefficients that round to 0 are refused, naming the field", (t) => {
  const bad: Array<[unknown, string, RegExp]> = [
    [{ ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5, camera: 1e15 } }, "devices.camera", /more than the 10000 yen per hour/],
    [{ ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5, camera: 10, door: MAX_DEVICE_YEN + 1 } }, "devices.door", /more than/],
    [{ ...EXAMPLE_TARIFF_JSON, patterns: { "1": MAX_PATTERN_YEN + 1 } }, "patterns.1", /more than/],
    [{ ...EXAMPLE_TARIFF_JSON, imageYen: 1e12 }, "imageYen", /more than/],
    [{ ...EXAMPLE_TARIFF_JSON, yenPerCount: 1e9 }, "yenPerCount", /more than/],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: contracts(1e-10) }, "contracts.single", /at least 0.001/],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: contracts(0.0004) }, "contracts.single", /at least 0.001/],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: contracts(0) }, "contracts.single", /greater than 0/],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: contracts(10.001) }, "contracts.single", /at most 10/],
  ];
  for (const [input, field, message] of bad) {
    const e = t.throws(() => parseTariff(input), { instanceOf: FieldError }, JSON.stringify(input));
    t.is(e?.field, field, JSON.stringify(input));
    t.regex(e?.message ?? "", message, JSON.stringify(input));
  }
  const edge = parseTariff({ ...EXAMPLE_TARIFF_JSON, contracts: contracts(0.001) });
  t.is(edge.contractsPermille.single, 1);
});

test("the dearest tariff the bounds allow, guarded 10 years at coefficient 10, owes an exact safe integer", (t) => {
  const tariff = parseTariff({
    patterns: { "1": MAX_PATTERN_YEN },
    devices: { sensor: MAX_DEVICE_YEN, camera: MAX_DEVICE_YEN },
    contracts: { single: 10, multiple: 10, continuous: 10 },
    yenPerCount: 1,
  });
  t.is(tariff.contractsPermille.continuous, MAX_PERMILLE);
  const rate = MAX_PATTERN_YEN + 32 * MAX_DEVICE_YEN; // 16 sensors and 16 cameras
  const seconds = parseTime("2036-04-16T20:00", "to") - parseTime("2026-04-16T20:00", "from");
  const rs = rate * seconds;
  t.true(Number.isSafeInteger(rs));
  const owed = yenOwed(rs, MAX_PERMILLE);
  // 420,000 yen/h × 87,672 h × 10, exactly (BigInt as the referee)
  t.is(BigInt(owed), (BigInt(rs) * BigInt(MAX_PERMILLE)) / 3_600_000n);
  t.is(owed, 420_000 * 87_672 * 10);
  t.is(yenOwed(1_296_000, 800), 288, "the worked example's period 1 still");
  t.is(yenOwed(3_599_999, 1000), 999);
  t.is(yenOwed(3_599_999, 1), 0);
  t.is(yenOwed(3_600_000, 1), 1);
});

test("a time outside 2000-2099 in the terminal's zone is refused at entry, not at boot", (t) => {
  const tariff = parseTariff(EXAMPLE_TARIFF_JSON);
  const plan = (to: string) => ({ contract: "continuous", rental: { from: "2099-12-01T00:00", to }, periods: [] });
  const e = t.throws(() => parsePlan(plan("2099-12-31T20:00Z"), tariff), { instanceOf: FieldError });
  t.is(e?.field, "rental.to");
  t.regex(e?.message ?? "", /2100-01-01T05:00 in the terminal's zone, outside 2000-2099/);
  t.truthy(parsePlan(plan("2099-12-31T14:59Z"), tariff).rental);
  t.throws(() => parseTime("2000-01-01T00:00+14:00", "x", -600), { instanceOf: FieldError, message: /1999-12-31/ });
});

function storeOn(flash: FlashFile): Store {
  return new Store({
    get(key) {
      const v = flash.get("timeguard", key);
      return v && v.t === "a" ? (v.v.slice().buffer as ArrayBuffer) : undefined;
    },
    set(key, value) {
      flash.set("timeguard", key, { t: "a", v: new Uint8Array(value) });
    },
    delete(key) {
      flash.delete("timeguard", key);
    },
  });
}

onBothEngines("tariff.set refuses devices.camera 1e15 and a coefficient of 1e-10; the terminal bills on", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    t.like(await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1 }] } }), { ok: true });
    const huge = await sim.command("tariff.set", { tariff: { ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5, camera: 1e15 } } });
    t.like(huge, { ok: false, field: "devices.camera" });
    const free = await sim.command("tariff.set", { tariff: { ...EXAMPLE_TARIFF_JSON, contracts: contracts(1e-10) } });
    t.like(free, { ok: false, field: "contracts.single" });
    await sim.runUntil(at("2026-04-16T23:00"));
    const s = await sim.snapshot();
    t.is(s.owedYen, 240, "3 h of pattern 1 at 100 yen/h × 0.8 under the tariff in force");
    t.deepEqual(s.errors, []);
  });
});

onBothEngines("a far rental end: refused at entry when the terminal could not read it back; accepted ones survive a power cycle", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    const plan = (to: string) => ({ contract: "continuous", rental: { from: "2026-04-16T00:00", to }, periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1 }] });
    const refused = await sim.command("plan.set", { plan: plan("2099-12-31T20:00Z") });
    t.like(refused, { ok: false, field: "rental.to" });
    t.regex(refused.error, /outside 2000-2099/);
    t.like(await sim.command("plan.set", { plan: plan("2099-12-31T14:00Z") }), { ok: true });
    const before = (await sim.snapshot()).plan;
    t.is(before.rental.to, "2099-12-31T23:00");
    await sim.powerCut();
    await sim.powerOn();
    const after = await sim.snapshot();
    t.is(after.boots, 2);
    t.deepEqual(after.plan, before, "the plan entered is the plan booted with");
    t.deepEqual(after.errors, [], "nothing refused at boot");
  });
});

onBothEngines("a stored tariff that fails at boot is refused once and the terminal bills with its own; snapshots never throw", async (t, engine) => {
  await withSim(engine, "2026-04-16T19:00", async (sim) => {
    t.like(await sim.command("plan.set", { plan: { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, cameras: 0 }] } }), { ok: true });
    // what an older firmware stored before the bounds: a camera at 1e15 yen/h
    storeOn(sim.flash).writeJson("tariff", { ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5, camera: 1e15 } });
    await sim.powerCut();
    await sim.powerOn();
    await sim.runUntil(at("2026-04-16T21:30"));
    const s = await sim.snapshot();
    t.is((s.errors as string[]).length, 1);
    t.regex((s.errors as string[])[0], /stored tariff refused: devices.camera/);
    t.is(s.owedYen, 120, "1.5 h at 100 yen/h × 0.8 under the configured tariff");
    await sim.runUntil(at("2026-04-16T23:30"));
    t.is((await sim.snapshot()).owedYen, 240);
  });
});
