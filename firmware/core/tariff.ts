import { frozen } from "../lib/frozen";
import { FieldError, describe, isRecord, nonNegativeInteger, onlyKeys } from "./errors";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a pattern number, 1-99 */
const PATTERN_KEY = /^[1-9][0-9]?$/;

/** Contract kinds; each carries a coefficient applied to the whole fee. */
export const CONTRACTS = frozen(["single", "multiple", "continuous"] as const);
export type Contract = (typeof CONTRACTS)[number];

/** Device kinds a tariff prices per hour. Door contacts and smoke/heat sensors are priced as `sensor` unless named. */
export const DEVICE_KINDS = frozen(["sensor", "camera", "door", "smoke"] as const);
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** The fee table (DESIGN §2), all money in integer yen, coefficients in per-mille. */
export interface Tariff {
  /** the center's version number of this tariff (0: the factory tariff of the manifest) */
  readonly version: number;
  /** yen per hour for guard pattern 1, 2, 3 … */
  readonly patterns: Readonly<Record<number, number>>;
  /** yen per hour per operating device of each kind */
  readonly devices: Readonly<Record<DeviceKind, number>>;
  /** coefficient per contract, per-mille (0.8 → 800) */
  readonly contractsPermille: Readonly<Record<Contract, number>>;
  /** yen per image sent to the center (0: images are not billed) */
  readonly imageYen: number;
  /** yen one card count is worth */
  readonly yenPerCount: number;
}

/**
 * Bounds that keep every sum a safe integer (DESIGN §6: integer money). The dearest hour the
 * bounds allow is a pattern at MAX_PATTERN_YEN plus MAX_DEVICES (16) sensors and 16 cameras at
 * MAX_DEVICE_YEN each: 420,000 yen/h. Guarded for every second of 2000–2099 (about 3.16e9 s, far
 * beyond a 10-year rental) that is 1.33e15 rate-seconds, under 2^53 ≈ 9.0e15; the coefficient
 * (at most MAX_PERMILLE) is applied without forming rate-seconds × per-mille (fee.ts yenOwed).
 */
export const MAX_PATTERN_YEN = 100_000;
export const MAX_DEVICE_YEN = 10_000;
export const MAX_IMAGE_YEN = 10_000;
export const MAX_YEN_PER_COUNT = 100_000;
/** Coefficients are per-mille: 0.001 (1) to 10 (10,000). */
export const MIN_PERMILLE = 1;
export const MAX_PERMILLE = 10_000;

function boundedYen(value: unknown, field: string, max: number, what: string): number {
  const n = nonNegativeInteger(value, field);
  if (n > max) throw new FieldError(field, `${n} is more than the ${max} yen ${what} a terminal accepts`);
  return n;
}

/** The worked example's tariff of DESIGN §2. */
export const EXAMPLE_TARIFF_JSON = frozen({
  version: 0,
  patterns: { "1": 100, "2": 200, "3": 300 },
  devices: { sensor: 5, camera: 10 },
  contracts: { single: 1.0, multiple: 0.9, continuous: 0.8 },
  imageYen: 0,
  yenPerCount: 10,
});

/**
 * Converts a decimal coefficient such as 0.9 to per-mille (900). Only three decimals are
 * meaningful; anything finer is refused rather than silently rounded.
 */
export function coefficientToPermille(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > MAX_PERMILLE / 1000) {
    throw new FieldError(field, `must be a coefficient greater than 0 and at most ${MAX_PERMILLE / 1000}, got ${describe(value)}`);
  }
  const permille = Math.round(value * 1000);
  // checked before the decimals: 1e-10 would otherwise pass as per-mille 0 (free guarding)
  if (permille < MIN_PERMILLE) throw new FieldError(field, `must be at least ${MIN_PERMILLE / 1000} (the finest coefficient), got ${value}`);
  if (Math.abs(permille - value * 1000) > 1e-6) {
    throw new FieldError(field, `has more than three decimals (${value})`);
  }
  return permille;
}

export function permilleToCoefficient(permille: number): number {
  return permille / 1000;
}

export function isContract(value: unknown): value is Contract {
  return typeof value === "string" && (CONTRACTS as readonly string[]).indexOf(value) >= 0;
}

/** Parses and validates a tariff; a FieldError names the first bad field. */
export function parseTariff(input: unknown): Tariff {
  if (!isRecord(input)) throw new FieldError("tariff", "must be an object");
  onlyKeys(input, ["version", "patterns", "devices", "contracts", "imageYen", "yenPerCount"], "");
  const version = input.version === undefined ? 0 : nonNegativeInteger(input.version, "version");

  const patternsIn = input.patterns;
  if (!isRecord(patternsIn)) throw new FieldError("patterns", "must be an object of pattern number to yen per hour");
  const patterns: Record<number, number> = {};
  let patternCount = 0;
  for (const key of Object.keys(patternsIn)) {
    if (!PATTERN_KEY.test(key)) throw new FieldError(`patterns.${key}`, "pattern must be a number from 1 to 99");
    patterns[Number(key)] = boundedYen(patternsIn[key], `patterns.${key}`, MAX_PATTERN_YEN, "per hour for a pattern");
    patternCount++;
  }
  if (patternCount === 0) throw new FieldError("patterns", "must name at least one pattern");

  const devicesIn = input.devices;
  if (!isRecord(devicesIn)) throw new FieldError("devices", "must be an object of device kind to yen per hour");
  onlyKeys(devicesIn, DEVICE_KINDS, "devices");
  const deviceYen = (kind: DeviceKind) => boundedYen(devicesIn[kind], `devices.${kind}`, MAX_DEVICE_YEN, "per hour for a device");
  const sensor = deviceYen("sensor");
  const camera = deviceYen("camera");
  const devices: Record<DeviceKind, number> = {
    sensor,
    camera,
    door: devicesIn.door === undefined ? sensor : deviceYen("door"),
    smoke: devicesIn.smoke === undefined ? sensor : deviceYen("smoke"),
  };

  const contractsIn = input.contracts;
  if (!isRecord(contractsIn)) throw new FieldError("contracts", "must be an object of contract to coefficient");
  onlyKeys(contractsIn, CONTRACTS, "contracts");
  const contractsPermille = {} as Record<Contract, number>;
  for (const contract of CONTRACTS) {
    contractsPermille[contract] = coefficientToPermille(contractsIn[contract], `contracts.${contract}`);
  }

  const imageYen = input.imageYen === undefined ? 0 : boundedYen(input.imageYen, "imageYen", MAX_IMAGE_YEN, "per image");
  const yenPerCount = boundedYen(input.yenPerCount, "yenPerCount", MAX_YEN_PER_COUNT, "per count");
  if (yenPerCount === 0) throw new FieldError("yenPerCount", "must be at least 1");

  return { version, patterns, devices, contractsPermille, imageYen, yenPerCount };
}

/** The tariff back in its JSON form (for storage and reports). */
export function tariffToJson(tariff: Tariff): Record<string, unknown> {
  const patterns: Record<string, number> = {};
  for (const key of Object.keys(tariff.patterns)) patterns[key] = tariff.patterns[Number(key)];
  const contracts: Record<string, number> = {};
  for (const c of CONTRACTS) contracts[c] = permilleToCoefficient(tariff.contractsPermille[c]);
  return {
    version: tariff.version,
    patterns,
    devices: { ...tariff.devices },
    contracts,
    imageYen: tariff.imageYen,
    yenPerCount: tariff.yenPerCount,
  };
}

export function hasPattern(tariff: Tariff, pattern: number): boolean {
  return Object.prototype.hasOwnProperty.call(tariff.patterns, pattern);
}
