import test from "ava";
import { countsDue, countsToTake } from "../firmware/core/counts";
import { FieldError } from "../firmware/core/errors";
import { estimatePlan } from "../firmware/core/estimate";
import { accrue, deviceCounts, imageRateSeconds, yenOwed, yenPerHour } from "../firmware/core/fee";
import { addImages, changeDevices, closePeriod, openPeriod, periodRecord } from "../firmware/core/history";
import { parsePlan } from "../firmware/core/plan";
import { EXAMPLE_TARIFF_JSON, parseTariff } from "../firmware/core/tariff";
import { formatTime, parseTime } from "../firmware/core/time";
import { EXAMPLE_PLAN, PERIOD_1_PLAN } from "./helpers/engines";

const tariff = parseTariff(EXAMPLE_TARIFF_JSON);

test("worked example of DESIGN §2: both rows and 50,976 yen", (t) => {
  const e = estimatePlan(parsePlan(EXAMPLE_PLAN, tariff), tariff);
  t.deepEqual(
    e.periods.map((p) => [formatTime(p.start), formatTime(p.end), p.pattern, p.sensors, p.cameras, p.yenPerHour, p.hours, p.baseYen]),
    [
      ["2026-04-16T20:00", "2026-04-16T23:00", 1, 2, 1, 120, 3, 360],
      ["2026-04-27T12:00", "2026-05-05T12:00", 3, 2, 2, 330, 192, 63360],
    ],
  );
  t.is(e.permille, 800);
  t.is(e.totalYen, 50976);
  t.is(e.counts, 5097);
  t.deepEqual(e.periods.map((p) => p.yen), [288, 50688]);
});

test("period 1 alone: 288 yen, 28 counts, 444 left of a 472-count card", (t) => {
  const e = estimatePlan(parsePlan(PERIOD_1_PLAN, tariff), tariff, 472);
  t.is(e.totalYen, 288);
  t.is(e.counts, 28);
  t.is(e.countsLeft, 444);
});

test("the coefficient is applied once to the exact sum, not per period", (t) => {
  // Two 1-minute periods at 100 yen/h: each is 1.666… yen base; 0.9 × 3.333… = 3 yen, while
  // flooring per period first would give 1 + 1 = 2.
  const plan = parsePlan(
    {
      contract: "multiple",
      periods: [
        { start: "2026-04-16T20:00", end: "2026-04-16T20:01", pattern: 1 },
        { start: "2026-04-16T21:00", end: "2026-04-16T21:01", pattern: 1 },
      ],
    },
    tariff,
  );
  const e = estimatePlan(plan, tariff);
  t.deepEqual(e.periods.map((p) => p.yen), [1, 1]);
  t.is(e.totalYen, 3);
});

test("fee accrual in yen·seconds: 120 yen/h for 3 h accrued second by second is still 360 × 0.8", (t) => {
  const rate = yenPerHour(tariff, 1, deviceCounts({ sensor: 2, camera: 1 }));
  t.is(rate, 120);
  let rs = 0;
  for (let i = 0; i < 3 * 3600; i++) rs += accrue(rate, 1);
  t.is(rs, accrue(rate, 3 * 3600));
  t.is(yenOwed(rs, 800), 288);
  t.is(yenOwed(rs, 1000), 360);
});

test("price per image: default 0, otherwise coefficient × images × price", (t) => {
  t.is(imageRateSeconds(tariff, 50), 0);
  const priced = parseTariff({ ...EXAMPLE_TARIFF_JSON, imageYen: 5 });
  // 12 images × 5 yen = 60 yen base, × 0.8 = 48 yen
  t.is(yenOwed(imageRateSeconds(priced, 12), 800), 48);
  const period = parsePlan(PERIOD_1_PLAN, priced).periods[0];
  let log = openPeriod(period, period.start, { version: 0, permille: 800 });
  log = addImages(log, 12, () => priced);
  log = closePeriod(log, period.end, priced);
  t.is(periodRecord(log, priced, period.end).yen, 288 + 48);
});

test("bill what operated: a sensor dropping off mid-period stops its billing from that moment", (t) => {
  const period = parsePlan(PERIOD_1_PLAN, tariff).periods[0];
  let log = openPeriod(period, period.start, { version: 0, permille: 800 });
  // After 1 h one sensor drops off for the remaining 2 h: 120 × 1 + 115 × 2 = 350 yen base.
  log = changeDevices(log, period.start + 3600, deviceCounts({ sensor: 1, camera: 1 }), tariff);
  log = closePeriod(log, period.end, tariff);
  const row = periodRecord(log, tariff, period.end);
  t.is(row.baseYen, 350);
  t.is(row.yen, 280);
  t.is(row.hours, 3);
  t.is(log.intervals.length, 2);
});

test("counts are cumulative: floor(owed / yen per count), remainders carry", (t) => {
  t.is(countsDue(288, 10), 28);
  t.is(countsDue(9, 10), 0);
  let taken = 0;
  for (const owed of [3, 9, 10, 19, 25, 288]) {
    const take = countsToTake(owed, 10, taken);
    taken += take;
    t.is(taken, Math.floor(owed / 10));
  }
  t.is(countsToTake(5, 10, 3), 0, "never negative when already ahead");
});

test("bad tariffs are rejected with the field named", (t) => {
  const bad: Array<[unknown, string]> = [
    [{ ...EXAMPLE_TARIFF_JSON, patterns: {} }, "patterns"],
    [{ ...EXAMPLE_TARIFF_JSON, patterns: { "1": -5 } }, "patterns.1"],
    [{ ...EXAMPLE_TARIFF_JSON, patterns: { x: 5 } }, "patterns.x"],
    [{ ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5 } }, "devices.camera"],
    [{ ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5, camera: 1.5 } }, "devices.camera"],
    [{ ...EXAMPLE_TARIFF_JSON, devices: { sensor: 5, camera: 10, robot: 1 } }, "devices.robot"],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: { single: 1, multiple: 0.9 } }, "contracts.continuous"],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: { single: 1, multiple: 0.9, continuous: 0.8005 } }, "contracts.continuous"],
    [{ ...EXAMPLE_TARIFF_JSON, contracts: { single: 0, multiple: 0.9, continuous: 0.8 } }, "contracts.single"],
    [{ ...EXAMPLE_TARIFF_JSON, yenPerCount: 0 }, "yenPerCount"],
    [{ ...EXAMPLE_TARIFF_JSON, imageYen: "5" }, "imageYen"],
    [{ ...EXAMPLE_TARIFF_JSON, extra: 1 }, "extra"],
    [[], "tariff"],
  ];
  for (const [input, field] of bad) {
    const e = t.throws(() => parseTariff(input), { instanceOf: FieldError }, JSON.stringify(input));
    t.is(e?.field, field, JSON.stringify(input));
  }
});

test("bad plans are rejected with the field named", (t) => {
  const p1 = EXAMPLE_PLAN.periods[0];
  const withPeriods = (...periods: unknown[]) => ({ contract: "continuous", periods });
  const bad: Array<[unknown, string, RegExp]> = [
    [withPeriods({ ...p1, end: "2026-04-16T20:00" }), "periods[0].end", /after the start/],
    [withPeriods({ ...p1, end: "2026-04-16T19:00" }), "periods[0].end", /after the start/],
    [withPeriods(p1, { ...p1, start: "2026-04-16T22:00", end: "2026-04-17T01:00" }), "periods[1]", /overlaps/],
    [withPeriods({ ...p1, pattern: 4 }), "periods[0].pattern", /unknown pattern/],
    [withPeriods({ ...p1, start: "2026-02-30T20:00" }), "periods[0].start", /day 30 does not exist/],
    [withPeriods({ ...p1, start: "2026-04-16T24:00" }), "periods[0].start", /hour 24/],
    [withPeriods({ ...p1, sensors: ["A0001", "Z9"] }), "periods[0].sensors[1]", /not a device ID/],
    [withPeriods({ ...p1, sensors: ["B0001"] }), "periods[0].sensors[0]", /is a camera/],
    [withPeriods({ ...p1, cameras: ["A0001"] }), "periods[0].cameras[0]", /not a camera/],
    [withPeriods({ ...p1, sensors: ["A0001", "A0001"] }), "periods[0].sensors[1]", /twice/],
    [withPeriods({ ...p1, colour: "red" }), "periods[0].colour", /unknown field/],
    [{ contract: "weekly", periods: [] }, "contract", /must be one of/],
    [{ contract: "single", periods: [p1, EXAMPLE_PLAN.periods[1]] }, "contract", /one period/],
    [
      { contract: "continuous", rental: { from: "2026-04-16T00:00", to: "2026-04-20T00:00" }, periods: [p1, EXAMPLE_PLAN.periods[1]] },
      "periods[1]",
      /outside the rental/,
    ],
    [{ contract: "continuous" }, "periods", /list/],
  ];
  for (const [input, field, message] of bad) {
    const e = t.throws(() => parsePlan(input, tariff), { instanceOf: FieldError }, JSON.stringify(input));
    t.is(e?.field, field, JSON.stringify(input));
    t.regex(e?.message ?? "", message);
  }
});

test("unknown devices are rejected against the sensor table", (t) => {
  const table = new Set(["A0001", "A0002", "B0001"]);
  const inventory = { has: (id: string) => table.has(id) };
  const plan = { contract: "continuous", periods: [{ ...EXAMPLE_PLAN.periods[0], sensors: ["A0001", "A0002"], cameras: ["B0001"] }] };
  const ok = parsePlan(plan, tariff, { inventory });
  t.deepEqual(ok.periods[0].sensorIds, ["A0001", "A0002"]);
  t.is(estimatePlan(ok, tariff).totalYen, 288);
  const bad = { contract: "continuous", periods: [{ ...plan.periods[0], cameras: ["B0002"] }] };
  const e = t.throws(() => parsePlan(bad, tariff, { inventory }), { instanceOf: FieldError });
  t.is(e?.field, "periods[0].cameras[0]");
  t.regex(e?.message ?? "", /unknown device B0002/);
});

test("times: the terminal's zone by default, offsets honoured, leap days known", (t) => {
  t.is(parseTime("2026-04-16T20:00", "x"), Date.UTC(2026, 3, 16, 11, 0) / 1000);
  t.is(parseTime("2026-04-16T20:00Z", "x"), Date.UTC(2026, 3, 16, 20, 0) / 1000);
  t.is(parseTime("2026-04-16T20:00-05:30", "x"), Date.UTC(2026, 3, 17, 1, 30) / 1000);
  t.is(parseTime("2028-02-29T00:00", "x"), Date.UTC(2028, 1, 28, 15, 0) / 1000);
  t.throws(() => parseTime("2026-02-29T00:00", "x"), { message: /day 29 does not exist/ });
  t.is(formatTime(parseTime("2026-12-31T23:59", "x")), "2026-12-31T23:59");
});
