import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

/**
 * The demo's virtual clock on disk (`demo.json` beside the terminal's flash), so that a restart
 * resumes where the terminal was and time never runs backwards for it. Written ahead: before the
 * simulator runs to a time, the file already says at least that time (plus a margin, so the file
 * is not rewritten at every step). A crash resumes at the promised time: the terminal sees a power
 * cut of at most the margin. A graceful stop writes the exact time (after the terminal's
 * checkpoint), so a restart goes on at the very instant it stopped.
 */
export class DemoClockError extends Error {}

const FORMAT = 1;

/** The clock saved in `path` (ms since 1970), or null when there is no file. */
export function readDemoClock(path: string): number | null {
  if (!existsSync(path)) return null;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new DemoClockError(`${path}: not JSON (${(e as Error).message})`);
  }
  const o = data as { format?: unknown; clockMs?: unknown };
  if (!o || typeof o !== "object" || o.format !== FORMAT) throw new DemoClockError(`${path}: format must be ${FORMAT}`);
  if (typeof o.clockMs !== "number" || !Number.isSafeInteger(o.clockMs) || o.clockMs < 0) throw new DemoClockError(`${path}: clockMs must be a non-negative integer`);
  return o.clockMs;
}

export class DemoClockFile {
  readonly path: string;
  #saved: number;
  #marginMs: number;

  /** `startMs`: where the clock starts (written now); `marginMs`: how far ahead each write promises. */
  constructor(path: string, startMs: number, marginMs: number) {
    if (!(marginMs >= 0)) throw new RangeError("marginMs must be >= 0");
    this.path = path;
    this.#marginMs = Math.ceil(marginMs);
    this.#saved = -1;
    this.#write(startMs);
  }

  /** The time the file holds (the clock never resumes earlier than this). */
  get saved(): number {
    return this.#saved;
  }

  /** Before the simulator runs to `targetMs`: make sure the file says at least that. */
  promise(targetMs: number): void {
    if (targetMs > this.#saved) this.#write(targetMs + this.#marginMs);
  }

  /** A graceful stop at `nowMs` (after the terminal's checkpoint): the exact time to resume at. */
  stop(nowMs: number): void {
    this.#write(nowMs);
  }

  #write(ms: number): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, clockMs: ms, time: new Date(ms).toISOString() }) + "\n");
    renameSync(tmp, this.path);
    this.#saved = ms;
  }
}
