import { Meter, meterAdd } from "./contract";
import { DeviceCounts, accrue, imageRateSeconds, yenPerHour } from "./fee";
import { CONTRACTS, Tariff, isContract } from "./tariff";

/**
 * Billing a period's intervals (DESIGN §2): the one loop over "what operated, under which terms,
 * for how long". The terminal's history bills each interval as it closes through `billInterval`;
 * the center refolds the intervals a period report names through `foldIntervals`, which takes the
 * very same step per interval. Neither re-implements it.
 */

/** A billed step: the contract meter after it and the rate-seconds it added. */
export interface Billed {
  readonly meter: Meter;
  readonly rateSeconds: number;
}

/** One interval of `seconds` with `devices` operating under `pattern`, at coefficient `permille`. */
export function billInterval(meter: Meter, tariff: Tariff, pattern: number, devices: DeviceCounts, seconds: number, permille: number): Billed {
  const rateSeconds = accrue(yenPerHour(tariff, pattern, devices), seconds);
  return { meter: meterAdd(meter, permille, rateSeconds), rateSeconds };
}

/** `images` images sent, billed at once at the image price at coefficient `permille`. */
export function billImages(meter: Meter, tariff: Tariff, images: number, permille: number): Billed {
  const rateSeconds = imageRateSeconds(tariff, images);
  return { meter: meterAdd(meter, permille, rateSeconds), rateSeconds };
}

/**
 * A reported interval: [from, to, sensor, camera, door, smoke, tariffVersion, permille, images];
 * reports from before images were tied to intervals have eight elements (their images are the
 * period's, billed after the last interval).
 */
export type IntervalRow = readonly number[];

/** What a period report names, to be refolded. */
export interface FoldInput {
  start: number;
  end: number;
  pattern: number;
  contract: string;
  intervals: readonly IntervalRow[];
  images: number;
  /** the terms the period reports (images of a period without intervals are billed under them) */
  tariffVersion?: number | null;
  permille: number;
}

export interface Fold extends Billed {
  /** seconds the intervals cover */
  readonly seconds: number;
  /** the terms of the last interval billed (images are billed under them); null: no interval */
  readonly last: { readonly version: number; readonly permille: number; readonly tariff: Tariff | undefined } | null;
  /** what does not hold: intervals outside the period, versions never issued, coefficients no contract has */
  readonly problems: readonly string[];
}

/** True if `row` has the shape of a reported interval (eight or nine non-negative safe integers, from ≤ to). */
export function isIntervalRow(row: unknown): row is IntervalRow {
  return Array.isArray(row) && (row.length === 8 || row.length === 9) && row.every((n) => Number.isSafeInteger(n) && n >= 0) && row[1] >= row[0];
}

/**
 * Refolds a period's intervals and images onto `before`, each interval priced with the tariff
 * version it names (`tariffOf`). A coefficient that no contract of that version has is billed at
 * the period's contract's coefficient (so a lie never changes the sum) and named in `problems`;
 * an interval under a version never issued adds nothing and is named.
 */
export function foldIntervals(tariffOf: (version: number) => Tariff | undefined, before: Meter, p: FoldInput): Fold {
  const problems: string[] = [];
  let meter = before;
  let rateSeconds = 0;
  let seconds = 0;
  let previousTo = p.start;
  let last: { version: number; permille: number; tariff: Tariff | undefined } | null = null;
  let images = 0;
  for (const iv of p.intervals) {
    const [from, to, sensor, camera, door, smoke, version, permille] = iv;
    const ivImages = iv.length > 8 ? iv[8] : 0;
    images += ivImages;
    if (from < previousTo || to > p.end) problems.push(`interval ${from}–${to} is outside the period or overlaps another`);
    previousTo = Math.max(previousTo, to);
    const tariff = tariffOf(version);
    last = { tariff, version, permille };
    seconds += to - from;
    if (!tariff) {
      problems.push(`tariff version ${version} is not one the center issued`);
      continue;
    }
    let billed = permille;
    if (!CONTRACTS.some((c) => tariff.contractsPermille[c] === permille)) {
      problems.push(`per-mille ${permille} is no contract's coefficient under tariff version ${version}`);
      billed = tariff.contractsPermille[isContract(p.contract) ? p.contract : "single"];
    }
    last.permille = billed;
    if (tariff.patterns[p.pattern] === undefined) {
      problems.push(`pattern ${p.pattern} is not in tariff version ${version}`);
      continue;
    }
    const step = billInterval(meter, tariff, p.pattern, { sensor, camera, door, smoke }, to - from, billed);
    meter = step.meter;
    rateSeconds += step.rateSeconds;
    if (ivImages > 0) {
      // the interval's images, under its terms (the terminal billed them in the same segment)
      const shot = billImages(meter, tariff, ivImages, billed);
      meter = shot.meter;
      rateSeconds += shot.rateSeconds;
    }
  }
  if (images > p.images) problems.push(`intervals name ${images} images, the period ${p.images}`);
  const rest = p.images - images;
  const imageTariff = last ? last.tariff : tariffOf(p.tariffVersion ?? 0);
  if (imageTariff && rest > 0) {
    const step = billImages(meter, imageTariff, rest, last ? last.permille : p.permille);
    meter = step.meter;
    rateSeconds += step.rateSeconds;
  }
  return { meter, rateSeconds, seconds, last, problems };
}

