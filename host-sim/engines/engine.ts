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
  /** slots in use after the last call: the live ones after the last collection plus every slot
   * taken since (xsnap's currentHeapCount), so its growth over calls with no collection between
   * is what they allocated */
  heapCount: number;
  calls: number;
  /** collections XS ran on its own (the slot count fell from one call to the next) */
  collections: number;
}

/**
 * What the XS heap holds after a forced collection, read from an xsnap snapshot of the machine
 * (its BLOC and HEAP sections): every live slot and every live chunk byte.
 */
export interface LiveMemory {
  slots: number;
  chunkBytes: number;
  /** bytes per slot on this host (16 on the ESP32's 32-bit XS) */
  slotBytes: number;
  /** the snapshot itself, for a census of who holds what (host-sim/engines/xs-heap.ts) */
  snapshot: Uint8Array;
}

/** One firmware instance on one engine: the bundle evaluated, a command port, a host line. */
export interface Engine {
  readonly name: EngineName;
  /** Sends a command to the firmware (host-sim/firmware-entry.ts) and returns its JSON reply. */
  command(request: string): Promise<string>;
  /** Meter figures (XS only). */
  meter(): Meter | null;
  /** Live slots and chunk bytes after a forced collection (XS only). */
  liveMemory?(): Promise<LiveMemory>;
  /** Forces a collection and returns the live slots after it (XS only; the meter's heapCount then). */
  collect?(): Promise<number>;
  close(): Promise<void>;
}

export function isEngineName(s: unknown): s is EngineName {
  return s === "xs" || s === "node";
}
