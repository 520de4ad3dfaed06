/**
 * The simulator's virtual clock. Batch runs jump from one timer to the next (a week takes well
 * under a second); interactive runs follow real time multiplied by `speed`.
 */
export class VirtualClock {
  #now: number;
  #speed = 1;
  #realBase = 0;
  #virtualBase = 0;
  #realNow: () => number;

  constructor(startMs: number, realNow: () => number = () => performance.now()) {
    this.#now = startMs;
    this.#realNow = realNow;
  }

  get now(): number {
    return this.#now;
  }

  get speed(): number {
    return this.#speed;
  }

  /** Moves to `ms` (never backwards by accident: use jump for a deliberate change). */
  advanceTo(ms: number): void {
    if (ms > this.#now) this.#now = ms;
  }

  /** A deliberate jump, forwards or back (a time sync, a user setting the clock). */
  jump(ms: number): void {
    this.#now = ms;
    this.#anchor();
  }

  /** Starts following real time at `speed` × (1 = real time, 3600 = an hour a second). */
  follow(speed: number): void {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError("speed must be a positive number");
    this.#speed = speed;
    this.#anchor();
  }

  /** Where real time has taken the clock since `follow` (not applied until advanceTo). */
  target(): number {
    return Math.floor(this.#virtualBase + (this.#realNow() - this.#realBase) * this.#speed);
  }

  #anchor(): void {
    this.#realBase = this.#realNow();
    this.#virtualBase = this.#now;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `8d`, `1h30m`, `45s`, `250ms` → milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(s)) throw new Error(`bad duration ${JSON.stringify(text)} (use e.g. 90m, 8d, 1h30m)`);
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNITS[m[2]];
  return total;
}
