/** The refusals a program acts on (the terminal's screens word them for a 20-column LCD). */
export type ReasonCode =
  | "year"
  | "month"
  | "day"
  | "hour"
  | "minute"
  | "end-before-start"
  | "pattern"
  | "too-many-devices"
  | "too-few-sensors"
  | "too-few-cameras"
  | "unknown-device"
  | "outside-rental"
  | "overlap"
  | "single-contract";

/** Why a value was refused, beside the message: the rule broken and the numbers it names. */
export interface Reason {
  readonly code: ReasonCode;
  /** the number refused (a year, month, day, hour, minute, pattern, device count), or with
   * "overlap" the index of the period refused */
  readonly value?: number;
  /** with "day": the month; with "overlap": the index of the period it overlaps */
  readonly other?: number;
}

/** An input was rejected; `field` names the offending field as a path, e.g. `periods[1].end`. */
export class FieldError extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "FieldError";
  readonly field: string;
  /** the rule broken, for a program; null where only the message says it */
  readonly reason: Reason | null;
  constructor(field: string, message: string, reason: Reason | null = null) {
    super(`${field}: ${message}`);
    this.field = field;
    this.reason = reason;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-negative safe integer, or a FieldError naming `field`. */
export function nonNegativeInteger(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new FieldError(field, `must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 24 ? value.slice(0, 24) + "…" : value);
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

/** Rejects keys of `obj` that are not in `allowed`, naming the first unknown one. */
export function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (allowed.indexOf(key) < 0) throw new FieldError(path ? `${path}.${key}` : key, "unknown field");
  }
}
