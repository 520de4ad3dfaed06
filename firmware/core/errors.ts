/** An input was rejected; `field` names the offending field as a path, e.g. `periods[1].end`. */
export class FieldError extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "FieldError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
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
