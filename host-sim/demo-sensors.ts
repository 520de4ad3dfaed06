import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { DemoClockError } from "./demo-clock";
import { type SensorField, type SensorMemory, sensorMemoryProblem } from "./devices/sensors";

/**
 * The demo's field devices' own flash on disk (`sensors.json` beside the terminal's flash): each
 * sensor's and camera's transmit counter, the terminal counter it last accepted and its event
 * number. Without it a restarted demo's devices would count from 0 again and the terminal, which
 * remembers their counters, would refuse every frame as a replay (sensors lost, no alarm).
 * Written ahead like the clock file: the counter is saved RESERVE frames ahead, so after a crash a
 * device goes on above whatever it sent; a graceful stop writes the exact values.
 */
const FORMAT = 1;
const RESERVE = 10_000;
const MAX_COUNTER = 0xffffffff;


/** The devices' memories saved in `path` by ID ({} when there is no file); a bad file is refused, naming what is wrong. */
export function readSensorMemory(path: string): Record<string, SensorMemory> {
  if (!existsSync(path)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new DemoClockError(`${path}: not JSON (${(e as Error).message})`);
  }
  const o = data as { format?: unknown; devices?: unknown };
  if (!o || typeof o !== "object" || o.format !== FORMAT) throw new DemoClockError(`${path}: format must be ${FORMAT}`);
  if (!o.devices || typeof o.devices !== "object" || Array.isArray(o.devices)) throw new DemoClockError(`${path}: devices must be an object by ID`);
  const out: Record<string, SensorMemory> = {};
  for (const [id, m] of Object.entries(o.devices as Record<string, unknown>)) {
    if (!/^[ABCD][0-9]{4}$/.test(id)) throw new DemoClockError(`${path}: ${JSON.stringify(id)} is not an ID code`);
    const r = m as Record<string, unknown> | null;
    if (!r || typeof r !== "object") throw new DemoClockError(`${path}: ${id} must be an object`);
    const problem = sensorMemoryProblem(r);
    if (problem) throw new DemoClockError(`${path}: ${id}.${problem.field} must be ${problem.want}`);
    out[id] = { counter: r.counter as number, terminalCounter: r.terminalCounter as number, eventNumber: r.eventNumber as number };
  }
  return out;
}

export class DemoSensorFile {
  readonly path: string;
  #field: SensorField;
  /** what the file says, by ID */
  #saved: Record<string, SensorMemory> = {};

  constructor(path: string, field: SensorField) {
    this.path = path;
    this.#field = field;
    this.keep();
  }

  /** Before the simulator runs on: the file stays ahead of every device's counter and holds its event number. */
  keep(): void {
    const stale = this.#field.devices().some((d) => {
      const s = this.#saved[d.id];
      const m = d.memory();
      return !s || m.counter >= s.counter || m.eventNumber !== s.eventNumber || m.terminalCounter > s.terminalCounter + RESERVE;
    });
    if (stale) this.#write(RESERVE);
  }

  /** A graceful stop: the exact values. */
  stop(): void {
    this.#write(0);
  }

  #write(reserve: number): void {
    const devices: Record<string, SensorMemory> = {};
    for (const d of this.#field.devices()) {
      const m = d.memory();
      devices[d.id] = { ...m, counter: Math.min(MAX_COUNTER, m.counter + reserve) };
    }
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, devices }) + "\n");
    renameSync(tmp, this.path);
    this.#saved = devices;
  }
}
