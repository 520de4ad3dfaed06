import { parseDuration } from "../clock";
import { PinMode, type Gpio } from "../io/gpio";
import { manifestConfig } from "../project";
import { ACTIONS, ScriptError } from "../script";
import type { SimPlugin, Simulator } from "../simulator";

/**
 * A 4x4 membrane keypad at the pin level: a pressed key joins its row line to its column line.
 * The firmware drives the rows and reads the columns with pull-ups; a column reads low when a
 * pressed key joins it to a row the firmware drives low. Presses and releases happen on the
 * host's timeline in virtual time, with contact bounce, so the driver's scan and debounce are
 * really exercised.
 */

export const LEGEND = ["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"];

export interface KeypadTiming {
  /** how long a finger holds a key */
  holdMs: number;
  /** between releasing one key and pressing the next */
  gapMs: number;
  /** contact bounce: this many level flips, 1 ms apart, at press and at release */
  bounces: number;
}

export const DEFAULT_TIMING: KeypadTiming = { holdMs: 90, gapMs: 120, bounces: 3 };

export class KeypadMatrix implements SimPlugin {
  readonly name = "keypad";
  readonly rows: readonly number[];
  readonly columns: readonly number[];
  #gpio: Gpio;
  #schedule: (delayMs: number, run: () => void) => () => void;
  #down = new Set<number>();
  #busyUntil = 0;
  #now: () => number;
  /** key presses made (by scripts or the web page), and what was typed */
  pressed = 0;
  typed = "";
  timing: KeypadTiming;

  constructor(
    gpio: Gpio,
    schedule: (delayMs: number, run: () => void) => () => void,
    now: () => number,
    pins: { rows: readonly number[]; columns: readonly number[] },
    timing: KeypadTiming = DEFAULT_TIMING,
  ) {
    if (pins.rows.length * pins.columns.length !== LEGEND.length) throw new Error("keypad: a 4x4 matrix needs 4 rows and 4 columns");
    this.#gpio = gpio;
    this.#schedule = schedule;
    this.#now = now;
    this.rows = pins.rows.slice();
    this.columns = pins.columns.slice();
    this.timing = { ...timing };
    gpio.addResolver((pin, g) => this.#resolve(pin, g));
  }

  snapshot(): Record<string, unknown> {
    return { keypad: { pressed: this.pressed, down: [...this.#down].map((k) => LEGEND[k]) } };
  }

  /** The key is down from now until `release` (no bounce): for tests of held keys. */
  hold(key: string): void {
    this.#set(this.#index(key), true);
  }

  release(key: string): void {
    this.#set(this.#index(key), false);
  }

  /**
   * Types `seq` as a person would: each key pressed for holdMs, released, the next after gapMs,
   * each edge bouncing. Keys queue after whatever is being typed. Returns when (virtual ms) the
   * last key is released and settled.
   */
  type(seq: string): number {
    const indexes = [...seq].filter((c) => c !== " ").map((c) => this.#index(c));
    let t = Math.max(this.#now(), this.#busyUntil);
    const { holdMs, gapMs, bounces } = this.timing;
    for (const k of indexes) {
      const at = t - this.#now();
      for (let b = 0; b < bounces; b++) this.#schedule(at + b, () => this.#set(k, b % 2 === 0));
      this.#schedule(at + bounces, () => {
        this.#set(k, true);
        this.pressed++;
        this.typed += LEGEND[k];
      });
      const up = at + holdMs;
      for (let b = 0; b < bounces; b++) this.#schedule(up + b, () => this.#set(k, b % 2 === 1));
      this.#schedule(up + bounces, () => this.#set(k, false));
      t += holdMs + bounces + gapMs;
    }
    this.#busyUntil = t;
    return t;
  }

  /** The legend of a key name: digits, A-D, * and #. */
  #index(key: string): number {
    const i = LEGEND.indexOf(key.toUpperCase());
    if (i < 0) throw new ScriptError(`keypad has no key ${JSON.stringify(key)} (keys: 0-9 A-D * #)`);
    return i;
  }

  #set(k: number, down: boolean): void {
    if (down === this.#down.has(k)) return;
    if (down) this.#down.add(k);
    else this.#down.delete(k);
    this.#gpio.changed();
  }

  #resolve(pin: number, gpio: Gpio): number | undefined {
    const c = this.columns.indexOf(pin);
    if (c < 0 || this.#down.size === 0) return undefined;
    const mode = gpio.mode(pin);
    if (mode === undefined || mode === PinMode.Output) return undefined;
    for (const k of this.#down) {
      if (k % 4 !== c) continue;
      const row = this.rows[Math.floor(k / 4)];
      if (gpio.driven(row) === 0) return 0; // joined to a row held low
    }
    return undefined;
  }
}

/** Attaches the keypad on the pins the manifest's config gives (config.keypad.rows/columns). */
export function attachKeypad(sim: Simulator, config: Record<string, any> = manifestConfig()): KeypadMatrix {
  const pins = { rows: config.keypad?.rows ?? [13, 14, 27, 23], columns: config.keypad?.columns ?? [26, 25, 33, 32] };
  return sim.use(new KeypadMatrix(sim.io.gpio, (d, run) => sim.io.schedule(d, run), () => sim.clock.now, pins));
}

/**
 * Script action `keys {"seq": "A1#", "holdMs"?: n, "gapMs"?: n, "then"?: "2s"}`: types the keys in
 * virtual time and waits until the last one is released and debounced (plus `then`, default 200ms).
 */
ACTIONS["keys"] = async (sim, action) => {
  if (typeof action.seq !== "string" || action.seq.length === 0) throw new ScriptError('keys needs seq, e.g. "seq": "A1#"');
  if (!sim.hasPlugin("keypad")) throw new ScriptError("keys: this simulator has no keypad");
  const keypad = sim.plugin<KeypadMatrix>("keypad");
  const timing = { ...keypad.timing };
  for (const f of ["holdMs", "gapMs"] as const) {
    const v = action[f];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 60000) throw new ScriptError(`keys: ${f} must be 1..60000 ms`);
    timing[f] = v;
  }
  const saved = keypad.timing;
  keypad.timing = timing;
  let done: number;
  try {
    done = keypad.type(action.seq);
  } finally {
    keypad.timing = saved;
  }
  const then = action.then === undefined ? 200 : typeof action.then === "string" ? parseDuration(action.then) : NaN;
  if (!Number.isFinite(then)) throw new ScriptError('keys: then must be a duration like "2s"');
  await sim.runUntil(done + then);
  return undefined;
};

/**
 * Script action `ui.card {"counts": 472}` (or null): what the UI is told the card in the slot
 * holds, for runs without the card reader's emulation. With the card reader attached, insert a
 * card instead.
 */
ACTIONS["ui.card"] = async (sim, action) => {
  const counts = action.counts;
  if (counts !== null && (typeof counts !== "number" || !Number.isInteger(counts))) throw new ScriptError("ui.card needs counts: an integer or null");
  await sim.command("ui.card", { counts });
  return undefined;
};
