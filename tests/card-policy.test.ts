import test from "ava";
import fc from "fast-check";
import { ContractAccount, NO_PERIODS, checkPeriod } from "../center/fee-check";
import { POLICY_START, PolicyConfig, PolicyState, countsAllowed, countsToCollect, debtCounts, policyStep, surchargeDue } from "../firmware/core/card-policy";
import { EMPTY_METER, meterYen } from "../firmware/core/contract";
import { countsDue } from "../firmware/core/counts";
import { deviceCounts } from "../firmware/core/fee";
import { PeriodLog, addImages, changeDevices, changeTerms, closePeriod, openPeriod } from "../firmware/core/history";
import { foldIntervals } from "../firmware/core/period-fold";
import { periodReport } from "../firmware/core/period-report";
import { EXAMPLE_TARIFF_JSON, Tariff, parseTariff } from "../firmware/core/tariff";

/**
 * Issue #10's shape: the contract, card-policy and deduction rules are pure functions in
 * firmware/core, called by the card shell (firmware/card/billing.ts) and by the center
 * (center/fee-check.ts). These check the functions themselves, and that the center's refold of a
 * report gives exactly what the terminal's history billed, whatever happened in the period.
 */

const V0 = parseTariff(EXAMPLE_TARIFF_JSON);
const V1 = parseTariff({ ...EXAMPLE_TARIFF_JSON, version: 1, patterns: { "1": 130, "2": 260, "3": 390 }, devices: { sensor: 7, camera: 12 }, contracts: { single: 1.1, multiple: 0.95, continuous: 0.85 }, imageYen: 3 });
const tariffOf = (v: number): Tariff | undefined => (v === 0 ? V0 : v === 1 ? V1 : undefined);

type Step = { wait: number; what: "devices"; sensor: number; camera: number } | { wait: number; what: "terms"; version: 0 | 1; contract: "single" | "multiple" | "continuous" } | { wait: number; what: "images"; count: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ wait: fc.integer({ min: 0, max: 20_000 }), what: fc.constant("devices" as const), sensor: fc.integer({ min: 0, max: 6 }), camera: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ wait: fc.integer({ min: 0, max: 20_000 }), what: fc.constant("terms" as const), version: fc.constantFrom(0 as const, 1 as const), contract: fc.constantFrom("single" as const, "multiple" as const, "continuous" as const) }),
  fc.record({ wait: fc.integer({ min: 0, max: 20_000 }), what: fc.constant("images" as const), count: fc.integer({ min: 1, max: 5 }) }),
);

/** A period carried out on the terminal's history, step by step; returns the closed log and its last tariff. */
function carryOut(before: ContractAccount, start: number, pattern: number, steps: Step[], endWait: number): { log: PeriodLog; tariff: Tariff; contract: "single" | "multiple" | "continuous" } {
  let tariff = V0;
  let contract: "single" | "multiple" | "continuous" = "continuous";
  const period = { start, end: start + 400_000, pattern, sensorIds: [], cameraIds: [], devices: deviceCounts({ sensor: 2, camera: 1 }) };
  let log = openPeriod(period, start, { version: 0, permille: tariff.contractsPermille[contract] }, before.meter);
  let t = start;
  for (const s of steps) {
    t += s.wait;
    if (s.what === "devices") log = changeDevices(log, t, deviceCounts({ sensor: s.sensor, camera: s.camera }), tariff);
    else if (s.what === "images") log = addImages(log, s.count, (v) => tariffOf(v) as Tariff);
    else {
      const next = tariffOf(s.version) as Tariff;
      log = changeTerms(log, t, tariff, { version: next.version, permille: next.contractsPermille[s.contract] });
      tariff = next;
      contract = s.contract;
    }
  }
  return { log: closePeriod(log, t + endWait, tariff), tariff, contract };
}

test("the center refolds a period report exactly as the terminal's history billed it (devices, tariff versions, contracts, images)", (t) => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 20 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 0, max: 5_000 }), (steps, pattern, endWait, takenExtra) => {
      const start = Date.UTC(2026, 7, 1) / 1000;
      const { log, tariff, contract } = carryOut(NO_PERIODS, start, pattern, steps, endWait);
      const fold = foldIntervals(tariffOf, EMPTY_METER, { start: log.start, end: log.end as number, pattern, contract, intervals: periodReport(log, tariff, contract, log.end as number).intervals as number[][], images: log.images, permille: log.terms.permille, tariffVersion: log.terms.version });
      if (fold.problems.length > 0) return false;
      if (meterYen(fold.meter) !== meterYen(log.meter) || fold.rateSeconds !== log.closedRateSeconds) return false;
      // The center's whole check, on the very report the terminal sends, finds nothing to flag.
      const report = periodReport(log, tariff, contract, log.end as number) as never;
      const owed = meterYen(log.meter);
      const checked = checkPeriod(tariffOf, NO_PERIODS, { ...(report as object), countsTaken: countsDue(owed, tariff.yenPerCount), takenTotal: countsDue(owed, tariff.yenPerCount), surchargeTotal: 0 } as never);
      if (checked.mismatch !== null || checked.owedYen !== owed) return false;
      // One count more than the rule allows is flagged.
      const over = checkPeriod(tariffOf, NO_PERIODS, { ...(report as object), countsTaken: countsAllowed(owed, tariff.yenPerCount, 0) + 1 + takenExtra, surchargeTotal: 0 } as never);
      return over.mismatch !== null && /counts taken/.test(over.mismatch);
    }),
    { seed: 1010, numRuns: 300 },
  );
  t.pass();
});

test("a reported interval under a coefficient no contract has is billed at the contract's and named", (t) => {
  const start = 1_000_000_000;
  const fold = foldIntervals(tariffOf, EMPTY_METER, { start, end: start + 3600, pattern: 1, contract: "continuous", intervals: [[start, start + 3600, 2, 1, 0, 0, 0, 9000]], images: 0, permille: 9000 });
  t.is(meterYen(fold.meter), 96); // 120 yen/h × 0.8, not × 9
  t.regex(fold.problems.join(";"), /per-mille 9000 is no contract's coefficient/);
  const unknown = foldIntervals(tariffOf, EMPTY_METER, { start, end: start + 3600, pattern: 1, contract: "continuous", intervals: [[start, start + 3600, 2, 1, 0, 0, 7, 800]], images: 0, permille: 800 });
  t.is(meterYen(unknown.meter), 0);
  t.regex(unknown.problems.join(";"), /tariff version 7 is not one the center issued/);
});

const CONFIG: PolicyConfig = { policy: "stop", graceSeconds: 120, surchargePermille: 200, nightFrom: 22 * 60, nightTo: 6 * 60 };
const input = (t: number, minuteOfDay: number, guarding: boolean, credit: boolean, due = 0) => ({ t, minuteOfDay, guarding, credit, due, why: "no card" });

test("policy: without credit while guarding, a grace time, then a stop by day", (t) => {
  let s: PolicyState = POLICY_START;
  let step = policyStep(s, CONFIG, input(1000, 14 * 60, true, false));
  t.is(step.state.mode, "grace");
  t.deepEqual(step.effects, [{ do: "notify", kind: "card.none", note: "no card: insert a card within 120 s" }]);
  s = step.state;
  step = policyStep(s, CONFIG, input(1119, 14 * 60, true, false));
  t.is(step.state, s, "nothing changes inside the grace time");
  step = policyStep(s, CONFIG, input(1120, 14 * 60, true, false));
  t.is(step.state.mode, "stopped");
  t.deepEqual(step.effects, [{ do: "stop", why: "no card" }]);
  // A card with counts after the stop, the period over: back to normal and the stopped period may resume.
  step = policyStep(step.state, CONFIG, input(1500, 14 * 60, false, true));
  t.is(step.state.mode, "ok");
  t.deepEqual(step.effects.map((e) => e.do), ["note", "resume"]);
});

test("policy: by night guarding goes on as debt until the night is over, never stopped inside it", (t) => {
  let step = policyStep(POLICY_START, CONFIG, input(0, 23 * 60, true, false));
  step = policyStep(step.state, CONFIG, input(200, 23 * 60 + 3, true, false));
  t.is(step.state.mode, "friendly");
  t.regex((step.effects[0] as { note: string }).note, /guarding goes on until 06:00/);
  t.is(policyStep(step.state, CONFIG, input(10_000, 5 * 60 + 59, true, false)).effects.length, 0);
  const morning = policyStep(step.state, CONFIG, input(30_000, 6 * 60, true, false));
  t.deepEqual(morning.effects, [{ do: "stop", why: "no card and the night is over" }]);
});

test("policy: emergency credit counts its stretch into the surcharge, which the card pays when credit is back", (t) => {
  const config: PolicyConfig = { ...CONFIG, policy: "emergency" };
  let step = policyStep(POLICY_START, config, input(0, 12 * 60, true, false, 40));
  step = policyStep(step.state, config, input(120, 12 * 60, true, false, 40));
  t.is(step.state.mode, "emergency");
  t.is(step.state.emergencyFromDue, 40);
  t.is(surchargeDue(step.state, 65, 200), 5); // 25 counts guarded on credit × 20 %
  step = policyStep(step.state, config, input(9000, 12 * 60, true, true, 65));
  t.is(step.state.mode, "ok");
  t.is(step.state.emergencyCounts, 25);
  t.deepEqual(step.effects, [{ do: "note", note: "credit is back", counts: 25 }]);
  const taken = { fee: 40, surcharge: 0, doubtFee: 0, doubtSurcharge: 0 };
  t.deepEqual(countsToCollect(step.state, config, 659, 10, taken, 100), { fee: 25, surcharge: 5 });
  t.deepEqual(countsToCollect(step.state, config, 659, 10, taken, 27), { fee: 25, surcharge: 2 }, "the fee first, never more than the card holds");
  t.is(debtCounts(step.state, config, 659, 10, taken), 30);
});

test("deduction: after any sequence of accruals, deductions in doubt and cards of any size, the fee taken never passes floor(owed / yen per count), and reaches it once the card can pay", (t) => {
  fc.assert(
    fc.property(fc.array(fc.record({ owedStep: fc.integer({ min: 0, max: 500 }), card: fc.integer({ min: 0, max: 40 }), doubt: fc.boolean() }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 100 }), (steps, ypc) => {
      let owed = 0;
      let fee = 0;
      let doubtFee = 0;
      for (const s of steps) {
        owed += s.owedStep;
        const take = countsToCollect(POLICY_START, CONFIG, owed, ypc, { fee, surcharge: 0, doubtFee, doubtSurcharge: 0 }, s.card);
        if (take.fee > s.card || take.surcharge !== 0) return false;
        // A deduction whose outcome is unknown stays in doubt until the card is read again.
        if (s.doubt) doubtFee += take.fee;
        else {
          fee += take.fee + doubtFee;
          doubtFee = 0;
        }
        if (fee + doubtFee > countsAllowed(owed, ypc, 0)) return false;
      }
      fee += doubtFee;
      const last = countsToCollect(POLICY_START, CONFIG, owed, ypc, { fee, surcharge: 0, doubtFee: 0, doubtSurcharge: 0 }, Number.MAX_SAFE_INTEGER);
      return fee + last.fee === countsDue(owed, ypc);
    }),
    { seed: 1011, numRuns: 500 },
  );
  t.pass();
});
