import { parseArgs } from "node:util";
import { FieldError } from "../firmware/core/errors";
import { Estimate, estimatePlan } from "../firmware/core/estimate";
import { parsePlan } from "../firmware/core/plan";
import { parseTariff } from "../firmware/core/tariff";
import { formatShort, formatTime } from "../firmware/core/time";
import { readJsonFile } from "./files";
import { UsageError } from "./usage";

function yen(n: number): string {
  return n.toLocaleString("en-US");
}

export function estimateJson(e: Estimate, zone?: number): Record<string, unknown> {
  return {
    periods: e.periods.map((p) => ({
      start: formatTime(p.start, zone),
      end: formatTime(p.end, zone),
      pattern: p.pattern,
      sensors: p.sensors,
      cameras: p.cameras,
      yenPerHour: p.yenPerHour,
      hours: p.hours,
      baseYen: p.baseYen,
      yen: p.yen,
    })),
    coefficient: e.permille / 1000,
    totalYen: e.totalYen,
    counts: e.counts,
    countsLeft: e.countsLeft,
  };
}

export function estimateTable(e: Estimate, contract: string, yenPerCount: number, card: number | null): string {
  const head = ["start", "end", "pattern", "sensors", "cameras", "yen/h", "hours", "base", "yen"];
  const rows = e.periods.map((p) => [
    formatShort(p.start),
    formatShort(p.end),
    String(p.pattern),
    String(p.sensors),
    String(p.cameras),
    yen(p.yenPerHour),
    String(p.hours),
    yen(p.baseYen),
    yen(p.yen),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [line(head), ...rows.map(line)];
  out.push("");
  out.push(`coefficient ${e.permille / 1000} (${contract} contract)`);
  // the card pays whole counts, taken as they accrue and never more than owed (DESIGN §3): a
  // remainder under one count is not taken, which "288 yen = 28 counts" left a reader to puzzle out
  const rest = e.totalYen - e.counts * yenPerCount;
  out.push(
    `total ${yen(e.totalYen)} yen = ${yen(e.counts)} counts at ${yenPerCount} yen a count` +
      (rest > 0 ? ` (whole counts only: the last ${yen(rest)} yen, under one count, are not taken)` : ""),
  );
  if (card !== null) {
    const left = e.countsLeft as number;
    out.push(left >= 0 ? `card ${yen(card)} counts, ${yen(left)} left after the plan` : `card ${yen(card)} counts, ${yen(-left)} counts short`);
  }
  return out.join("\n");
}

export function runEstimate(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      tariff: { type: "string" },
      plan: { type: "string" },
      card: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  let card: number | null = null;
  if (values.card !== undefined) {
    if (!/^\d{1,9}$/.test(values.card)) throw new UsageError(`--card must be a whole number of counts, got ${values.card}`);
    card = Number(values.card);
  }
  const tariffJson = readJsonFile(values.tariff, "tariff");
  const planJson = readJsonFile(values.plan, "plan");
  const tariff = rejectAs(`tariff file ${values.tariff}`, () => parseTariff(tariffJson));
  const plan = rejectAs(`plan file ${values.plan}`, () => parsePlan(planJson, tariff));
  const estimate = estimatePlan(plan, tariff, card);
  process.stdout.write(values.json ? JSON.stringify(estimateJson(estimate)) + "\n" : estimateTable(estimate, plan.contract, tariff.yenPerCount, card) + "\n");
  return 0;
}

/** A FieldError from a file becomes a usage error naming the file and the field. */
function rejectAs<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof FieldError) throw new UsageError(`${what}: ${e.message}`);
    throw e;
  }
}
