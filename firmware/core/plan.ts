import { DeviceCounts, deviceCounts } from "./fee";
import { billingKind, isCamera, isDeviceId } from "./devices";
import { FieldError, describe, isRecord, nonNegativeInteger, onlyKeys } from "./errors";
import { CONTRACTS, Contract, Tariff, hasPattern, isContract } from "./tariff";
import { DEFAULT_ZONE_MINUTES, Seconds, formatTime, parseTime } from "./time";

/** At most this many periods in one plan: the terminal keeps fixed-size tables. */
export const MAX_PERIODS = 32;
/** At most this many devices of one selection. */
export const MAX_DEVICES = 16;

export interface Period {
  readonly start: Seconds;
  readonly end: Seconds;
  readonly pattern: number;
  /** Chosen non-camera devices by ID; empty when the plan gives counts only. */
  readonly sensorIds: readonly string[];
  /** Chosen cameras by ID; empty when the plan gives counts only. */
  readonly cameraIds: readonly string[];
  /** Planned operating devices by billing kind (what the estimate prices). */
  readonly devices: DeviceCounts;
}

export interface Plan {
  readonly contract: Contract;
  /** The rental window the equipment is out for; periods must lie inside it. */
  readonly rental: { readonly from: Seconds; readonly to: Seconds } | null;
  /** Sorted by start, non-overlapping. */
  readonly periods: readonly Period[];
}

/** What the terminal knows of its devices: the sensor table's IDs. */
export interface Inventory {
  has(id: string): boolean;
  /**
   * The table's operating devices of one kind (cameras, or the rest), in table order: a plan by
   * counts takes its devices from here. Missing: the table has none.
   */
  operating?(cameras: boolean): readonly string[];
}

export interface PlanOptions {
  zoneMinutes?: number;
  /**
   * When given (the terminal: its sensor table), every chosen device must be in it, and a count
   * takes that many operating devices from it (stored as their IDs: only what exists is billed).
   * Without it (the estimate), counts stay hypothetical.
   */
  inventory?: Inventory;
}

function parseSelection(
  value: unknown,
  field: string,
  cameras: boolean,
  inventory: Inventory | undefined,
): { ids: string[]; count: number } {
  if (typeof value === "number") {
    const count = nonNegativeInteger(value, field);
    if (count > MAX_DEVICES) throw new FieldError(field, `at most ${MAX_DEVICES} devices`, { code: "too-many-devices", value: count });
    if (!inventory || count === 0) return { ids: [], count };
    // On the terminal a count picks real devices: the first `count` operating ones of the table.
    const available = inventory.operating ? inventory.operating(cameras) : [];
    const kind = cameras ? "camera" : "sensor";
    if (count > available.length) {
      const have = available.length === 0 ? `no operating ${kind}s` : `only ${available.length} operating ${kind}${available.length === 1 ? "" : "s"} (${available.join(", ")})`;
      const reason = { code: cameras ? "too-few-cameras" : "too-few-sensors", value: count } as const;
      throw new FieldError(field, `asks for ${count} ${kind}${count === 1 ? "" : "s"} but the sensor table has ${have}; pair them first or choose fewer`, reason);
    }
    const ids = available.slice(0, count);
    return { ids, count: ids.length };
  }
  if (!Array.isArray(value)) throw new FieldError(field, `must be a count or a list of device IDs, got ${describe(value)}`);
  if (value.length > MAX_DEVICES) throw new FieldError(field, `at most ${MAX_DEVICES} devices`, { code: "too-many-devices", value: value.length });
  const ids: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const id = value[i];
    const f = `${field}[${i}]`;
    if (!isDeviceId(id)) throw new FieldError(f, `is not a device ID like A0001, got ${describe(id)}`);
    if (isCamera(id) !== cameras) throw new FieldError(f, cameras ? `${id} is not a camera` : `${id} is a camera, not a sensor`);
    if (inventory && !inventory.has(id)) throw new FieldError(f, `unknown device ${id}`, { code: "unknown-device" });
    if (ids.indexOf(id) >= 0) throw new FieldError(f, `${id} is chosen twice`);
    ids.push(id);
  }
  return { ids, count: ids.length };
}

function parsePeriod(input: unknown, index: number, tariff: Tariff, zone: number, inventory?: Inventory): Period {
  const path = `periods[${index}]`;
  if (!isRecord(input)) throw new FieldError(path, "must be an object");
  onlyKeys(input, ["start", "end", "pattern", "sensors", "cameras"], path);
  const start = parseTime(input.start, `${path}.start`, zone);
  const end = parseTime(input.end, `${path}.end`, zone);
  if (end <= start) throw new FieldError(`${path}.end`, "must be after the start", { code: "end-before-start" });
  const pattern = input.pattern;
  if (typeof pattern !== "number" || !Number.isInteger(pattern) || !hasPattern(tariff, pattern)) {
    throw new FieldError(`${path}.pattern`, `unknown pattern ${describe(pattern)}`, typeof pattern === "number" ? { code: "pattern", value: pattern } : { code: "pattern" });
  }
  const sensors = parseSelection(input.sensors ?? 0, `${path}.sensors`, false, inventory);
  const cameras = parseSelection(input.cameras ?? 0, `${path}.cameras`, true, inventory);
  const counts: Record<string, number> = { camera: cameras.count };
  if (sensors.ids.length > 0) {
    for (const id of sensors.ids) {
      const kind = billingKind(id);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  } else {
    counts.sensor = sensors.count;
  }
  return { start, end, pattern, sensorIds: sensors.ids, cameraIds: cameras.ids, devices: deviceCounts(counts) };
}

/**
 * Parses and validates a plan: `{contract, rental?: {from, to}, periods: [{start, end, pattern,
 * sensors, cameras}]}`. Rejects end ≤ start, overlaps, unknown patterns, unknown devices,
 * periods outside the rental window and a single contract of several periods, naming the field
 * and (FieldError.reason) the rule.
 */
export function parsePlan(input: unknown, tariff: Tariff, options: PlanOptions = {}): Plan {
  const zone = options.zoneMinutes ?? DEFAULT_ZONE_MINUTES;
  if (!isRecord(input)) throw new FieldError("plan", "must be an object");
  onlyKeys(input, ["contract", "rental", "periods"], "");
  if (!isContract(input.contract)) {
    throw new FieldError("contract", `must be one of ${CONTRACTS.join(", ")}, got ${describe(input.contract)}`);
  }
  let rental: Plan["rental"] = null;
  if (input.rental !== undefined) {
    if (!isRecord(input.rental)) throw new FieldError("rental", "must be an object with from and to");
    onlyKeys(input.rental, ["from", "to"], "rental");
    const from = parseTime(input.rental.from, "rental.from", zone);
    const to = parseTime(input.rental.to, "rental.to", zone);
    if (to <= from) throw new FieldError("rental.to", "must be after rental.from");
    rental = { from, to };
  }
  if (!Array.isArray(input.periods)) throw new FieldError("periods", "must be a list");
  if (input.periods.length > MAX_PERIODS) throw new FieldError("periods", `at most ${MAX_PERIODS} periods`);
  const parsed = input.periods.map((p, i) => ({ period: parsePeriod(p, i, tariff, zone, options.inventory), index: i }));
  if (rental) {
    for (const { period, index } of parsed) {
      if (period.start < rental.from || period.end > rental.to) {
        throw new FieldError(`periods[${index}]`, "lies outside the rental (the contract's days)", { code: "outside-rental", value: index });
      }
    }
  }
  const sorted = parsed.slice().sort((a, b) => a.period.start - b.period.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].period.start < sorted[i - 1].period.end) {
      throw new FieldError(`periods[${sorted[i].index}]`, `overlaps periods[${sorted[i - 1].index}]`, { code: "overlap", value: sorted[i].index, other: sorted[i - 1].index });
    }
  }
  // the contract last: the checks run in the order the terminal's period editor asks the fields
  if (input.contract === "single" && parsed.length > 1) {
    throw new FieldError("contract", "a single contract has one period; use multiple or continuous", { code: "single-contract" });
  }
  return { contract: input.contract, rental, periods: sorted.map((s) => s.period) };
}

function selectionToJson(ids: readonly string[], count: number): number | string[] {
  return ids.length > 0 ? ids.slice() : count;
}

/** The plan in the JSON form parsePlan accepts (times with the zone's wall clock). */
export function planToJson(plan: Plan, zoneMinutes = DEFAULT_ZONE_MINUTES): Record<string, unknown> {
  const out: Record<string, unknown> = {
    contract: plan.contract,
    periods: plan.periods.map((p) => ({
      start: formatTime(p.start, zoneMinutes),
      end: formatTime(p.end, zoneMinutes),
      pattern: p.pattern,
      sensors: selectionToJson(p.sensorIds, p.devices.sensor + p.devices.door + p.devices.smoke),
      cameras: selectionToJson(p.cameraIds, p.devices.camera),
    })),
  };
  if (plan.rental) out.rental = { from: formatTime(plan.rental.from, zoneMinutes), to: formatTime(plan.rental.to, zoneMinutes) };
  return out;
}

export function sensorCount(devices: DeviceCounts): number {
  return devices.sensor + devices.door + devices.smoke;
}
