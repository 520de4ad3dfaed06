export type EngineName = "xs" | "node";
export const ENGINES: readonly EngineName[] = ["xs", "node"];

/** XS meter figures: deterministic counts, usable as cost figures. */
export interface Meter {
  /** compute units summed over every call */
  compute: number;
  /** compute units of the last call */
  lastCompute: number;
  /** bytes the XS heap has allocated (high water) */
  allocate: number;
  /** slots in use after the last call */
  heapCount: number;
  calls: number;
}

/** One firmware instance on one engine: the bundle evaluated, a command port, a host line. */
export interface Engine {
  readonly name: EngineName;
  /** Sends a command to the firmware (host-sim/firmware-entry.ts) and returns its JSON reply. */
  command(request: string): Promise<string>;
  /** Meter figures (XS only). */
  meter(): Meter | null;
  close(): Promise<void>;
}

export function isEngineName(s: unknown): s is EngineName {
  return s === "xs" || s === "node";
}
